"""HR pages: the staff directory, an employee's page, deactivation and nominations.

Every page is limited to the HR officer's own company by the staff service, which finds
nothing (404 here) outside it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms import Field, SelectChoice

from .. import audit_text, i18n, permissions
from ..confirmation import Confirmation, act_on_confirmation, render_confirmation
from ..extensions import db
from ..models import CourseClass, EnrolmentStatus, StaffStatus, User, utcnow
from ..services import certificate_expiry, employee_records, nominations, staff
from ..services.eligibility import is_taking_enrolments
from ..services.enrolment import EnrolmentRefused
from ..services.nominations import NominationsRefused
from ..services.staff import StaffFilters, StaffSort
from ..web import Work, current_actor, page_number, unit_of_work
from .staff_forms import (
    CandidateFilterForm,
    ClassSearchForm,
    DeactivateForm,
    NominateEmployeeForm,
    NominateStaffForm,
    ReactivateForm,
    StaffFilterForm,
)

PER_PAGE = staff.PER_PAGE


def _clean(field: Field) -> str:
    """A filter field's value, or empty when it did not validate."""
    return "" if field.errors or not field.data else str(field.data)


def _employee_or_404(user_id: int) -> User:
    employee = staff.find_employee(current_actor(), user_id)
    if employee is None:
        abort(404)
    return employee


def _class_or_404(class_code: str) -> CourseClass:
    course_class = nominations.find_class(class_code)
    if course_class is None:
        abort(404)
    return course_class


# ---------------------------------------------------------------------------------------------
# The directory


def staff_list() -> str:
    return render_template("hr/staff/list.html", **_directory_page(current_actor()))


def _directory_page(me: User) -> dict[str, Any]:
    form = StaffFilterForm(request.args)
    form.set_departments(staff.departments(me))
    form.validate()
    status = _clean(form.status)
    sort = _clean(form.sort) or StaffSort.NAME.value
    filters = StaffFilters(
        q=_clean(form.q),
        department=_clean(form.department) or None,
        status=StaffStatus(status) if status else None,
        sort=StaffSort(sort),
    )
    page = db.paginate(
        staff.directory(me, filters),
        page=page_number(),
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
        error_out=False,
    )
    counts = staff.enrolment_counts(me, (employee.id for employee in page.items))
    args = {
        "q": filters.q,
        "department": filters.department or "",
        "status": status,
        "sort": sort,
    }
    return {
        "form": form,
        "page": page,
        "counts": counts,
        "args": {name: value for name, value in args.items() if value},
    }


# ---------------------------------------------------------------------------------------------
# An employee's page


def _employee_page(
    employee: User,
    *,
    deactivate_form: DeactivateForm | None = None,
    reactivate_form: ReactivateForm | None = None,
    nominate_form: NominateEmployeeForm | None = None,
) -> str:
    me = current_actor()
    record = employee_records.employee_record(me, employee)
    if nominate_form is None:
        nominate_form = NominateEmployeeForm(formdata=None)
    nominate_form.set_classes(_class_choices(nominations.class_choices(me, employee)))
    manageable = permissions.can_manage_account(me, employee)
    deactivated = record.status == StaffStatus.DEACTIVATED
    return render_template(
        "hr/staff/detail.html",
        employee=employee,
        record=record,
        validities=certificate_expiry.validities(
            [r.certificate for r in record.certificates if r.certificate is not None]
        ),
        StaffStatus=StaffStatus,
        may_deactivate=manageable and not deactivated,
        may_reactivate=manageable and deactivated,
        # A refused nomination shows its form again, with why.
        may_nominate=not deactivated or bool(nominate_form.errors),
        SessionState=employee_records.SessionState,
        # Each account event named as the audit log names it, in the reader's language.
        action_label=audit_text.action_label,
        deactivate_form=deactivate_form or DeactivateForm(formdata=None),
        reactivate_form=reactivate_form or ReactivateForm(formdata=None),
        nominate_form=nominate_form,
    )


def _class_choices(classes: list[CourseClass]) -> list[SelectChoice]:
    locale = str(get_locale() or "en")
    return [
        SelectChoice(
            str(c.id),
            f"{c.code} · {c.course.title(locale)} · {i18n.fmt_date(c.starts_on)}",
        )
        for c in classes
    ]


