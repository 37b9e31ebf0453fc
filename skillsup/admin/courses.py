"""Programme administration: courses."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import Field

from .. import permissions
from ..audit_text import readable_entries
from ..extensions import db
from ..forms import ActionForm
from ..models import Course, CourseStatus, SkillArea, User
from ..services import audit, courses, funding_schemes
from ..web import current_actor, page_number, unit_of_work
from .course_forms import CourseFilterForm, CourseForm, course_form_data

E = TypeVar("E", bound=enum.Enum)


def _enum_or_none(enum_class: type[E], field: Field) -> E | None:
    if not field.data or field.errors:
        return None
    return enum_class(field.data)


def course_list() -> str:
    form = CourseFilterForm(request.args)
    form.validate()
    status = _enum_or_none(CourseStatus, form.status)
    skill_area = _enum_or_none(SkillArea, form.skill_area)
    q = form.q.data if not form.q.errors else None
    page = db.paginate(
        courses.course_admin_list(q, status, skill_area),
        page=page_number(),
        per_page=25,
        max_per_page=100,
        error_out=False,
    )
    class_counts = courses.class_counts(course.id for course in page.items)
    filters = {
        "q": q or "",
        "status": status.value if status else "",
        "skill_area": skill_area.value if skill_area else "",
    }
    return render_template(
        "admin/courses/list.html",
        form=form,
        page=page,
        class_counts=class_counts,
        filters=filters,
    )


def _set_funding_choices(form: CourseForm, course: Course | None) -> None:
    """The schemes a course may be offered under: the active ones, and any it has."""
    schemes = funding_schemes.scheme_list()
    had = {scheme.id for scheme in course.funding_schemes} if course is not None else set()
    form.set_funding_choices(
        [scheme for scheme in schemes if scheme.is_active or scheme.id in had],
        str(get_locale()),
    )


def new_course() -> str | Response:
    form = CourseForm()
    form.set_prerequisite_choices(courses.prerequisite_choices())
    _set_funding_choices(form, None)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            course = courses.create_course(current_actor(), form.course_data())
            funding_schemes.set_course_schemes(current_actor(), course, form.funding_scheme_ids())
            work.flash(_("Course %(code)s has been created as a draft.", code=course.code))
        if work.succeeded:
            return redirect(url_for("admin.course_detail", course_id=course.id))
    return render_template("admin/courses/form.html", form=form, course=None)


def course_detail(course_id: int) -> str:
    course = db.get_or_404(Course, course_id)
    actions = courses.status_actions(course)
    if not permissions.can_manage_catalogue(current_actor()):
        actions = []
    return render_template(
        "admin/courses/detail.html",
        page=courses.course_admin_page(course),
        course=course,
        entries=readable_entries(audit.entries_for("courses", course.id)),
        status_buttons=[_STATUS_BUTTONS[action] for action in actions],
    )


#: What each status change's button says and does: its endpoint, label and kind.
_STATUS_BUTTONS = {
    courses.CourseAction.PUBLISH: ("admin.publish_course", _l("Publish"), "button button-primary"),
    courses.CourseAction.UNPUBLISH: ("admin.unpublish_course", _l("Unpublish"), "button"),
    courses.CourseAction.RESTORE: ("admin.unpublish_course", _l("Back to draft"), "button"),
    courses.CourseAction.ARCHIVE: ("admin.archive_course", _l("Archive"), "button button-danger"),
}


def edit_course(course_id: int) -> str | Response:
    course = db.get_or_404(Course, course_id)
    form = CourseForm(data=course_form_data(course))
    form.set_prerequisite_choices(courses.prerequisite_choices(course))
    _set_funding_choices(form, course)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            courses.update_course(current_actor(), course, form.course_data())
            funding_schemes.set_course_schemes(current_actor(), course, form.funding_scheme_ids())
            work.flash(_("The changes to %(code)s have been saved.", code=course.code))
        if work.succeeded:
            return redirect(url_for("admin.course_detail", course_id=course.id))
    return render_template("admin/courses/form.html", form=form, course=course)


def publish_course(course_id: int) -> Response:
    return _change_status(
        course_id,
        courses.publish_course,
        lambda course: _("%(code)s is now in the public catalogue.", code=course.code),
    )


def unpublish_course(course_id: int) -> Response:
    return _change_status(
        course_id,
        courses.unpublish_course,
        lambda course: _("%(code)s is a draft again.", code=course.code),
    )


def archive_course(course_id: int) -> Response:
    return _change_status(
        course_id,
        courses.archive_course,
        lambda course: _("%(code)s has been archived.", code=course.code),
    )


def _change_status(
    course_id: int,
    change: Callable[[User, Course], Any],
    success_message: Callable[[Course], str],
) -> Response:
    course = db.get_or_404(Course, course_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        change(current_actor(), course)
        work.flash(success_message(course))
    return redirect(url_for("admin.course_detail", course_id=course.id))
