"""HR imports from CSV files: inviting staff, and nominating staff into classes.

Both work in two steps. The *preview* reads every row and says what would happen to it,
saving nothing. The *import* applies every row in the caller's one transaction, or none: if
any row would now fail, or (for nominations) turn out differently from the preview, nothing
is changed and :class:`ImportChanged` carries a fresh preview that marks what changed.

Between the two steps the rows travel in a hidden form field, signed (see :func:`sign`) so
that they cannot be altered, together with the outcome the preview promised for each row.

Rules of the staff import (one row per person: e-mail, name, staff number, department, job
title): the e-mail address must be valid, at one of the company's e-mail domains and not
already have an account; the name is required; the staff number, when given, must be free in
the company; no e-mail address or staff number may appear twice in the file; no value may be
longer than its column. The domain rule is stricter than the one-by-one invitation form on
purpose: a file is typed or exported in bulk, and an address outside the company's domains is
almost always a typing error or a private address, which would give an account in the
company's name to someone the company's mail system does not vouch for.

Rules of the nomination import (one row per nomination: employee e-mail or staff number, and
class code): the employee must be an active learner of the HR officer's own company (anyone
else is "not one of your staff", whether they exist or not, so that the file reveals nothing
about other companies); the class must exist; no employee and class may appear twice; and the
enrolment service must accept the request, which it decides row after row exactly as it would
for the real import, so that the quota, seats and waitlist positions count the rows above.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

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
from . import accounts, audit, mail
from .csvfiles import Column, CsvTable
from .eligibility import AccountInactive, AlreadyEnrolled, PrerequisitesMissing, TimetableClash
from .enrolment_requests import request_enrolment
from .errors import DomainError, PermissionDenied
from .staff import hr_company_id, visible_classes

# Column lengths of the users table: longer values are refused row by row.
EMAIL_MAX = 254
NAME_MAX = 200
STAFF_NUMBER_MAX = 50
DEPARTMENT_MAX = 120
JOB_TITLE_MAX = 120
CLASS_CODE_MAX = 40

#: How long a preview may be confirmed after it was made.
PREVIEW_MAX_AGE = 8 * 3600
_SALT = "skillsup.csv-import"
_FORMAT = 1
# How many values go into one IN (...) list.
_CHUNK = 500

STAFF = "staff"
NOMINATIONS = "nominations"

_EMAIL = Column(
    "email",
    _l("E-mail"),
    (
        "e-mail",
        "email address",
        "e-mail address",
        "work e-mail",
        "work e-mail address",
        "mail",
        "電郵",
        "電郵地址",
    ),
)
_EMPLOYEE_EMAIL = Column(
    "email",
    _l("E-mail"),
    (*_EMAIL.aliases, "employee e-mail", "employee e-mail address", "staff e-mail"),
)
_STAFF_NUMBER = Column(
    "staff_number",
    _l("Staff number"),
    (
        "staff number",
        "staff no",
        "staff id",
        "employee number",
        "employee no",
        "employee id",
        "員工編號",
    ),
)

STAFF_COLUMNS = (
    _EMAIL,
    Column("name", _l("Name"), ("full name", "employee name", "staff name", "姓名")),
    _STAFF_NUMBER,
    Column("department", _l("Department"), ("dept", "division", "部門")),
    Column("job_title", _l("Job title"), ("title", "position", "post", "職位", "職銜")),
)
STAFF_REQUIRED = (("email",), ("name",))

NOMINATION_COLUMNS = (
    _EMPLOYEE_EMAIL,
    _STAFF_NUMBER,
    Column("class_code", _l("Class code"), ("class", "class id", "班別", "班別編號")),
)
NOMINATION_REQUIRED = (("email", "staff_number"), ("class_code",))


class Outcome(enum.StrEnum):
    """What a row of an import does, or would do."""

    INVITE = "invite"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    ERROR = "error"


class ImportChanged(DomainError):
    """Nothing was saved: some rows would now fail or turn out differently than previewed.

    ``preview`` is a fresh preview, with the rows that changed marked.
    """

    def __init__(self, preview: ImportPreview[Any], message: Any = None) -> None:
        super().__init__(
            message
            or _l(
                "Nothing was saved: since your preview, the data has changed and some rows "
                "would now turn out differently. They are marked below."
            )
        )
        self.preview = preview


class ImportTampered(DomainError):
    """The signed rows of a preview were altered, damaged or made for someone else."""

    default_message = _l(
        "The import data sent with the form has been altered or damaged. Upload the file again."
    )


class ImportExpired(DomainError):
    default_message = _l("This preview is too old to be confirmed. Upload the file again.")


@dataclass(frozen=True)
class StaffRow:
    number: int
    email: str
    name: str
    staff_number: str = ""
    department: str = ""
    job_title: str = ""

    def as_list(self) -> list[Any]:
        return [
            self.number,
            self.email,
            self.name,
            self.staff_number,
            self.department,
            self.job_title,
        ]


@dataclass(frozen=True)
class NominationRow:
    number: int
    email: str = ""
    staff_number: str = ""
    class_code: str = ""

    def as_list(self) -> list[Any]:
        return [self.number, self.email, self.staff_number, self.class_code]


R = TypeVar("R", StaffRow, NominationRow)


@dataclass
class RowResult:
    """What a row does: its outcome, the problems that stop it, and what to show beside it.

    Everything is plain text, so that a result outlives the transaction it was computed in.
    ``previous`` is set when the outcome differs from the one the preview promised.
    """

    number: int
    outcome: Outcome
    problems: list[str] = field(default_factory=list)
    employee_name: str | None = None
    class_code: str | None = None
    course_title: str | None = None
    waitlist_position: int | None = None
    previous: Outcome | None = None

    @property
    def is_error(self) -> bool:
        return self.outcome == Outcome.ERROR

    @property
    def changed(self) -> bool:
        return self.previous is not None


@dataclass
class ImportPreview(Generic[R]):
    """Every row of a file with what it does, in the file's order."""

    kind: str
    rows: list[R]
    results: list[RowResult]

    @property
    def items(self) -> list[tuple[R, RowResult]]:
        return list(zip(self.rows, self.results, strict=True))

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome == outcome)

    @property
    def errors(self) -> list[tuple[R, RowResult]]:
        return [(row, result) for row, result in self.items if result.is_error]

    @property
    def changed(self) -> list[tuple[R, RowResult]]:
        return [(row, result) for row, result in self.items if result.changed]

    @property
    def can_confirm(self) -> bool:
        """Whether every row would go through, so that the import may be confirmed."""
        return bool(self.rows) and not any(result.is_error for result in self.results)

    @property
    def expected(self) -> list[Outcome]:
        return [result.outcome for result in self.results]