def employee_detail(user_id: int) -> str:
    return _employee_page(_employee_or_404(user_id))


def deactivate_employee(user_id: int) -> Response | tuple[str, int]:
    """The confirmation page of deactivating an employee (which enrolments are withdrawn,
    which seats go to the waitlist, who is told), and deactivating them."""
    employee = _employee_or_404(user_id)
    form = DeactivateForm()

    def deactivate(work: Work) -> None:
        withdrawn = staff.deactivate_employee(current_actor(), employee, form.reason.data or "")
        work.flash(
            _("%(name)s has been deactivated and logged out everywhere.", name=employee.name)
        )
        if withdrawn:
            work.flash(
                ngettext(
                    "%(num)d enrolment in a class that has not started was withdrawn, "
                    "and its seat offered to the waitlist: %(codes)s.",
                    "%(num)d enrolments in classes that have not started were "
                    "withdrawn, and their seats offered to the waitlists: %(codes)s.",
                    len(withdrawn),
                    codes=", ".join(e.course_class.code for e in withdrawn),
                )
            )
        else:
            work.flash(_("They had no enrolment in a class that has not started."))

    answer = act_on_confirmation(form, deactivate, url_for("hr.employee_detail", user_id=user_id))
    if isinstance(answer, Response):
        return answer
    preview = staff.deactivation_preview(current_actor(), employee)
    return render_confirmation(
        Confirmation(
            title=_("Deactivate %(name)s", name=employee.name),
            action_url=url_for("hr.deactivate_employee", user_id=employee.id),
            button=_("Deactivate %(name)s", name=employee.name),
            cancel_url=url_for("hr.employee_detail", user_id=employee.id),
            form=form,
            consequences=_deactivation_consequences(preview),
            refusal=None if preview.refusal is None else str(preview.refusal.message),
            reason_field="reason",
        ),
        status=answer,
    )


def _deactivation_consequences(preview: staff.DeactivationPreview) -> list[str]:
    name = preview.employee.name
    consequences = [
        _(
            "%(name)s can no longer log in, and every session they have open ends at once. "
            "Their history stays.",
            name=name,
        )
    ]
    if preview.withdrawn:
        consequences.append(
            ngettext(
                "%(num)d enrolment in a class that has not started is withdrawn (%(codes)s): "
                "a seat it held goes at once to the first on that class's waitlist who can "
                "take it, and %(name)s is told by e-mail, with your reason.",
                "%(num)d enrolments in classes that have not started are withdrawn "
                "(%(codes)s): each seat they held goes at once to the first on that class's "
                "waitlist who can take it, and %(name)s is told by e-mail for each, with your "
                "reason.",
                len(preview.withdrawn),
                codes=", ".join(e.course_class.code for e in preview.withdrawn),
                name=name,
            )
        )
    else:
        consequences.append(_("They have no enrolment in a class that has not started."))
    if preview.kept:
        consequences.append(
            ngettext(
                "%(num)d enrolment in a class already under way is left as it is (%(codes)s).",
                "%(num)d enrolments in classes already under way are left as they are (%(codes)s).",
                len(preview.kept),
                codes=", ".join(e.course_class.code for e in preview.kept),
            )
        )
    return consequences


def reactivate_employee(user_id: int) -> str | Response:
    employee = _employee_or_404(user_id)
    form = ReactivateForm()
    if not form.validate_on_submit():
        return _employee_page(employee, reactivate_form=form)
    with unit_of_work(form) as work:
        staff.reactivate_employee(current_actor(), employee, form.reason.data or "")
        work.flash(_("%(name)s's account is active again.", name=employee.name))
        work.flash(
            _(
                "Enrolments withdrawn when the account was deactivated stay withdrawn: "
                "nominate them again where needed."
            ),
            "info",
        )
    if work.refusal is not None and work.refusal.field:
        return _employee_page(employee, reactivate_form=form)
    return redirect(url_for("hr.employee_detail", user_id=user_id))


