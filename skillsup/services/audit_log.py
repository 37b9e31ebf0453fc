"""Searching the audit log: who did what, to which object, and when.

Admins search the whole log. A partner company's HR officers search their own company's part
of it: the entries about its people (their accounts) from while they were its people, the
enrolments made under it (with their attendance marks and certificates), the company's seat
quotas, imports and downloads, its HR officers, and its HR officers' nominations into classes
(:mod:`.hr_scope`: a person moved from another company brings nothing of their time there).
The company condition is part of every query built here (:func:`visible_entries`), so a page
or an export that forgets a check still cannot show another company's entries.

A search filters by the person who acted, the action, the object (its type, and its id), and
a range of Hong Kong dates; it lists the newest entries first, and pages of it run a fixed
number of queries (the entries with their actors joined, and the count).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm import joinedload

from .. import permissions
from ..audit_text import (
    ACTIONS,
    OBJECT_TYPE_LABELS,
    action_label,
    object_type_label,
    readable_entries,
)
from ..extensions import db
from ..models import Attendance, AuditEntry, Certificate, Enrolment, User
from ..timeutil import start_of_hk_day_utc
from ..validators import MAX_ID
from . import audit
from .errors import ValidationFailed
from .hr_scope import company_enrolments, person_events
from .search import LIKE_ESCAPE, contains_pattern
from .staff import hr_company_id

#: The actions on a company's own record that its HR officers see: quotas, imports,
#: downloads and its HR officers (not the admins' edits of its name, domains or settings).
HR_COMPANY_ACTIONS = (
    "company.quota_added",
    "company.quota_updated",
    "company.quota_removed",
    "company.hr_officer_invited",
    "company.hr_officer_deactivated",
    "company.hr_officer_reactivated",
    "import.staff",
    "import.nominations",
    "report_exported",
    "audit_log.exported",
)

#: The object types an HR officer's part of the log holds entries about.
HR_OBJECT_TYPES = (
    "users",
    "enrolments",
    "attendance",
    "certificates",
    "partner_companies",
    "classes",
    "webhook_endpoints",
    "api_tokens",
)

#: Rows of an export read from the database at a time.
EXPORT_BATCH = 1000


#: The actions on people, enrolments and their marks, which HR officers see for their staff.
HR_ACTION_PREFIXES = (
    "auth.",
    "account.",
    "calendar.",
    "staff.",
    "enrolment.",
    "attendance.",
    "certificate.",
    "webhook.",
    "api_token.",
)


def actions_for(actor: User) -> list[str]:
    """The actions ``actor`` may filter by: all for admins, those their company's part of the
    log can hold for HR officers."""
    if permissions.can_read_whole_audit_log(actor):
        return list(ACTIONS)
    return [
        action
        for action in ACTIONS
        if action.startswith(HR_ACTION_PREFIXES) or action in HR_COMPANY_ACTIONS
    ]


def object_types_for(actor: User) -> list[str]:
    """The object types ``actor`` may filter by: every type for admins, those of their
    company's part of the log for HR officers."""
    if permissions.can_read_whole_audit_log(actor):
        return list(OBJECT_TYPE_LABELS)
    return list(HR_OBJECT_TYPES)


@dataclass(frozen=True)
class AuditFilters:
    """What a search of the log asks for; an empty field does not filter.

    ``person`` is part of the acting person's name or e-mail address; ``from_day`` and
    ``to_day`` are Hong Kong dates, both included.
    """

    person: str = ""
    action: str = ""
    object_type: str = ""
    object_id: int | None = None
    from_day: date | None = None
    to_day: date | None = None

    def as_details(self) -> dict[str, Any]:
        """The filters that are set, for the record of an export."""
        values = {
            "person": self.person,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "from_day": self.from_day.isoformat() if self.from_day else None,
            "to_day": self.to_day.isoformat() if self.to_day else None,
        }
        return {name: value for name, value in values.items() if value not in (None, "")}