@dataclass(frozen=True)
class SignedImport(Generic[R]):
    kind: str
    filename: str
    rows: list[R]
    expected: list[Outcome]


# ---------------------------------------------------------------------------------------------
# Rows from a file


def staff_rows(table: CsvTable) -> list[StaffRow]:
    """The rows of a file read with :data:`STAFF_COLUMNS`."""
    return [
        StaffRow(
            number=row.number,
            email=row.get("email"),
            name=row.get("name"),
            staff_number=row.get("staff_number"),
            department=row.get("department"),
            job_title=row.get("job_title"),
        )
        for row in table.rows
    ]


def nomination_rows(table: CsvTable) -> list[NominationRow]:
    """The rows of a file read with :data:`NOMINATION_COLUMNS`."""
    return [
        NominationRow(
            number=row.number,
            email=row.get("email"),
            staff_number=row.get("staff_number"),
            class_code=row.get("class_code"),
        )
        for row in table.rows
    ]


# ---------------------------------------------------------------------------------------------
# Staff


def preview_staff_import(actor: User, rows: Sequence[StaffRow]) -> ImportPreview[StaffRow]:
    """What inviting each row's person would do, without saving anything.

    Looks the file's addresses and staff numbers up in two queries (a few more for a long
    file), whatever its length. A row is *invite* when it breaks none of the rules in this
    module's description, else *error* with every problem it has.

    Raises :class:`PermissionDenied` unless ``actor`` is an HR officer.
    """
    company = _hr_company(actor)
    domains = set(company.domain_names)
    emails = [normalise_email(row.email) for row in rows]
    taken_emails = set(
        _scalars_in(select(User.email), User.email, {email for email in emails if email})
    )
    numbers = {row.staff_number for row in rows if row.staff_number}
    taken_numbers = set(
        _scalars_in(
            select(User.staff_number).where(User.company_id == company.id),
            User.staff_number,
            numbers,
        )
    )
    rows_by_email = _numbers_by_key(rows, emails)
    rows_by_staff_number = _numbers_by_key(rows, [row.staff_number for row in rows])

    results = []
    for row, email in zip(rows, emails, strict=True):
        problems: list[Any] = []
        if not email:
            problems.append(_l("The e-mail address is missing."))
        elif len(email) > EMAIL_MAX or not is_valid_email(email):
            problems.append(_l("“%(email)s” is not a valid e-mail address.", email=row.email))
        elif not domains:
            problems.append(
                _l(
                    "Your company has no e-mail domains on record, so no one can be invited "
                    "from a file. Ask the institute to add them."
                )
            )
        elif email.rpartition("@")[2] not in domains:
            problems.append(accounts.not_at_company_domains(domains))
        elif email in taken_emails:
            problems.append(_l("Someone with this e-mail address already has an account."))
        if email and (others := _others(rows_by_email[email], row.number)):
            problems.append(
                ngettext(
                    "The same e-mail address is also on row %(rows)s.",
                    "The same e-mail address is also on rows %(rows)s.",
                    len(others),
                    rows=_row_list(others),
                )
            )
        if not row.name:
            problems.append(_l("The name is missing."))
        elif len(row.name) > NAME_MAX:
            problems.append(_too_long(_l("The name"), NAME_MAX))
        if row.staff_number:
            if len(row.staff_number) > STAFF_NUMBER_MAX:
                problems.append(_too_long(_l("The staff number"), STAFF_NUMBER_MAX))
            elif row.staff_number in taken_numbers:
                problems.append(_l("Another employee already has this staff number."))
            if others := _others(rows_by_staff_number[row.staff_number], row.number):
                problems.append(
                    ngettext(
                        "The same staff number is also on row %(rows)s.",
                        "The same staff number is also on rows %(rows)s.",
                        len(others),
                        rows=_row_list(others),
                    )
                )
        if len(row.department) > DEPARTMENT_MAX:
            problems.append(_too_long(_l("The department"), DEPARTMENT_MAX))
        if len(row.job_title) > JOB_TITLE_MAX:
            problems.append(_too_long(_l("The job title"), JOB_TITLE_MAX))
        results.append(
            RowResult(
                number=row.number,
                outcome=Outcome.ERROR if problems else Outcome.INVITE,
                problems=[str(problem) for problem in problems],
            )
        )
    return ImportPreview(STAFF, list(rows), results)


