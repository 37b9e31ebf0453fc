"""The public catalogue: the list of courses and a course's page."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import Enum
from typing import TypeVar

from flask import Response, abort, current_app, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
from wtforms import Field

from .. import permissions
from ..i18n import fmt_month
from ..models import Course, DeliveryMode, SkillArea, TeachingLanguage, utcnow
from ..services import caching, calendar, catalogue, enrolment, enrolment_offers
from ..timeutil import today_hk
from ..web import page_number
from .forms import CatalogueFilterForm

MONTHS_AHEAD = 12

E = TypeVar("E", bound=Enum)


def _months(today: date) -> list[date]:
    months = []
    year, month = today.year, today.month
    for _ in range(MONTHS_AHEAD):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _query_from(form: CatalogueFilterForm) -> catalogue.CatalogueQuery:
    """The search the form asks for. A filter that did not validate (a level or a month not
    among the choices, an over-long search) is left out and shown as invalid on the form:
    a shared link must still show results."""

    def valid(field: Field) -> str:
        return "" if field.errors or not field.data else str(field.data)

    def enum_or_none(enum_class: type[E], value: str) -> E | None:
        try:
            return enum_class(value) if value else None
        except ValueError:
            return None

    start_month = None
    if valid(form.start_month):
        year, month = (int(part) for part in valid(form.start_month).split("-"))
        start_month = date(year, month, 1)
    level = valid(form.qf_level)
    return catalogue.CatalogueQuery(
        q=valid(form.q),
        skill_area=enum_or_none(SkillArea, valid(form.skill_area)),
        qf_level=int(level) if level else None,
        delivery_mode=enum_or_none(DeliveryMode, valid(form.delivery_mode)),
        teaching_language=enum_or_none(TeachingLanguage, valid(form.teaching_language)),
        start_month=start_month,
        open_seats=bool(form.open_seats.data),
        sort=valid(form.sort) or "start",
        page=page_number(),
    )


def course_list() -> str:
    results = caching.kept_text(
        _results_key, current_app.config["CATALOGUE_CACHE_SECONDS"], _render_results
    )
    # Our own autoescaped template rendered it: it is HTML already.
    return render_template(
        "catalogue/list.html",
        results=Markup(results),  # noqa: S704
    )


def _results_key() -> str:
    """What the results of this request depend on: the query string as sent (it comes back
    in the form and the page links), the language, the Hong Kong day and the catalogue's
    last change."""
    args = hashlib.sha256(repr(sorted(request.args.items(multi=True))).encode()).hexdigest()
    return f"catalogue:{get_locale()}:{today_hk()}:{catalogue.last_change()}:{args}"


def _render_results() -> str:
    form = CatalogueFilterForm(request.args)
    months = _months(today_hk())
    form.set_month_choices(months, [fmt_month(m, "long_month") for m in months])
    # Invalid choices are ignored rather than refused: a shared link must still show results.
    form.validate()
    query = _query_from(form)
    page = catalogue.search_courses(query, locale=str(get_locale()))
    filtered = any(
        request.args.get(name)
        for name in (
            "q",
            "skill_area",
            "qf_level",
            "delivery_mode",
            "teaching_language",
            "start_month",
            "open_seats",
        )
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "catalogue/_results.html", form=form, page=page, filtered=filtered, args=args
    )


def class_calendar(class_code: str) -> Response:
    course_class = enrolment.find_class_by_code(class_code)
    if course_class is None or not permissions.can_see_course(current_user, course_class.course):
        abort(404)
    response = Response(calendar.class_calendar(course_class), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{course_class.code}.ics"'
    return response


def course_detail(code: str) -> str:
    course = catalogue.find_course(code, current_user)
    if course is None:
        abort(404)
    now, today = utcnow(), today_hk()
    if current_user.is_authenticated:
        # What a signed-in reader is offered depends on them: always worked out afresh.
        content = _render_course(course, now, today)[0]
    else:
        # Every visitor is offered the same: kept as the catalogue's results are, for as long,
        # under what the page shows and until the first moment its classes' enrolment opens
        # or closes.
        content = caching.kept_text_until(
            lambda: _course_key(course, today),
            current_app.config["CATALOGUE_CACHE_SECONDS"],
            lambda: _render_course(course, now, today),
            now=now,
        )
    # Our own autoescaped template rendered it: it is HTML already.
    return render_template(
        "catalogue/detail.html",
        course=course,
        content=Markup(content),  # noqa: S704
    )


def _course_key(course: Course, today: date) -> str:
    """What a visitor's course page depends on: the language, the path as asked (the log-in
    link leads back to it), the Hong Kong day (which classes are upcoming) and the course's
    data as its page shows it."""
    version = catalogue.course_page_version(course, today=today)
    return f"course-page:{get_locale()}:{today}:{request.path}:{version}"


def _render_course(course: Course, now: datetime, today: date) -> tuple[str, datetime | None]:
    """The course's part of the page for the current reader, and until when it holds."""
    page = catalogue.course_page(course, current_user, now=now, today=today)
    text = render_template(
        "catalogue/_course.html",
        course=course,
        page=page,
        ViewerAction=enrolment_offers.ViewerAction,
        REQUEST_ACTIONS=enrolment_offers.REQUEST_ACTIONS,
        ObstacleKind=enrolment_offers.ObstacleKind,
        Availability=catalogue.Availability,
    )
    return text, page.holds_until