def visible_entries(actor: User) -> ColumnElement[bool]:
    """The condition an entry meets when ``actor`` may read it: any entry for admins; for HR
    officers, an entry about their own company's part (see the module's docstring).

    Raises :class:`PermissionDenied` for anyone else.
    """
    if permissions.can_read_whole_audit_log(actor):
        return true()
    company_id = hr_company_id(actor)
    # People and enrolments as the company had them (:mod:`.hr_scope`): a person's entries
    # from while they were its, and the enrolments made under it, wherever the person is now.
    enrolments = select(Enrolment.id).where(*company_enrolments(company_id))
    kind, object_id = AuditEntry.object_type, AuditEntry.object_id
    return or_(
        and_(*person_events(company_id)),
        and_(kind == "enrolments", object_id.in_(enrolments)),
        and_(
            kind == "attendance",
            object_id.in_(select(Attendance.id).where(Attendance.enrolment_id.in_(enrolments))),
        ),
        and_(
            kind == "certificates",
            object_id.in_(select(Certificate.id).where(Certificate.enrolment_id.in_(enrolments))),
        ),
        and_(
            kind == "partner_companies",
            object_id == company_id,
            AuditEntry.action.in_(HR_COMPANY_ACTIONS),
        ),
        # Nominations are recorded on the class, with the company of the HR officer who made
        # them (who may work for another company since).
        and_(
            kind == "classes",
            AuditEntry.action == "staff.nominated",
            AuditEntry.company_id == company_id,
        ),
        # The company's webhook endpoints, recorded with it.
        and_(kind == "webhook_endpoints", AuditEntry.company_id == company_id),
        # The company's API tokens, created and revoked.
        and_(kind == "api_tokens", AuditEntry.company_id == company_id),
    )


def search(actor: User, filters: AuditFilters) -> Select[AuditEntry]:
    """The entries ``actor`` may read that match ``filters``, newest first, with their actors
    and the API tokens they came through loaded: a statement to paginate or to read in
    batches.

    Raises :class:`PermissionDenied` unless the actor is an admin or an HR officer, and
    :class:`ValidationFailed` (naming the field) for an object id no row can have or a date
    range that ends before it starts.
    """
    statement = (
        select(AuditEntry)
        .options(joinedload(AuditEntry.actor), joinedload(AuditEntry.api_token))
        .where(visible_entries(actor))
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    )
    if filters.person.strip():
        pattern = contains_pattern(filters.person.lower())
        statement = statement.where(
            AuditEntry.actor_id.in_(
                select(User.id).where(
                    or_(
                        User.email.like(pattern, escape=LIKE_ESCAPE),
                        User.name.ilike(pattern, escape=LIKE_ESCAPE),
                    )
                )
            )
        )
    if filters.action:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.object_type:
        statement = statement.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id is not None:
        if not 0 < filters.object_id <= MAX_ID:
            raise ValidationFailed(
                _l("Enter a whole number from 1 to %(max)d.", max=MAX_ID), field="object_id"
            )
        statement = statement.where(AuditEntry.object_id == filters.object_id)
    if filters.from_day and filters.to_day and filters.to_day < filters.from_day:
        raise ValidationFailed(_l("The last day cannot be before the first."), field="to_day")
    if filters.from_day:
        statement = statement.where(AuditEntry.occurred_at >= start_of_hk_day_utc(filters.from_day))
    if filters.to_day:
        statement = statement.where(
            AuditEntry.occurred_at < start_of_hk_day_utc(filters.to_day + timedelta(days=1))
        )
    return statement


def nothing() -> Select[AuditEntry]:
    """A search that finds no entry: what a page shows while its filters are wrong."""
    return select(AuditEntry).where(false())


EXPORT_HEADER = (
    _l("When (Hong Kong time)"),
    _l("Who"),
    _l("E-mail address"),
    _l("Action"),
    _l("What"),
    _l("Details"),
    _l("Object"),
    _l("Object ID"),
    _l("Action code"),
)


def export_rows(actor: User, filters: AuditFilters) -> Iterator[list[Any]]:
    """The rows of the search's CSV file, newest first, read in batches as they are written:
    each entry's name, sentence and details in the reader's language (those of the page, from
    :mod:`skillsup.audit_text`), with the names its details mention looked up once a batch.
    "Who" names the API token a change came through.

    The same entries as :func:`search` (which raises what it raises, before the first row).
    """
    statement = search(actor, filters).execution_options(yield_per=EXPORT_BATCH)

    def rows() -> Iterator[list[Any]]:
        for batch in db.session.scalars(statement).partitions():
            for readable in readable_entries(batch):
                person = readable.actor
                yield [
                    readable.occurred_at,
                    readable.who,
                    person.email if person else "",
                    action_label(readable.action),
                    readable.sentence,
                    readable.details_text,
                    object_type_label(readable.object_type),
                    readable.object_id,
                    readable.action,
                ]

    return rows()


def record_export(actor: User, filters: AuditFilters) -> AuditEntry:
    """Note in the log that ``actor`` downloaded part of it, with the filters used: an HR
    officer's download is recorded on their company, so that its part of the log shows it."""
    object_type, object_id = "system", None
    if not permissions.can_read_whole_audit_log(actor):
        object_type, object_id = "partner_companies", hr_company_id(actor)
    return audit.record(
        actor,
        "audit_log.exported",
        object_type=object_type,
        object_id=object_id,
        summary="audit log export (csv)",
        details=filters.as_details(),
    )
