"""The portal as the benchmark serves it: the production app plus two bare reference routes.

The references give every figure of the benchmark a yardstick measured in the same run on the
same machine: ``/_bench/plaintext`` is the cheapest response the application can give (no
template, no database), ``/_bench/pk/<id>`` adds exactly one primary-key query, and
``/_bench/layout`` is what every signed-in page costs before its own content: the user loaded
from the session, the page frame (menu, language switch, form tokens) rendered around one
heading. They exist only in this module, never in the application that ``create_app()`` builds
for production.

Serve with ``gunicorn 'bench.wsgi:create_bench_app()'``.
"""

from __future__ import annotations

from flask import Flask, Response, render_template
from flask_login import login_required
from sqlalchemy import select

from skillsup import create_app
from skillsup.extensions import db
from skillsup.models import Course

REFERENCE_PREFIX = "/_bench"
LAYOUT_TEMPLATE = (
    '{% extends "base.html" %}{% block title %}Layout{% endblock %}'
    "{% block content %}<h1>Layout</h1>{% endblock %}"
)


def add_reference_routes(app: Flask) -> Flask:
    """Register the reference endpoints on ``app`` (and return it)."""
    # Compiled once, as the application's own templates are.
    layout_template = app.jinja_env.from_string(LAYOUT_TEMPLATE)

    def plaintext() -> Response:
        return Response("OK", mimetype="text/plain")

    def primary_key(course_id: int) -> Response:
        code = db.session.scalar(select(Course.code).where(Course.id == course_id))
        return Response(code or "-", mimetype="text/plain")

    @login_required
    def signed_in_layout() -> str:
        return render_template(layout_template)

    app.add_url_rule(f"{REFERENCE_PREFIX}/plaintext", "bench_plaintext", plaintext)
    app.add_url_rule(f"{REFERENCE_PREFIX}/layout", "bench_layout", signed_in_layout)
    app.add_url_rule(f"{REFERENCE_PREFIX}/pk/<int:course_id>", "bench_primary_key", primary_key)
    return app


def create_bench_app() -> Flask:
    """The production application, configured from the environment, with the references."""
    return add_reference_routes(create_app())
