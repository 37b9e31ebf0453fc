"""The HR nomination import: nominating a company's staff into classes from a CSV file.

It follows the two steps of :mod:`.imports` (a preview, then the import of every row or none).

Rules of the nomination import (one row per nomination: employee e-mail or staff number, and
class code): the employee must be an active learner of the HR officer's own company (anyone
else is "not one of your staff", whether they exist or not, so that the file reveals nothing
about other companies); the class must exist; no employee and class may appear twice; and the
enrolment service must accept the request, which it decides row after row exactly as it would
for the real import, so that the quota, seats and waitlist positions count the rows above.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import (
    CourseClass,
    EnrolmentSource,
    EnrolmentStatus,
    Role,
    User,
    normalise_email,
    utcnow,
)
from ..validators import is_valid_email
from . import audit, mail
from .eligibility import AccountInactive, AlreadyEnrolled, PrerequisitesMissing, TimetableClash
from .enrolment import lock_learners_and_classes
from .enrolment_requests import request_enrolment
from .errors import DomainError, PermissionDenied
from .imports import (
    EMAIL_MAX,
    NOMINATIONS,
    ImportChanged,
    ImportPreview,
    ImportTampered,
    NominationRow,
    Outcome,
    RowResult,
    hr_company,
    mark_changes,
    other_rows,
    row_list,
    scalars_in,
)
from .nominations import visible_classes
from .seat_quotas import lock_company_quotas

#: The longest class code: a longer one cannot be any class's.
CLASS_CODE_MAX = 40


# Nominations


def preview_nominations(actor: User, rows: Sequence[NominationRow]) -> ImportPreview[NominationRow]:
    """What nominating each row's employee into its class would do, without saving anything.

    Every row that passes the checks of this module's description is put to
    :func:`.enrolment_requests.request_enrolment` inside a savepoint that is rolled back at the end
    (no mail is rendered for it), so each outcome is the service's own answer:
    *confirmed*, *waitlisted* with its position, or *error* with the rule it breaks,
    counting the rows above it (seats, quota, waitlist, timetable). Employees and classes
    are looked up in a few queries for the whole file; the service queries per row.

    Raises :class:`PermissionDenied` unless ``actor`` is an HR officer.
    """
    hr_company(actor)
    savepoint = db.session.begin_nested()
    try:
        with mail.dry_run(db.session()):
            return _run_nominations(actor, rows)
    finally:
        savepoint.rollback()


def import_nominations(
    actor: User,
    rows: Sequence[NominationRow],
    *,
    expected: Sequence[Outcome],
    filename: str = "",
) -> ImportPreview[NominationRow]:
    """Nominate every row's employee into its class (source ``csv``), all or none.

    ``expected`` is the outcome the preview showed for each row. The rows go through
    :func:`.enrolment_requests.request_enrolment` one after the other, and are kept only when every
    row succeeds with the outcome it was expected to have (a row previewed as confirmed that
    would now be waitlisted counts as a change; a different waitlist position does not).
    The import as a whole is recorded in the audit log. Returns what was done.

    Raises :class:`PermissionDenied` unless ``actor`` is an HR officer, and
    :class:`ImportChanged`, having changed nothing, with a fresh preview marking the rows
    whose outcome changed.
    """
    company = hr_company(actor)
    expected = list(expected)
    if len(expected) != len(rows):
        raise ImportTampered()
    savepoint = db.session.begin_nested()
    try:
        result = _run_nominations(actor, rows)
    except BaseException:
        savepoint.rollback()
        raise
    if mark_changes(result, expected):
        savepoint.rollback()
        raise ImportChanged(result)
    savepoint.commit()
    audit.record(
        actor,
        "import.nominations",
        company,
        f"nominated {len(rows)} employees from a CSV file",
        {
            "file": filename,
            "rows": len(rows),
            "confirmed": result.count(Outcome.CONFIRMED),
            "waitlisted": result.count(Outcome.WAITLISTED),
        },
    )
    return result


@dataclass
class _Resolved:
    employee: User | None
    course_class: CourseClass | None
    problems: list[Any]


def _run_nominations(actor: User, rows: Sequence[NominationRow]) -> ImportPreview[NominationRow]:
    """Request every row's enrolment in the current transaction, each in its own savepoint,
    so that a refused row leaves nothing behind and the rows after it still count."""
    locale = str(get_locale() or "en")
    now = utcnow()
    resolutions = _resolve_nominations(actor, rows)
    # The service reloads each class row (to lock it), which drops the class's reference to
    # its course; holding the courses here keeps them in the session's identity map, so that
    # they are not fetched again for every row.
    _held_courses = [item.course_class.course for item in resolutions if item.course_class]
    # Every row's learner, class and the company's quotas locked before the first row, each
    # kind in id order (the lock order of skillsup.services.enrolment): taken row by row, a
    # learner or a quota would be locked after another row's class.
    lock_learners_and_classes(
        (item.employee.id for item in resolutions if item.employee is not None),
        (item.course_class.id for item in resolutions if item.course_class is not None),
    )
    if actor.company_id is not None:
        lock_company_quotas(actor.company_id)
    results = []
    for row, resolved in zip(rows, resolutions, strict=True):
        employee, course_class = resolved.employee, resolved.course_class
        result = RowResult(
            number=row.number,
            outcome=Outcome.ERROR,
            employee_name=employee.name if employee is not None else None,
            class_code=course_class.code if course_class is not None else None,
            course_title=course_class.course.title(locale) if course_class is not None else None,
        )
        results.append(result)
        if resolved.problems or employee is None or course_class is None:
            result.problems = [str(problem) for problem in resolved.problems]
            continue
        savepoint = db.session.begin_nested()
        try:
            outcome = request_enrolment(actor, employee, course_class, EnrolmentSource.CSV, now=now)
        except DomainError as error:
            savepoint.rollback()
            result.problems = [str(_explain(error))]
            continue
        savepoint.commit()
        if outcome.status == EnrolmentStatus.CONFIRMED:
            result.outcome = Outcome.CONFIRMED
        elif outcome.status == EnrolmentStatus.WAITLISTED:
            result.outcome = Outcome.WAITLISTED
            result.waitlist_position = outcome.waitlist_position
        else:  # a nomination never waits for approval; refuse rather than guess
            result.problems = [str(_l("The request would wait for approval."))]
    return ImportPreview(NOMINATIONS, list(rows), results)


def _resolve_nominations(actor: User, rows: Sequence[NominationRow]) -> list[_Resolved]:
    """Each row's employee (of ``actor``'s company only) and class, in a few queries."""
    company_id = actor.company_id
    emails = [normalise_email(row.email) for row in rows]
    codes = [row.class_code.strip().upper() for row in rows]
    staff = select(User).where(User.company_id == company_id)
    by_email = {
        user.email: user
        for user in scalars_in(staff, User.email, {email for email in emails if email})
    }
    by_number = {
        user.staff_number: user
        for user in scalars_in(
            staff, User.staff_number, {row.staff_number for row in rows if row.staff_number}
        )
    }
    classes = {
        course_class.code.upper(): course_class
        for course_class in scalars_in(
            # As the nomination form: drafts are no business of HR's, so not found.
            visible_classes(),
            CourseClass.code,
            {code for code in codes if code and len(code) <= CLASS_CODE_MAX},
        )
    }

    resolved: list[_Resolved] = []
    for row, email, code in zip(rows, emails, codes, strict=True):
        problems: list[Any] = []
        employee = None
        if not email and not row.staff_number:
            problems.append(_l("Give the employee's e-mail address or staff number."))
        else:
            found_by_email = by_email.get(email) if email else None
            found_by_number = by_number.get(row.staff_number) if row.staff_number else None
            if email and (len(email) > EMAIL_MAX or not is_valid_email(email)):
                problems.append(_l("“%(email)s” is not a valid e-mail address.", email=row.email))
            elif email and found_by_email is None:
                problems.append(
                    _l("Not one of your staff: no employee of yours has this e-mail address.")
                )
            if row.staff_number and found_by_number is None:
                problems.append(
                    _l("Not one of your staff: no employee of yours has this staff number.")
                )
            if (
                found_by_email is not None
                and found_by_number is not None
                and found_by_email.id != found_by_number.id
            ):
                problems.append(
                    _l("The e-mail address and the staff number are of two different employees.")
                )
            if not problems:
                employee = found_by_email or found_by_number
        if employee is not None and employee.role != Role.LEARNER:
            problems.append(_l("Only learners can be nominated, and this account is not one."))
        elif employee is not None and not employee.is_active:
            problems.append(_l("This employee's account is deactivated."))
        course_class = classes.get(code) if code else None
        if not code:
            problems.append(_l("The class code is missing."))
        elif course_class is None:
            problems.append(_l("There is no class with the code “%(code)s”.", code=row.class_code))
        resolved.append(_Resolved(employee, course_class, problems))

    # The same employee in the same class twice: every such row is an error.
    rows_by_pair: dict[tuple[int, int], list[int]] = defaultdict(list)
    for row, item in zip(rows, resolved, strict=True):
        if item.employee is not None and item.course_class is not None:
            rows_by_pair[(item.employee.id, item.course_class.id)].append(row.number)
    for row, item in zip(rows, resolved, strict=True):
        if item.employee is None or item.course_class is None:
            continue
        others = other_rows(rows_by_pair[(item.employee.id, item.course_class.id)], row.number)
        if others:
            item.problems.append(
                ngettext(
                    "The same employee and class are also on row %(rows)s.",
                    "The same employee and class are also on rows %(rows)s.",
                    len(others),
                    rows=row_list(others),
                )
            )
    return resolved


def _explain(error: DomainError) -> Any:
    """The service's refusal, worded for a row of the HR officer's file: the employee stands
    for the row, whatever their name in it."""
    if isinstance(error, AlreadyEnrolled):
        return _l("This employee already has a place or a request in this class.")
    if isinstance(error, TimetableClash):
        return _l(
            "The class's sessions clash with this employee's class %(code)s.", code=error.code
        )
    if isinstance(error, PrerequisitesMissing):
        return _l(
            "This employee has not completed the courses this one requires: %(codes)s.",
            codes=", ".join(error.codes),
        )
    if isinstance(error, AccountInactive):
        return _l("This employee's account is deactivated.")
    if isinstance(error, PermissionDenied):
        return _l("Only learners of your company can be nominated.")
    return error.message