def import_staff(
    actor: User,
    rows: Sequence[StaffRow],
    *,
    expected: Sequence[Outcome] | None = None,
    filename: str = "",
) -> ImportPreview[StaffRow]:
    """Invite every row's person as a learner of ``actor``'s company, all or none.

    Each invitation goes through :func:`accounts.invite_user` (which records it and queues
    its e-mail for after the commit), and the import as a whole is recorded in the audit
    log. Returns the preview of what was done.

    Raises :class:`PermissionDenied` unless ``actor`` is an HR officer, and
    :class:`ImportChanged`, having changed nothing, when any row now fails (someone took an
    address or staff number since the preview, say): its preview marks those rows.
    """
    company = _hr_company(actor)
    expected = list(expected) if expected is not None else [Outcome.INVITE] * len(rows)
    if len(expected) != len(rows):
        raise ImportTampered()
    preview = preview_staff_import(actor, rows)
    if _mark_changes(preview, expected):
        raise ImportChanged(preview)
    savepoint = db.session.begin_nested()
    done = 0
    try:
        for row in rows:
            accounts.invite_user(
                actor,
                email=row.email,
                name=row.name,
                role=Role.LEARNER,
                company=company,
                staff_number=row.staff_number or None,
                department=row.department or None,
                job_title=row.job_title or None,
            )
            done += 1
    except (DomainError, IntegrityError) as error:
        # Someone else saved a clashing account between the checks and the insert.
        savepoint.rollback()
        fresh = preview_staff_import(actor, rows)
        failed = fresh.results[done]
        if not failed.is_error:
            failed.outcome = Outcome.ERROR
            failed.problems = [
                str(error.message)
                if isinstance(error, DomainError)
                else str(_l("This row clashes with an account saved at the same time."))
            ]
        _mark_changes(fresh, expected)
        raise ImportChanged(fresh) from error
    savepoint.commit()
    audit.record(
        actor,
        "import.staff",
        company,
        f"invited {len(rows)} staff from a CSV file",
        {"file": filename, "rows": len(rows), "emails": [normalise_email(r.email) for r in rows]},
    )
    return preview


