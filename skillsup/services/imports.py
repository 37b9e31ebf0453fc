"""HR imports from CSV files: inviting staff, and nominating staff into classes.

Both work in two steps. The *preview* reads every row and says what would happen to it,
saving nothing. The *import* applies every row in the caller's one transaction, or none: if
any row would now fail, or (for nominations) turn out differently from the preview, nothing
is changed and :class:`ImportChanged` carries a fresh preview that marks what changed.

Between the two steps the rows travel in a hidden form field, signed (see :func:`sign`) so
that they cannot be altered, together with the outcome the preview promised for each row.

This module reads a file's rows and carries them between the steps; the rules of each import
and the applying of its rows are :mod:`.staff_import`'s and :mod:`.nomination_import`'s.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select

from ..extensions import db
from ..models import PartnerCompany, User
from .csvfiles import Column, CsvTable
from .errors import DomainError
from .staff import hr_company_id

#: The longest e-mail address the users table holds: a longer one is refused row by row.
EMAIL_MAX = 254

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
# Helpers of both imports


def hr_company(actor: User) -> PartnerCompany:
    """The acting HR officer's company. Raises :class:`PermissionDenied` for anyone else."""
    hr_company_id(actor)
    assert actor.company is not None  # hr_company_id has refused an officer without one
    return actor.company


def mark_changes(preview: ImportPreview[Any], expected: Sequence[Outcome]) -> bool:
    """Mark each row whose outcome differs from ``expected``; whether any row fails or does."""
    changed = False
    for result, promised in zip(preview.results, expected, strict=True):
        if result.outcome != promised:
            result.previous = promised
            changed = True
        if result.is_error:
            changed = True
    return changed


T = TypeVar("T")


def scalars_in(statement: Select[T], column: Any, values: Iterable[Any]) -> Iterator[T]:
    """``statement`` filtered on ``column IN values``, a few hundred values per query."""
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield from db.session.scalars(statement.where(column.in_(ordered[start : start + _CHUNK])))


def other_rows(numbers: list[int], number: int) -> list[int]:
    """The row numbers in ``numbers`` but ``number``: the other rows with the same value."""
    return [other for other in numbers if other != number]


def row_list(numbers: list[int], limit: int = 10) -> str:
    """The row numbers for a message, the first ``limit`` of them."""
    shown = ", ".join(str(number) for number in numbers[:limit])
    if len(numbers) > limit:
        return str(_l("%(rows)s and %(more)d more", rows=shown, more=len(numbers) - limit))
    return shown
