"""Audit entries as people read them: a sentence in the reader's language, and the details
as labelled, human values (names of people, dates and times in Hong Kong time, the labels of
statuses, reasons worded), never raw dictionaries.

:func:`readable_entries` prepares a list of entries for a page (one query for the names of
the people the details mention, whatever their number); the Jinja macro ``audit_entry`` in
``templates/macros/audit.html`` shows one. An action without a sentence of its own is told
by a generic one, so that a new kind of entry still reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .extensions import db
from .i18n import fmt_date, fmt_datetime
from .labels import label
from .models import (
    AttendanceStatus,
    AuditEntry,
    ClassStatus,
    CourseStatus,
    EnrolmentStatus,
    User,
)
from .reasons import render as render_reasons

#: The sentence for each action; ``%(summary)s`` is not used: summaries are English notes.
SENTENCES: dict[str, Any] = {
    "class.created": _l("Created the class"),
    "class.updated": _l("Changed the class"),
    "class.status_changed": _l("Changed the class's status"),
    "session.added": _l("Added a session"),
    "session.updated": _l("Moved a session"),
    "session.removed": _l("Removed a session"),
    "sessions.generated": _l("Added sessions"),
    "staff.nominated": _l("Nominated staff into the class"),
    "enrolment.created": _l("Enrolment requested"),
    "enrolment.status_changed": _l("Enrolment status changed"),
    "enrolment.result_recorded": _l("Recorded an assessment result"),
    "attendance.marked": _l("Marked attendance"),
    "attendance.corrected": _l("Corrected attendance"),
    "certificate.issued": _l("Issued a certificate"),
    "certificate.revoked": _l("Revoked a certificate"),
    "course.created": _l("Created the course"),
    "course.updated": _l("Changed the course"),
    "course.published": _l("Published the course"),
    "course.unpublished": _l("Took the course back to draft"),
    "course.archived": _l("Archived the course"),
    "company.created": _l("Created the partner company"),
    "company.updated": _l("Changed the partner company"),
    "company.deactivated": _l("Deactivated the partner company"),
    "company.reactivated": _l("Reactivated the partner company"),
    "company.quota_added": _l("Added a seat quota"),
    "company.quota_updated": _l("Changed a seat quota"),
    "company.quota_removed": _l("Removed a seat quota"),
    "company.hr_officer_invited": _l("Invited an HR officer"),
    "company.hr_officer_deactivated": _l("Deactivated an HR officer"),
    "company.hr_officer_reactivated": _l("Reactivated an HR officer"),
    "import.staff": _l("Invited staff from a CSV file"),
    "import.nominations": _l("Nominated staff from a CSV file"),
    "report_exported": _l("Exported a report"),
}

#: The label of each detail the portal records; others are shown by their key, made readable.
DETAIL_LABELS: dict[str, Any] = {
    "from": _l("From"),
    "to": _l("To"),
    "reason": _l("Reason"),
    "reasons": _l("Reason"),
    "late_reason": _l("Reason for a change in the past"),
    "early": _l("Closed before its last session ended"),
    "completed": _l("Completed"),
    "not_completed": _l("Not completed"),
    "cancelled": _l("Cancelled"),
    "reopened": _l("Learners reopened"),
    "closed_at": _l("Closed at"),
    "certificates_withdrawn": _l("Certificates withdrawn"),
    "learner_id": _l("Learner"),
    "user_id": _l("Person"),
    "employee_ids": _l("Employees"),
    "class_id": _l("Class"),
    "course": _l("Course"),
    "code": _l("Code"),
    "trainers": _l("Trainers"),
    "venue": _l("Venue"),
    "online_url": _l("Online link"),
    "capacity": _l("Capacity"),
    "starts_on": _l("Starts"),
    "ends_on": _l("Ends"),
    "enrolment_opens_at": _l("Enrolment opens"),
    "enrolment_closes_at": _l("Enrolment closes"),
    "withdrawal_deadline_at": _l("Withdrawal deadline"),
    "min_attendance_pct": _l("Minimum attendance (%)"),
    "assessment_required": _l("Assessment required"),
    "status": _l("Status"),
    "new": _l("New"),
    "old": _l("Before"),
    "confirmed_learners": _l("Confirmed learners told"),
    "serial_number": _l("Certificate"),
    "name": _l("Name"),
    "email": _l("E-mail address"),
    "file": _l("File"),
    "rows": _l("Rows"),
    "is_active": _l("Active"),
}

#: Details that only tie the entry to rows (shown elsewhere on the page, or by name).
_HIDDEN = frozenset(
    {"session_id", "enrolment_id", "quota_id", "class_id", "withdrawn_enrolment_ids"}
)
_PEOPLE = frozenset({"learner_id", "user_id", "employee_ids", "actor_id"})
_STATUS_ENUMS = (ClassStatus, EnrolmentStatus, CourseStatus, AttendanceStatus)
_ISO_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
_ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


@dataclass(frozen=True)
class ReadableEntry:
    """One audit entry ready to show: who, when, the sentence and labelled details."""

    entry: AuditEntry
    sentence: str
    details: list[tuple[str, str]]

    @property
    def occurred_at(self) -> datetime:
        return self.entry.occurred_at

    @property
    def actor(self) -> User | None:
        return self.entry.actor


def sentence(action: str) -> str:
    """The sentence for ``action`` in the reader's language; a generic one when the action
    has none of its own."""
    known = SENTENCES.get(action)
    if known is not None:
        return str(known)
    return _("Recorded: %(action)s", action=action.replace(".", " ").replace("_", " "))


def readable_entries(entries: Sequence[AuditEntry]) -> list[ReadableEntry]:
    """Each entry as a sentence with labelled details in the reader's language; the names of
    the people the details mention are looked up in one query."""
    names = _names(_people_ids(entries))
    return [
        ReadableEntry(entry, sentence(entry.action), _details(entry.details or {}, names))
        for entry in entries
    ]


def _people_ids(entries: Iterable[AuditEntry]) -> set[int]:
    ids: set[int] = set()
    for entry in entries:
        for key in _PEOPLE & set(entry.details or {}):
            value = entry.details[key]
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, int):
                    ids.add(item)
    return ids


def _names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {row.id: row.name for row in rows}


def _details(details: Mapping[str, Any], names: Mapping[int, str]) -> list[tuple[str, str]]:
    shown = []
    for key, value in details.items():
        if key in _HIDDEN or value is None or value == "" or value == []:
            continue
        heading = DETAIL_LABELS.get(key)
        text = str(heading) if heading is not None else key.replace("_", " ").capitalize()
        shown.append((text, _value(key, value, names)))
    return shown


def _value(key: str, value: Any, names: Mapping[int, str]) -> str:
    if key == "reasons" or (isinstance(value, list) and value and _is_reason(value[0])):
        return render_reasons(value)
    if key in _PEOPLE:
        items = value if isinstance(value, list) else [value]
        return ", ".join(names.get(item, f"#{item}") for item in items)
    if isinstance(value, Mapping):
        if set(value) == {"old", "new"}:
            return f"{_value(key, value['old'], names)} → {_value(key, value['new'], names)}"
        return "; ".join(
            f"{DETAIL_LABELS.get(k, k)}: {_value(k, v, names)}" for k, v in value.items()
        )
    if isinstance(value, list):
        return ", ".join(_value(key, item, names) for item in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None:
        return "—"
    if isinstance(value, str):
        return _text(value)
    return str(value)


def _is_reason(value: Any) -> bool:
    return isinstance(value, Mapping) and "code" in value and "args" in value


def _text(value: str) -> str:
    for enum_type in _STATUS_ENUMS:
        try:
            return label(enum_type(value))
        except ValueError:
            continue
    if _ISO_DATETIME.match(value):
        try:
            return fmt_datetime(datetime.fromisoformat(value), "short")
        except ValueError:
            return value
    if _ISO_DATE.match(value):
        try:
            return fmt_date(date.fromisoformat(value))
        except ValueError:
            return value
    return value