# ---------------------------------------------------------------------------------------------
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
    _hr_company(actor)
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
    company = _hr_company(actor)
    expected = list(expected)
    if len(expected) != len(rows):
        raise ImportTampered()
    savepoint = db.session.begin_nested()
    try:
        result = _run_nominations(actor, rows)
    except BaseException:
        savepoint.rollback()
        raise
    if _mark_changes(result, expected):
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
        for user in _scalars_in(staff, User.email, {email for email in emails if email})
    }
    by_number = {
        user.staff_number: user
        for user in _scalars_in(
            staff, User.staff_number, {row.staff_number for row in rows if row.staff_number}
        )
    }
    classes = {
        course_class.code.upper(): course_class
        for course_class in _scalars_in(
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
        others = _others(rows_by_pair[(item.employee.id, item.course_class.id)], row.number)
        if others:
            item.problems.append(
                ngettext(
                    "The same employee and class are also on row %(rows)s.",
                    "The same employee and class are also on rows %(rows)s.",
                    len(others),
                    rows=_row_list(others),
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


# ---------------------------------------------------------------------------------------------
# Signing the rows between the preview and the confirmation


def sign(actor: User, preview: ImportPreview[Any], *, filename: str = "") -> str:
    """The rows and promised outcomes of ``preview``, signed for a hidden form field.

    The token is bound to ``actor`` and their company, and expires after
    :data:`PREVIEW_MAX_AGE`; itsdangerous compresses it when that makes it shorter.
    """
    payload = {
        "v": _FORMAT,
        "k": preview.kind,
        "u": actor.id,
        "c": actor.company_id,
        "f": filename,
        "r": [row.as_list() for row in preview.rows],
        "e": [outcome.value for outcome in preview.expected],
    }
    return _serializer().dumps(payload)


def unsign(actor: User, kind: str, token: str) -> SignedImport[Any]:
    """The rows and promised outcomes from a token made by :func:`sign`.

    Raises :class:`ImportExpired` for a token older than :data:`PREVIEW_MAX_AGE`, and
    :class:`ImportTampered` for one that was altered, is damaged, is of another kind of
    import, or was made for another user or company.
    """
    try:
        payload = _serializer().loads(token, max_age=PREVIEW_MAX_AGE)
    except SignatureExpired as error:
        raise ImportExpired() from error
    except BadSignature as error:
        raise ImportTampered() from error
    try:
        if (
            payload["v"] != _FORMAT
            or payload["k"] != kind
            or payload["u"] != actor.id
            or payload["c"] != actor.company_id
        ):
            raise ImportTampered(_l("This preview was made for another import or another account."))
        rows: list[Any]
        if kind == STAFF:
            rows = [StaffRow(*_checked(values, 6)) for values in payload["r"]]
        elif kind == NOMINATIONS:
            rows = [NominationRow(*_checked(values, 4)) for values in payload["r"]]
        else:
            raise ImportTampered()
        expected = [Outcome(value) for value in payload["e"]]
        filename = str(payload.get("f") or "")
    except (KeyError, TypeError, ValueError) as error:
        raise ImportTampered() from error
    if len(expected) != len(rows) or not rows:
        raise ImportTampered()
    return SignedImport(kind, filename, rows, expected)


def _checked(values: Any, length: int) -> list[Any]:
    if (
        not isinstance(values, list)
        or len(values) != length
        or not isinstance(values[0], int)
        or not all(isinstance(value, str) for value in values[1:])
    ):
        raise ValueError("malformed row")
    return values


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


# ---------------------------------------------------------------------------------------------
# Helpers


def _hr_company(actor: User) -> Any:
    hr_company_id(actor)
    return actor.company


def _mark_changes(preview: ImportPreview[Any], expected: Sequence[Outcome]) -> bool:
    """Mark each row whose outcome differs from ``expected``; whether any row fails or does."""
    changed = False
    for result, promised in zip(preview.results, expected, strict=True):
        if result.outcome != promised:
            result.previous = promised
            changed = True
        if result.is_error:
            changed = True
    return changed


def _scalars_in(statement: Select[Any], column: Any, values: Iterable[Any]) -> Iterator[Any]:
    """``statement`` filtered on ``column IN values``, a few hundred values per query."""
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield from db.session.scalars(statement.where(column.in_(ordered[start : start + _CHUNK])))


def _numbers_by_key(rows: Sequence[Any], keys: Sequence[str]) -> dict[str, list[int]]:
    numbers: dict[str, list[int]] = defaultdict(list)
    for row, key in zip(rows, keys, strict=True):
        if key:
            numbers[key].append(row.number)
    return numbers


def _others(numbers: list[int], number: int) -> list[int]:
    return [other for other in numbers if other != number]


def _row_list(numbers: list[int], limit: int = 10) -> str:
    shown = ", ".join(str(number) for number in numbers[:limit])
    if len(numbers) > limit:
        return str(_l("%(rows)s and %(more)d more", rows=shown, more=len(numbers) - limit))
    return shown


def _too_long(what: Any, limit: int) -> Any:
    return _l("%(what)s is longer than %(max)d characters.", what=what, max=limit)
