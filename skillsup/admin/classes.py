"""Programme administration: classes and their sessions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import SelectPagination
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import permissions
from ..audit_text import readable_entries
from ..confirmation import Confirmation, act_on_confirmation, render_confirmation
from ..extensions import db
from ..forms import ActionForm
from ..i18n import fmt_datetime
from ..models import ClassSession, ClassStatus, CourseClass, EnrolmentStatus, SkillArea, utcnow
from ..reasons import render as render_reasons
from ..services import audit, class_reopening, funding_schemes
from ..services import class_sessions as session_service
from ..services import class_status as status_service
from ..services import classes as class_service
from ..services import enrolment as enrolment_service
from ..services.class_sessions import ScheduleChange
from ..services.class_status import StatusAction
from ..services.classes import ClassListRow
from ..services.waitlist import waitlist_positions
from ..web import Work, current_actor, page_number, unit_of_work
from .class_forms import (
    CancelClassForm,
    ClassFilterForm,
    ClassForm,
    ReopenClassForm,
    SeriesForm,
    SessionForm,
)
from .enrolment_forms import AdminEnrolForm

PER_PAGE = 25


class _RowPagination(SelectPagination):
    """A page of the class list: each item a class with its enrolment counts."""

    def _query_items(self) -> list[Any]:
        statement = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return [ClassListRow(*row) for row in self._query_args["session"].execute(statement)]


def _class_or_404(class_id: int) -> CourseClass:
    return db.get_or_404(CourseClass, class_id)


def _session_or_404(course_class: CourseClass, session_id: int) -> ClassSession:
    session = db.get_or_404(ClassSession, session_id)
    if session.class_id != course_class.id:
        abort(404)
    return session


# The page holds several forms. The one posted reads the request; the others are shown
# as new (``posted=False``), so that a checkbox on by default is not read as left unticked.
def _session_form(*, posted: bool = True) -> SessionForm:
    return SessionForm(prefix="session", **({} if posted else {"formdata": None}))


def _series_form(*, posted: bool = True) -> SeriesForm:
    return SeriesForm(prefix="series", **({} if posted else {"formdata": None}))


def _cancel_form(*, posted: bool = True) -> CancelClassForm:
    return CancelClassForm(prefix="cancel", **({} if posted else {"formdata": None}))


# The class list ----------------------------------------------------------------------------


def class_list() -> str:
    form = ClassFilterForm(request.args)
    form.validate()
    filters = class_service.ClassFilters(
        query=form.q.data if not form.q.errors else None,
        status=ClassStatus(form.status.data)
        if form.status.data and not form.status.errors
        else None,
        skill_area=SkillArea(form.skill_area.data)
        if form.skill_area.data and not form.skill_area.errors
        else None,
        start_month=form.month.data if not form.month.errors else None,
    )
    page = _RowPagination(
        select=class_service.class_list(filters),
        session=db.session,
        page=page_number(),
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
        error_out=False,
    )
    args = {
        "q": form.q.data or "",
        "status": form.status.data or "",
        "skill_area": form.skill_area.data or "",
        "month": request.args.get("month", ""),
    }
    return render_template("admin/classes/list.html", form=form, page=page, args=args)


# Creating and editing a class --------------------------------------------------------------


def _class_form_choices(form: ClassForm, course_class: CourseClass | None = None) -> None:
    zh = str(get_locale()).startswith("zh")
    course_id = course_class.course_id if course_class else None
    form.course_id.choices = [SelectChoice("0", _("Choose a course"))] + [
        SelectChoice(str(cid), f"{code} · {title_zh if zh and title_zh else title_en}")
        for cid, code, title_en, title_zh in db.session.execute(
            class_service.course_choices(include_id=course_id)
        )
    ]
    had = {s.id for s in course_class.funding_schemes} if course_class else set()
    form.set_funding_choices(
        [s for s in funding_schemes.scheme_list() if s.is_active or s.id in had], str(get_locale())
    )
    assigned = [t.id for t in course_class.trainers] if course_class else []
    form.trainer_ids.choices = [
        SelectChoice(str(uid), name if active else _("%(name)s (deactivated)", name=name))
        for uid, name, _email, active in db.session.execute(
            class_service.trainer_choices(include_ids=assigned)
        )
    ]


def class_create() -> str | Response:
    form = ClassForm()
    _class_form_choices(form)
    if request.method == "GET":
        form.course_id.data = request.args.get("course_id", 0, type=int)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            course_class = class_service.create_class(current_actor(), form.to_data())
            if form.chosen_schemes() is not None:
                funding_schemes.set_class_schemes(
                    current_actor(), course_class, form.chosen_schemes()
                )
            work.flash(
                _(
                    "Class %(code)s has been created as a draft. Add its sessions, then open "
                    "enrolment.",
                    code=course_class.code,
                )
            )
        if work.succeeded:
            return redirect(url_for("admin.class_detail", class_id=course_class.id))
    return render_template("admin/classes/form.html", form=form, course_class=None)


def class_edit(class_id: int) -> str | Response:
    course_class = _class_or_404(class_id)
    form = ClassForm()
    _class_form_choices(form, course_class)
    if request.method == "GET":
        form.fill_from(course_class)
    if form.validate_on_submit():
        funding_changed = False
        with unit_of_work(form) as work:
            update = class_service.update_class(current_actor(), course_class, form.to_data())
            funding_changed = _funding_differs(course_class, form.chosen_schemes())
            if funding_changed:
                funding_schemes.set_class_schemes(
                    current_actor(), course_class, form.chosen_schemes()
                )
        if work.succeeded:
            if update.changes or funding_changed:
                flash(_("Class %(code)s has been updated.", code=course_class.code), "success")
            else:
                flash(_("Nothing was changed."), "info")
            if update.promoted:
                flash(
                    ngettext(
                        "%(num)d learner has moved from the waitlist into the class.",
                        "%(num)d learners have moved from the waitlist into the class.",
                        len(update.promoted),
                    ),
                    "info",
                )
            return redirect(url_for("admin.class_detail", class_id=course_class.id))
    return render_template("admin/classes/form.html", form=form, course_class=course_class)


def _funding_differs(course_class: CourseClass, chosen: list[int] | None) -> bool:
    """Whether ``chosen`` (``None``: the course's) differs from the class's schemes now: a
    finished class may be saved unchanged, but its schemes may not change."""
    if chosen is None:
        return course_class.funding_override
    return not course_class.funding_override or set(chosen) != {
        scheme.id for scheme in course_class.funding_schemes
    }


# A class's page ----------------------------------------------------------------------------


def render_detail(
    course_class: CourseClass,
    *,
    session_form: SessionForm | None = None,
    series_form: SeriesForm | None = None,
    enrol_form: AdminEnrolForm | None = None,
) -> str:
    class_enrolments = enrolment_service.class_enrolments(course_class.id)
    me = current_actor()
    decidable = [e for e in class_enrolments if permissions.can_decide_enrolment(me, e)]
    return render_template(
        "admin/classes/detail.html",
        course_class=course_class,
        cancellation_reason=(
            render_reasons(course_class.status_reasons)
            if course_class.status == ClassStatus.CANCELLED
            else None
        ),
        early_close_reason=(
            render_reasons(course_class.status_reasons)
            if course_class.status == ClassStatus.COMPLETED
            else None
        ),
        approvable={e.id for e in decidable if e.status == EnrolmentStatus.PENDING},
        withdrawable={e.id for e in decidable if e.is_active},
        sessions_editable=not course_class.is_finished,
        counts=class_service.enrolment_counts(course_class),
        actions=status_service.allowed_actions(course_class),
        reopen_deadline=(
            class_reopening.reopen_deadline(course_class, reopen_window())
            if class_reopening.reopen_refusal(course_class, reopen_window(), utcnow()) is None
            else None
        ),
        StatusAction=StatusAction,
        session_form=session_form or _session_form(posted=False),
        series_form=series_form or _series_form(posted=False),
        entries=readable_entries(audit.entries_for("classes", course_class.id)),
        enrolments=class_enrolments,
        waitlist_positions=waitlist_positions(
            [e.id for e in class_enrolments if e.status == EnrolmentStatus.WAITLISTED]
        ),
        enrol_form=enrol_form or AdminEnrolForm(formdata=None),
        funding=funding_schemes.class_funding([course_class.id])[course_class.id],
    )


def class_detail(class_id: int) -> str:
    return render_detail(_class_or_404(class_id))


# Sessions ----------------------------------------------------------------------------------


def _flash_schedule_change(change: ScheduleChange, done: str) -> None:
    flash(done, "success")
    if change.needs_announcement:
        flash(
            ngettext(
                "%(num)d confirmed learner has been told of the change by e-mail.",
                "%(num)d confirmed learners have been told of the change by e-mail.",
                change.confirmed_learners,
            ),
            "info",
        )


def session_add(class_id: int) -> str | Response:
    course_class = _class_or_404(class_id)
    form = _session_form()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            change = session_service.add_session(
                current_actor(), course_class, form.to_data(), late_reason=form.late_reason.data
            )
        if work.succeeded:
            _flash_schedule_change(change, _("The session has been added."))
            return redirect(url_for("admin.class_detail", class_id=class_id) + "#sessions")
    return render_detail(course_class, session_form=form)


def session_edit(class_id: int, session_id: int) -> str | Response:
    course_class = _class_or_404(class_id)
    session = _session_or_404(course_class, session_id)
    form = _session_form()
    if request.method == "GET":
        form.fill_from(session)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            change = session_service.update_session(
                current_actor(), session, form.to_data(), late_reason=form.late_reason.data
            )
        if work.succeeded:
            if change.before == change.after:
                flash(_("Nothing was changed."), "info")
            else:
                _flash_schedule_change(change, _("The session has been changed."))
            return redirect(url_for("admin.class_detail", class_id=class_id) + "#sessions")
    return render_template(
        "admin/classes/session_form.html",
        form=form,
        course_class=course_class,
        session=session,
    )


def session_delete(class_id: int, session_id: int) -> Response | tuple[str, int]:
    """The confirmation page of removing a session (who is told), and removing it."""
    course_class = _class_or_404(class_id)
    session = _session_or_404(course_class, session_id)
    if request.method == "GET":
        preview = session_service.removal_preview(session)
        when = fmt_datetime(session.starts_at)
        consequences = [
            _("The session of %(when)s is removed from the timetable.", when=when),
            ngettext(
                "%(num)d confirmed learner is told of the change by e-mail.",
                "%(num)d confirmed learners are told of the change by e-mail.",
                preview.learners_told,
            ),
        ]
        return render_confirmation(
            Confirmation(
                title=_("Remove a session of %(code)s", code=course_class.code),
                action_url=url_for(
                    "admin.session_delete", class_id=class_id, session_id=session.id
                ),
                button=_("Remove the session"),
                cancel_url=url_for("admin.class_detail", class_id=class_id) + "#sessions",
                cancel_label=_("Keep the session"),
                form=ActionForm(formdata=None),
                consequences=consequences,
                refusal=None if preview.refusal is None else str(preview.refusal.message),
            )
        )
    if not ActionForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        change = session_service.remove_session(current_actor(), session)
    if work.succeeded:
        _flash_schedule_change(change, _("The session has been removed."))
    return redirect(url_for("admin.class_detail", class_id=class_id) + "#sessions")


def sessions_generate(class_id: int) -> str | Response:
    course_class = _class_or_404(class_id)
    form = _series_form()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            change = session_service.generate_sessions(
                current_actor(), course_class, form.to_spec(), late_reason=form.late_reason.data
            )
        if work.succeeded:
            _flash_schedule_change(
                change,
                ngettext(
                    "%(num)d session has been added.",
                    "%(num)d sessions have been added.",
                    len(change.after),
                ),
            )
            return redirect(url_for("admin.class_detail", class_id=class_id) + "#sessions")
    return render_detail(course_class, series_form=form)


# Status ------------------------------------------------------------------------------------

_STATUS_DONE = {
    StatusAction.OPEN_ENROLMENT: lambda code: _("Enrolment in %(code)s is open.", code=code),
    StatusAction.CLOSE_ENROLMENT: lambda code: _("Enrolment in %(code)s is closed.", code=code),
    StatusAction.START: lambda code: _("Class %(code)s is running.", code=code),
    StatusAction.COMPLETE: lambda code: _("Class %(code)s is completed.", code=code),
    StatusAction.CANCEL: lambda code: _("Class %(code)s has been cancelled.", code=code),
}


def class_status(class_id: int, action: str) -> str | Response | tuple[str, int]:
    """A status change; cancelling asks first, on its confirmation page (GET), what it does
    to the enrolments and who is told."""
    course_class = _class_or_404(class_id)
    try:
        status_action = StatusAction(action)
    except ValueError:
        abort(404)
    if status_action is StatusAction.COMPLETE:
        # Completing is closing the class: its confirmation page shows every learner's outcome
        # first (and asks an admin closing early why).
        return redirect(url_for("trainer.close", class_code=course_class.code))
    if request.method == "GET":
        if status_action is not StatusAction.CANCEL:
            raise MethodNotAllowed(valid_methods=["POST"])
        return _cancel_confirmation(course_class, _cancel_form(posted=False))
    back = url_for("admin.class_detail", class_id=class_id)
    if status_action is StatusAction.CANCEL:
        cancel_form = _cancel_form()

        def cancel(work: Work) -> None:
            change = status_service.change_status(
                current_actor(), course_class, StatusAction.CANCEL, cancel_form.reason.data
            )
            work.flash(_STATUS_DONE[StatusAction.CANCEL](course_class.code))
            if change.cancelled_enrolments:
                work.flash(
                    ngettext(
                        "%(num)d enrolment has been cancelled and the learner told.",
                        "%(num)d enrolments have been cancelled and the learners told.",
                        len(change.cancelled_enrolments),
                    ),
                    "info",
                )

        answer = act_on_confirmation(cancel_form, cancel, back)
        if isinstance(answer, Response):
            return answer
        return _cancel_confirmation(course_class, cancel_form, status=answer)
    if not ActionForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        status_service.change_status(current_actor(), course_class, status_action)
        work.flash(_STATUS_DONE[status_action](course_class.code))
    return redirect(back)


def _cancel_confirmation(
    course_class: CourseClass, form: CancelClassForm, *, status: int = 200
) -> tuple[str, int]:
    preview = status_service.cancellation_preview(course_class)
    consequences = [
        _("The class is marked cancelled, with your reason. This cannot be undone."),
    ]
    if preview.confirmed:
        consequences.append(
            ngettext(
                "%(num)d confirmed learner loses their place and is told by e-mail, with your "
                "reason.",
                "%(num)d confirmed learners lose their places and are told by e-mail, with your "
                "reason.",
                preview.confirmed,
            )
        )
    if preview.waitlisted:
        consequences.append(
            ngettext(
                "%(num)d learner on the waitlist is taken off it and told by e-mail, with your "
                "reason.",
                "%(num)d learners on the waitlist are taken off it and told by e-mail, with "
                "your reason.",
                preview.waitlisted,
            )
        )
    if preview.pending:
        consequences.append(
            ngettext(
                "%(num)d request waiting for approval is cancelled and its learner told by "
                "e-mail, with your reason.",
                "%(num)d requests waiting for approval are cancelled and their learners told "
                "by e-mail, with your reason.",
                preview.pending,
            )
        )
    if not preview.cancelled:
        consequences.append(_("Nobody is enrolled: nobody is told."))
    return render_confirmation(
        Confirmation(
            title=_("Cancel %(code)s", code=course_class.code),
            action_url=url_for(
                "admin.class_status", class_id=course_class.id, action=StatusAction.CANCEL.value
            ),
            button=_("Cancel the class"),
            cancel_url=url_for("admin.class_detail", class_id=course_class.id),
            cancel_label=_("Keep the class"),
            form=form,
            consequences=consequences,
            refusal=None if preview.refusal is None else str(preview.refusal.message),
            reason_field="reason",
        ),
        status=status,
    )


# Reopening a closed class --------------------------------------------------------------------


def reopen_window() -> timedelta:
    """How long after its closing a class may be reopened (the setting ``REOPEN_DAYS``)."""
    return timedelta(days=int(current_app.config["REOPEN_DAYS"]))


def class_reopen(class_id: int) -> Response | tuple[str, int]:
    """The confirmation page of reopening (what it withdraws, who is told), and reopening."""
    course_class = _class_or_404(class_id)
    form = ReopenClassForm()

    def reopen(work: Work) -> None:
        result = class_reopening.reopen_class(
            current_actor(), course_class, form.reason.data, reopen_window()
        )
        work.flash(
            _(
                "%(code)s has been reopened: %(learners)d learners are confirmed again "
                "and have been told, %(certificates)d certificates withdrawn.",
                code=course_class.code,
                learners=len(result.reopened),
                certificates=len(result.withdrawn),
            )
        )

    # A refusal (the class is no longer closed, the time to reopen it has passed) is shown
    # on the page again, whose preview then says why.
    answer = act_on_confirmation(
        form,
        reopen,
        url_for("admin.class_detail", class_id=class_id),
        show_every_refusal=True,
    )
    if isinstance(answer, Response):
        return answer
    preview = class_reopening.reopening_preview(course_class, reopen_window())
    return render_confirmation(
        Confirmation(
            title=_("Reopen %(code)s", code=course_class.code),
            action_url=url_for("admin.class_reopen", class_id=course_class.id),
            button=_("Reopen the class and withdraw its certificates"),
            cancel_url=url_for("admin.class_detail", class_id=course_class.id),
            form=form,
            consequences=[
                ngettext(
                    "%(num)d certificate is withdrawn: its public page then says so.",
                    "%(num)d certificates are withdrawn: their public pages then say so.",
                    len(preview.certificates),
                ),
                ngettext(
                    "%(num)d learner's outcome goes back to confirmed, and the learner is told "
                    "by e-mail, with your reason.",
                    "%(num)d learners' outcomes go back to confirmed, and each is told by "
                    "e-mail, with your reason.",
                    len(preview.enrolments),
                ),
                _(
                    "The class is running again and can be closed again later, with new "
                    "outcomes and new certificates."
                ),
                _("Everything stays in the class's history and the audit log."),
            ],
            consequences_heading=_("What reopening the class does"),
            refusal=None if preview.refusal is None else str(preview.refusal.message),
            reason_field="reason",
        ),
        status=answer,
        template="admin/classes/reopen.html",
        course_class=course_class,
        preview=preview,
    )
