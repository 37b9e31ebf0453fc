"""The public catalogue: the list of courses and a course's page."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import Enum
from typing import TypeVar

from flask import Response, abort, current_app, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup, escape
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
    seconds = current_app.config["CATALOGUE_CACHE_SECONDS"]
    if current_user.is_authenticated:
        content = _signed_in_course(course, now, today, seconds)
    else:
        # Every visitor is offered the same: kept whole, for as long, under what the page
        # shows and until the first moment its classes' enrolment opens or closes.
        content = caching.kept_text_until(
            lambda: _course_key(course, today, "course-page"),
            seconds,
            lambda: _render_course(
                catalogue.course_page(course, current_user, now=now, today=today)
            ),
            now=now,
        )
    # Our own autoescaped template rendered it: it is HTML already.
    return render_template(
        "catalogue/detail.html",
        course=course,
        content=Markup(content),  # noqa: S704
    )


def _course_key(course: Course, today: date, kind: str, *, with_path: bool = True) -> str:
    """What a course page depends on: the language, the path as asked when the page holds
    the log-in link that leads back to it, the Hong Kong day (which classes are upcoming) and
    the course's data as its page shows it."""
    version = catalogue.course_page_version(course, today=today)
    path = request.path if with_path else ""
    return f"{kind}:{get_locale()}:{today}:{path}:{version}"


_OFFER_TEMPLATE_NAMES = {
    "ViewerAction": enrolment_offers.ViewerAction,
    "REQUEST_ACTIONS": enrolment_offers.REQUEST_ACTIONS,
    "ObstacleKind": enrolment_offers.ObstacleKind,
    "Availability": catalogue.Availability,
}


def _render_course(
    page: catalogue.CoursePage, *, actions_apart: bool = False
) -> tuple[str, datetime | None]:
    """The course's part of the page, and until when it holds; with ``actions_apart`` each
    class's action is a marker for :func:`_with_reader_actions`."""
    text = render_template(
        "catalogue/_course.html",
        course=page.course,
        page=page,
        actions_apart=actions_apart,
        **_OFFER_TEMPLATE_NAMES,
    )
    return text, page.holds_until


def _signed_in_course(course: Course, now: datetime, today: date, seconds: int) -> str:
    """The course's part of the page for a signed-in reader: what they may do in each class
    depends on them and is worked out afresh; the rest, the same for every reader, is kept
    as the catalogue's results are (the classes' trainers are read only when it is not)."""
    if seconds <= 0:
        return _render_course(catalogue.course_page(course, current_user, now=now, today=today))[0]
    key = _course_key(course, today, "course-page-shared", with_path=False)
    shared = caching.text_holding(key, now)
    page = catalogue.course_page(
        course, current_user, now=now, today=today, with_trainers=shared is None
    )
    if shared is None:
        shared, until = _render_course(page, actions_apart=True)
        caching.keep_text_until(key, shared, until, seconds, now)
    return _with_reader_actions(shared, page)


_ACTIONS_END = "<!--offer-action-end-->"


def _with_reader_actions(shared: str, page: catalogue.CoursePage) -> str:
    """The kept part of a course page with the reader's action in each class put in its
    marker. A class the kept part does not show (it was kept a moment before the class was
    added) gets none; the next version of the page shows it."""
    actions = render_template(
        "catalogue/_offer_actions.html", page=page, **_OFFER_TEMPLATE_NAMES
    ).split(_ACTIONS_END)
    for offer, action in zip(page.offers, actions, strict=False):
        marker = f"<!--offer-action:{escape(offer.course_class.code)}-->"
        shared = shared.replace(marker, action, 1)
    return shared
