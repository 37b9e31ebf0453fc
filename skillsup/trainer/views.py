"""The trainer's pages: their classes, rosters, attendance, results and closing a class.

Trainers see the classes they are assigned to (another trainer's class is a 404); admins see
every class.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from .. import permissions
from ..confirmation import Confirmation, act_on_confirmation, render_confirmation
from ..forms import ActionForm
from ..labels import label
from ..models import AttendanceStatus, ClassSession, CourseClass, EnrolmentStatus
from ..services import (
    assessment_results,
    attendance_sheets,
    class_closing,
    rosters,
    shortcuts,
    trainer_home,
)
from ..services.errors import NotFound
from ..web import Work, bad_request, current_actor, unit_of_work
from .forms import CloseClassForm

MARK_PREFIX = "mark-"
#: The attendance form's "All present" button: fills in the learners not yet marked.
FILL_FIELD = "fill"
SCORE_PREFIX = "score-"
PASSED_PREFIX = "passed-"
PASSED_VALUES = {"pass": True, "fail": False, "": None}


def _class_or_404(class_code: str) -> CourseClass:
    try:
        return rosters.load_class(current_actor(), class_code)
    except NotFound:
        abort(404)


def _session_or_404(course_class: CourseClass, session_id: int) -> ClassSession:
    try:
        return rosters.load_session(course_class, session_id)
    except NotFound:
        abort(404)


def _enrolment_id(key: str, prefix: str) -> int:
    suffix = key[len(prefix) :]
    if not (suffix.isascii() and suffix.isdigit()) or len(suffix) > 18:
        bad_request(_("The form names a learner that is not in this class."))
    return int(suffix)


def _single_value(key: str) -> str:
    values = request.form.getlist(key)
    if len(values) != 1:
        bad_request(_("The form gives more than one answer for a learner."))
    return values[0]


# Home --------------------------------------------------------------------------------------


def home() -> str:
    me = current_actor()
    inviter = me.invited_by
    return render_template(
        "trainer/home.html",
        home=trainer_home.trainer_home(me),
        glance=shortcuts.trainer_glance(me),
        may_create_class=permissions.can_manage_catalogue(me),
        # Whom a trainer without classes can ask: the administrator who invited them.
        contact=inviter if inviter is not None and inviter.is_active else None,
    )


# Roster ------------------------------------------------------------------------------------


def roster(class_code: str) -> str:
    course_class = _class_or_404(class_code)
    return render_template(
        "trainer/roster.html",
        course_class=course_class,
        roster=rosters.roster(course_class),
        in_catalogue=permissions.can_see_course(None, course_class.course),
        may_schedule=permissions.can_manage_catalogue(current_actor()),
        can_download_certificates=permissions.can_download_class_certificates(
            current_actor(), course_class
        ),
    )


def roster_csv(class_code: str) -> Response:
    course_class = _class_or_404(class_code)
    headings = {
        "name": _("Name"),
        "email": _("E-mail"),
        "staff_number": _("Staff number"),
        "company": _("Company"),
        "department": _("Department"),
        "status": _("Status"),
        "reason": _("Reason"),
        "attended_sessions": _("Sessions attended"),
        "marked_sessions": _("Sessions marked"),
        "attended_hours": _("Hours attended"),
        "marked_hours": _("Hours marked"),
        "rate": _("Attendance so far (%)"),
        "at_risk": _("At risk"),
        "score": _("Score"),
        "passed": _("Passed"),
        "certificate": _("Certificate"),
    }
    labels: dict[Any, Any] = {status: label(status) for status in EnrolmentStatus}
    labels.update({True: _("Yes"), False: _("No")})
    text = rosters.roster_csv(rosters.roster(course_class), headings, labels)
    response = Response(text, mimetype="text/csv")
    response.headers.set(
        "Content-Disposition", "attachment", filename=f"{course_class.code}-roster.csv"
    )
    return response


def sign_in_sheet(class_code: str, session_id: int) -> str:
    course_class = _class_or_404(class_code)
    session = _session_or_404(course_class, session_id)
    sheet = attendance_sheets.attendance_sheet(course_class, session)
    return render_template("trainer/sign_in.html", course_class=course_class, sheet=sheet)


# Attendance --------------------------------------------------------------------------------


def _submitted_marks() -> dict[int, str]:
    marks: dict[int, str] = {}
    for key in request.form:
        if key.startswith(MARK_PREFIX):
            marks[_enrolment_id(key, MARK_PREFIX)] = _single_value(key)
    return marks


def attendance(class_code: str, session_id: int) -> str | Response | tuple[str, int]:
    course_class = _class_or_404(class_code)
    session = _session_or_404(course_class, session_id)
    form = ActionForm()
    chosen: dict[int, str] = {}
    filled: int | None = None
    status_code = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        chosen = _submitted_marks()
        if request.form.get(FILL_FIELD) == AttendanceStatus.PRESENT.value:
            # "All present" without JavaScript: fill in the learners not yet marked and show
            # the form again; nothing is saved until the trainer saves it.
            sheet = attendance_sheets.attendance_sheet(course_class, session)
            if sheet.can_mark:
                result = attendance_sheets.fill_unmarked(sheet, chosen)
                chosen, filled = result.marks, result.filled
            return render_template(
                "trainer/attendance.html",
                **_attendance_page(course_class, sheet, form, chosen, filled),
            )
        with unit_of_work() as work:
            changes = attendance_sheets.record_attendance(current_actor(), session, chosen)
            if changes:
                work.flash(
                    ngettext(
                        "Attendance saved: %(num)d change.",
                        "Attendance saved: %(num)d changes.",
                        len(changes),
                    )
                )
            else:
                work.flash(_("Nothing has changed: these marks were already saved."), "info")
        if work.succeeded:
            return redirect(
                url_for(".attendance", class_code=course_class.code, session_id=session_id)
            )
        status_code = work.status_code
    sheet = attendance_sheets.attendance_sheet(course_class, session)
    return render_template(
        "trainer/attendance.html", **_attendance_page(course_class, sheet, form, chosen, filled)
    ), status_code


def _attendance_page(
    course_class: CourseClass,
    sheet: attendance_sheets.AttendanceSheet,
    form: ActionForm,
    chosen: dict[int, str],
    filled: int | None,
) -> dict[str, Any]:
    return {
        "course_class": course_class,
        "sheet": sheet,
        "form": form,
        "chosen": chosen,
        "filled": filled,
        "fill_field": FILL_FIELD,
        "statuses": list(AttendanceStatus),
    }


# Results -----------------------------------------------------------------------------------


def _submitted_results() -> tuple[dict[int, assessment_results.ResultEntry], dict[str, str]]:
    scores: dict[int, str] = {}
    verdicts: dict[int, str] = {}
    raw: dict[str, str] = {}
    for key in request.form:
        if key.startswith(SCORE_PREFIX):
            scores[_enrolment_id(key, SCORE_PREFIX)] = raw[key] = _single_value(key)
        elif key.startswith(PASSED_PREFIX):
            verdicts[_enrolment_id(key, PASSED_PREFIX)] = raw[key] = _single_value(key)
    entries = {
        enrolment_id: assessment_results.ResultEntry(
            score=scores.get(enrolment_id),
            passed=PASSED_VALUES.get(verdicts.get(enrolment_id, ""), verdicts.get(enrolment_id)),
        )
        for enrolment_id in scores.keys() | verdicts.keys()
    }
    return entries, raw


def results(class_code: str) -> str | Response | tuple[str, int]:
    course_class = _class_or_404(class_code)
    form = ActionForm()
    errors: dict[str, Any] = {}
    submitted: dict[str, str] = {}
    status_code = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        entries, submitted = _submitted_results()
        with unit_of_work(quietly=(assessment_results.InvalidResults,)) as work:
            changes = assessment_results.record_results(current_actor(), course_class, entries)
            if changes:
                work.flash(
                    ngettext(
                        "Results saved: %(num)d change.",
                        "Results saved: %(num)d changes.",
                        len(changes),
                    )
                )
            else:
                work.flash(_("Nothing has changed: these results were already saved."), "info")
        if work.succeeded:
            return redirect(url_for(".results", class_code=course_class.code))
        if isinstance(work.refusal, assessment_results.InvalidResults):
            errors = work.refusal.errors
        status_code = work.status_code
    return render_template(
        "trainer/results.html",
        course_class=course_class,
        refusal=assessment_results.result_refusal(course_class),
        enrolments=assessment_results.result_rows(course_class),
        form=form,
        errors=errors,
        submitted=submitted,
        score_field=assessment_results.score_field,
        passed_field=assessment_results.passed_field,
    ), status_code


# Closing -----------------------------------------------------------------------------------


def close(class_code: str) -> Response | tuple[str, int]:
    course_class = _class_or_404(class_code)
    form = CloseClassForm()
    code = course_class.code

    def close_class(work: Work) -> None:
        result = class_closing.close_class(current_actor(), course_class, reason=form.reason.data)
        work.flash(
            _(
                "%(code)s is closed: %(completed)d completed, %(not_completed)d did "
                "not complete, %(certificates)d certificates issued.",
                code=code,
                completed=len(result.completed),
                not_completed=len(result.not_completed),
                certificates=len(result.certificates),
            )
        )

    answer = act_on_confirmation(
        form,
        close_class,
        url_for(".roster", class_code=code),
        refused_back=url_for(".close", class_code=code),
    )
    if isinstance(answer, Response):
        return answer
    preview = class_closing.closing_preview(course_class, actor=current_actor())
    return render_confirmation(
        Confirmation(
            title=_("Close %(code)s", code=course_class.code),
            action_url=url_for(".close", class_code=course_class.code),
            button=_("Close the class and issue certificates"),
            cancel_url=url_for(".roster", class_code=course_class.code),
            form=form,
            consequences=_closing_consequences(preview),
            consequences_heading=_("What closing the class does"),
            refusal=None
            if preview.can_close or preview.refusal is None
            else str(preview.refusal.message),
            reason_field="reason" if preview.early else None,
        ),
        status=answer,
        template="trainer/close.html",
        course_class=course_class,
        preview=preview,
    )


def _closing_consequences(preview: class_closing.ClosingPreview) -> list[str]:
    completing, not_completing = len(preview.completing), len(preview.not_completing)
    consequences = [
        ngettext(
            "%(num)d learner is marked completed, is issued a certificate and is told by e-mail.",
            "%(num)d learners are marked completed, are issued certificates and are told by "
            "e-mail.",
            completing,
        ),
        ngettext(
            "%(num)d learner is marked as not completed.",
            "%(num)d learners are marked as not completed.",
            not_completing,
        ),
    ]
    if preview.waiting:
        consequences.append(
            ngettext(
                "%(num)d place on the waitlist or request waiting for approval is cancelled.",
                "%(num)d places on the waitlist or requests waiting for approval are cancelled.",
                preview.waiting,
            )
        )
    return consequences