def nominate_employee(user_id: int) -> str | Response:
    employee = _employee_or_404(user_id)
    form = NominateEmployeeForm()
    if not form.validate_on_submit():
        return _employee_page(employee, nominate_form=form)
    if form.chosen_class_id is not None:
        course_class = nominations.find_class_by_id(form.chosen_class_id)
        field = form.class_id
        missing = _("That class is no longer offered: choose another one.")
    else:
        course_class = nominations.find_class(form.class_code.data or "")
        field = form.class_code
        missing = _("No class has the code %(code)s.", code=(form.class_code.data or "").upper())
    if course_class is None:
        field.errors = [*field.errors, missing]
        return _employee_page(employee, nominate_form=form)
    code = course_class.code
    with unit_of_work(form, quietly=(EnrolmentRefused,)) as work:
        outcome = nominations.nominate_employee(current_actor(), employee, course_class)
        message = _describe(employee.name, outcome.status, outcome.waitlist_position)
        work.flash(_("%(message)s (%(code)s)", message=message, code=code))
    if work.succeeded:
        return redirect(url_for("hr.employee_detail", user_id=user_id))
    if isinstance(work.refusal, EnrolmentRefused):
        # A rule of enrolment refused this class: say so beside the class chosen.
        field.errors = [*field.errors, str(work.refusal.message)]
    return _employee_page(employee, nominate_form=form)


def _describe(name: str, status: EnrolmentStatus | None, position: int | None) -> str:
    if status == EnrolmentStatus.WAITLISTED:
        return _(
            "%(name)s: the class is full, %(position)s on the waitlist.",
            name=name,
            position=i18n.ordinal(position or 0),
        )
    if status == EnrolmentStatus.PENDING:
        return _("%(name)s: waiting for HR approval.", name=name)
    return _("%(name)s: confirmed.", name=name)


# ---------------------------------------------------------------------------------------------
# Classes


def class_list() -> str:
    me = current_actor()
    form = ClassSearchForm(request.args)
    form.validate()
    q = _clean(form.q)
    page = db.paginate(
        nominations.open_classes(q),
        page=page_number(),
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "hr/staff/classes.html",
        form=form,
        page=page,
        staff_counts=nominations.staff_counts_in_classes(me, (c.id for c in page.items)),
        args={"q": q} if q else {},
    )


def _class_page(
    course_class: CourseClass,
    *,
    refused: NominationsRefused | None = None,
) -> str:
    me = current_actor()
    filter_form = CandidateFilterForm(request.args)
    filter_form.set_departments(staff.departments(me))
    filter_form.validate()
    q = _clean(filter_form.q)
    department = _clean(filter_form.department)
    taking = is_taking_enrolments(course_class, utcnow())
    candidates = None
    if taking:
        candidates = db.paginate(
            nominations.nomination_candidates(me, course_class, q, department or None),
            page=page_number(),
            per_page=PER_PAGE,
            max_per_page=PER_PAGE,
            error_out=False,
        )
    args = {"class_code": course_class.code, "q": q, "department": department}
    return render_template(
        "hr/staff/class_detail.html",
        course_class=course_class,
        in_catalogue=permissions.can_see_course(None, course_class.course),
        taking=taking,
        rows=nominations.class_staff(me, course_class),
        quotas=nominations.quota_uses(me, course_class),
        filter_form=filter_form,
        candidates=candidates,
        args={name: value for name, value in args.items() if value},
        form=NominateStaffForm(formdata=None),
        refused=refused,
    )


def class_detail(class_code: str) -> str:
    return _class_page(_class_or_404(class_code))


def nominate_staff(class_code: str) -> str | Response:
    """Nominate the ticked employees: all of them, or none if any is refused."""
    course_class = _class_or_404(class_code)
    back = url_for("hr.class_detail", class_code=course_class.code)
    form = NominateStaffForm()
    if not form.validate_on_submit() or not form.employee_ids.data:
        flash(_("Choose at least one employee from the list."), "error")
        return redirect(back)
    with unit_of_work(quietly=(NominationsRefused,)) as work:
        results = nominations.nominate_employees(
            current_actor(), course_class, form.employee_ids.data
        )
        work.flash(
            ngettext(
                "%(num)d employee nominated into %(code)s.",
                "%(num)d employees nominated into %(code)s.",
                len(results),
                code=course_class.code,
            )
        )
        for result in results:
            work.flash(_describe(result.name, result.status, result.waitlist_position))
    if isinstance(work.refusal, NominationsRefused):
        return _class_page(course_class, refused=work.refusal)
    return redirect(back)
