"""Audit entries as people read them: a sentence in the reader's language, and the details
as labelled, human values (names of people and companies, roles, dates and times in Hong Kong
time, the labels of statuses, reasons worded), never raw dictionaries.

:data:`ACTIONS` is the one home of the words for each kind of entry: its name (what the
audit log's filter and CSV call it) and its sentence. :func:`readable_entries` prepares a
list of entries for a page or a batch of a CSV file (a bounded number of queries for the
names the details mention, whatever the number of entries); the Jinja macros in
``templates/macros/audit.html`` show one (``audit_what`` its sentence and details, for any
table; ``audit_entry`` a whole change-history row). An action without words of its own is
told by a generic sentence, so that a new kind of entry still reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .extensions import db
from .i18n import fmt_date, fmt_datetime
from .labels import label
from .models import (
    ApiToken,
    AttendanceStatus,
    AuditEntry,
    ClassStatus,
    CourseStatus,
    EnrolmentStatus,
    PartnerCompany,
    Role,
    User,
)
from .reasons import render as render_reasons


@dataclass(frozen=True)
class ActionText:
    """How the portal words one kind of audit entry: ``label`` names it (the audit log's
    filter, the CSV's "Action" column), ``sentence`` says what was done (a change history,
    the audit log's entries, the admin's recent changes)."""

    label: Any
    sentence: Any


#: Every action the portal records, named and told in one place (``tests/test_audit_log.py``
#: checks that each action a call of ``audit.record`` writes is here).
ACTIONS: dict[str, ActionText] = {
    "auth.login": ActionText(_l("Signed in"), _l("Signed in")),
    "auth.session_ended": ActionText(
        _l("Session ended"), _l("Ended their session on another device")
    ),
    "auth.other_sessions_ended": ActionText(
        _l("Other sessions ended"), _l("Ended every other session of theirs")
    ),
    "account.registered": ActionText(_l("Registered"), _l("Registered as a learner")),
    "account.created": ActionText(_l("Account created"), _l("Created the account")),
    "account.email_confirmed": ActionText(
        _l("E-mail address confirmed"), _l("Confirmed the e-mail address")
    ),
    "account.invited": ActionText(_l("Invited"), _l("Invited the person to the portal")),
    "account.invitation_accepted": ActionText(
        _l("Invitation accepted"), _l("Accepted the invitation and chose a password")
    ),
    "account.invitation_resent": ActionText(
        _l("Invitation sent again"), _l("Sent the invitation again")
    ),
    "account.invitation_revoked": ActionText(
        _l("Invitation withdrawn"), _l("Withdrew the invitation")
    ),
    "account.password_reset": ActionText(_l("Password reset"), _l("Reset the password")),
    "account.password_changed": ActionText(_l("Password changed"), _l("Changed the password")),
    "account.updated": ActionText(_l("Profile updated"), _l("Updated their own profile")),
    "account.changed": ActionText(
        _l("Person's details changed"), _l("Changed the person's details")
    ),
    "account.email_changed": ActionText(
        _l("E-mail address changed"), _l("Confirmed a new e-mail address")
    ),
    "account.email_change_cancelled": ActionText(
        _l("Change of e-mail address cancelled"), _l("Cancelled a change of e-mail address")
    ),
    "account.deactivated": ActionText(_l("Account deactivated"), _l("Deactivated the account")),
    "account.reactivated": ActionText(_l("Account reactivated"), _l("Reactivated the account")),
    "account.two_factor_enabled": ActionText(
        _l("Two-factor sign-in turned on"), _l("Turned on two-factor sign-in")
    ),
    "account.two_factor_disabled": ActionText(
        _l("Two-factor sign-in turned off"), _l("Turned off two-factor sign-in")
    ),
    "account.two_factor_reset": ActionText(
        _l("Two-factor sign-in reset"), _l("Reset the person's two-factor sign-in")
    ),
    "account.recovery_codes_renewed": ActionText(
        _l("New recovery codes"), _l("Made new recovery codes for two-factor sign-in")
    ),
    "auth.recovery_code_used": ActionText(
        _l("Signed in with a recovery code"), _l("Signed in with a recovery code")
    ),
    "calendar.token_reset": ActionText(
        _l("Calendar feed address reset"), _l("Reset the calendar feed address")
    ),
    "staff.deactivated": ActionText(_l("Employee deactivated"), _l("Deactivated the employee")),
    "staff.nominated": ActionText(_l("Staff nominated"), _l("Nominated staff into the class")),
    "import.staff": ActionText(_l("Staff imported"), _l("Invited staff from a CSV file")),
    "import.nominations": ActionText(
        _l("Nominations imported"), _l("Nominated staff from a CSV file")
    ),
    "enrolment.created": ActionText(_l("Enrolment requested"), _l("Enrolment requested")),
    "enrolment.status_changed": ActionText(
        _l("Enrolment status changed"), _l("Enrolment status changed")
    ),
    "enrolment.result_recorded": ActionText(
        _l("Result recorded"), _l("Recorded an assessment result")
    ),
    "attendance.marked": ActionText(_l("Attendance marked"), _l("Marked attendance")),
    "attendance.corrected": ActionText(_l("Attendance corrected"), _l("Corrected attendance")),
    "certificate.issued": ActionText(_l("Certificate issued"), _l("Issued a certificate")),
    "certificate.revoked": ActionText(_l("Certificate revoked"), _l("Revoked a certificate")),
    "course.created": ActionText(_l("Course created"), _l("Created the course")),
    "course.updated": ActionText(_l("Course updated"), _l("Changed the course")),
    "course.published": ActionText(_l("Course published"), _l("Published the course")),
    "course.unpublished": ActionText(_l("Course unpublished"), _l("Took the course back to draft")),
    "course.archived": ActionText(_l("Course archived"), _l("Archived the course")),
    "course.funding_changed": ActionText(
        _l("Course's funding schemes changed"), _l("Changed the course's funding schemes")
    ),
    "class.created": ActionText(_l("Class created"), _l("Created the class")),
    "class.updated": ActionText(_l("Class updated"), _l("Changed the class")),
    "class.status_changed": ActionText(
        _l("Class status changed"), _l("Changed the class's status")
    ),
    "class.funding_changed": ActionText(
        _l("Class's funding schemes changed"), _l("Changed the class's funding schemes")
    ),
    "funding_scheme.created": ActionText(
        _l("Funding scheme created"), _l("Created the funding scheme")
    ),
    "funding_scheme.updated": ActionText(
        _l("Funding scheme updated"), _l("Changed the funding scheme")
    ),
    "funding_scheme.figures_changed": ActionText(
        _l("Funding scheme's figures changed"), _l("Changed the funding scheme's figures")
    ),
    "account.cef_subsidy_entered": ActionText(
        _l("CEF subsidy used elsewhere entered"),
        _l("Entered the Continuing Education Fund subsidy used elsewhere"),
    ),
    "session.added": ActionText(_l("Session added"), _l("Added a session")),
    "session.updated": ActionText(_l("Session moved"), _l("Moved a session")),
    "session.removed": ActionText(_l("Session removed"), _l("Removed a session")),
    "sessions.generated": ActionText(_l("Sessions generated"), _l("Added sessions")),
    "company.created": ActionText(_l("Partner company created"), _l("Created the partner company")),
    "company.updated": ActionText(_l("Partner company updated"), _l("Changed the partner company")),
    "company.deactivated": ActionText(
        _l("Partner company deactivated"), _l("Deactivated the partner company")
    ),
    "company.reactivated": ActionText(
        _l("Partner company reactivated"), _l("Reactivated the partner company")
    ),
    "company.sso_saved": ActionText(
        _l("Single sign-on changed"), _l("Changed the company's single sign-on")
    ),
    "company.hr_officer_invited": ActionText(_l("HR officer invited"), _l("Invited an HR officer")),
    "company.hr_officer_deactivated": ActionText(
        _l("HR officer deactivated"), _l("Deactivated an HR officer")
    ),
    "company.hr_officer_reactivated": ActionText(
        _l("HR officer reactivated"), _l("Reactivated an HR officer")
    ),
    "company.quota_added": ActionText(_l("Seat quota added"), _l("Added a seat quota")),
    "company.quota_updated": ActionText(_l("Seat quota changed"), _l("Changed a seat quota")),
    "company.quota_removed": ActionText(_l("Seat quota removed"), _l("Removed a seat quota")),
    "report_exported": ActionText(_l("Report downloaded"), _l("Exported a report")),
    "audit_log.exported": ActionText(
        _l("Audit log downloaded"), _l("Downloaded entries of the audit log")
    ),
    "funding.claim_received": ActionText(
        _l("Money received on a claim"), _l("Recorded the money received on a funding claim")
    ),
    "api_token.created": ActionText(_l("API token created"), _l("Created an API token")),
    "api_token.revoked": ActionText(_l("API token revoked"), _l("Revoked an API token")),
    "webhook.registered": ActionText(
        _l("Webhook endpoint registered"), _l("Registered a webhook endpoint")
    ),
    "webhook.updated": ActionText(_l("Webhook endpoint changed"), _l("Changed a webhook endpoint")),
    "webhook.disabled": ActionText(
        _l("Webhook endpoint disabled"), _l("Disabled a webhook endpoint")
    ),
    "webhook.enabled": ActionText(_l("Webhook endpoint enabled"), _l("Enabled a webhook endpoint")),
    "webhook.secret_rotated": ActionText(
        _l("Webhook signing secret rotated"), _l("Rotated the signing secret of a webhook endpoint")
    ),
    "webhook.redelivered": ActionText(
        _l("Webhook event sent again"), _l("Sent a webhook event again")
    ),
    "webhook.test_sent": ActionText(
        _l("Webhook test event sent"), _l("Sent a test event to a webhook endpoint")
    ),
    "demo.seeded": ActionText(_l("Demo data loaded"), _l("Loaded the demo data")),
    "bench.seeded": ActionText(_l("Benchmark data loaded"), _l("Loaded the benchmark data")),
}

#: The kinds of object an entry is about (the ``object_type`` it records), by name.
OBJECT_TYPE_LABELS: dict[str, Any] = {
    "users": _l("Person"),
    "enrolments": _l("Enrolment"),
    "attendance": _l("Attendance mark"),
    "certificates": _l("Certificate"),
    "partner_companies": _l("Partner company"),
    "classes": _l("Class"),
    "courses": _l("Course"),
    "funding_schemes": _l("Funding scheme"),
    "api_tokens": _l("API token"),
    "webhook_endpoints": _l("Webhook endpoint"),
    "system": _l("The portal"),
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
    "role": _l("Role"),
    "company": _l("Company"),
    "staff_number": _l("Staff number"),
    "department": _l("Department"),
    "job_title": _l("Job title"),
    "pending_email": _l("Address waiting for confirmation"),
    "renewed": _l("A withdrawn invitation renewed"),
    "person": _l("Person"),
    "action": _l("Action"),
    "object_type": _l("Object"),
    "object_id": _l("Object ID"),
    "from_day": _l("From"),
    "to_day": _l("To"),
    "report": _l("Report"),
    "format": _l("Format"),
    "label": _l("Name"),
    "seats": _l("Seats"),
    "domains": _l("E-mail domains"),
    "requires_approval": _l("Enrolments need HR approval"),
    "session_starts_at": _l("Session"),
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "room": _l("Room"),
    "weeks": _l("Weeks"),
    "weekdays": _l("Days of the week"),
    "skipped": _l("Days skipped"),
    "skip_public_holidays": _l("Public holidays skipped"),
    "confirmed": _l("Confirmed"),
    "waitlisted": _l("Waitlisted"),
    "score": _l("Score"),
    "passed": _l("Passed"),
    "emails": _l("E-mail addresses"),
    "funding_schemes": _l("Funding schemes"),
    "effective_from": _l("From"),
    "name_en": _l("Name (English)"),
    "name_zh": _l("Name (Chinese)"),
    "paid_to": _l("Paid to"),
    "class_rules_apply": _l("The class's own rules apply where stricter"),
    "pass_mark_pct": _l("Pass mark (%)"),
    "subsidy_kind": _l("Subsidy"),
    "first_tier_limit": _l("First tier of subsidy (HKD)"),
    "first_tier_co_payment_pct": _l("Co-payment in the first tier (%)"),
    "later_co_payment_pct": _l("Co-payment beyond the first tier (%)"),
    "fee_share_numerator": _l("Share of the fee: numerator"),
    "fee_share_denominator": _l("Share of the fee: denominator"),
    "person_lifetime_cap": _l("Cap per person (HKD)"),
    "company_cap_per_year": _l("Cap per company per financial year (HKD)"),
    "year_starts_month": _l("Financial year's first month"),
    "note_en": _l("Note (English)"),
    "note_zh": _l("Note (Chinese)"),
    "amount": _l("Amount (HKD)"),
    "scheme": _l("Scheme"),
    "url": _l("Address"),
    "description": _l("Description"),
    "events": _l("Events"),
    "changed": _l("Changed"),
    "deliveries_stopped": _l("Deliveries stopped"),
    "old_secret_until": _l("The old secret signs until"),
    "event_id": _l("Event ID"),
    "event": _l("Event"),
    "token_name": _l("Token name"),
    "scopes": _l("Scopes"),
    "expires_at": _l("Expires"),
}

#: Details that only tie the entry to rows (shown elsewhere on the page, or by name).
_HIDDEN = frozenset(
    {
        "session_id",
        "session_ids",
        "enrolment_id",
        "quota_id",
        "class_id",
        "withdrawn_enrolment_ids",
    }
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

    @property
    def api_token(self) -> ApiToken | None:
        """The API token the change came through, if it came through the API."""
        return self.entry.api_token

    @property
    def who(self) -> str:
        """Who made the change, on one line (a CSV cell): "Jane Doe via API token “Nightly
        HR sync”" for a change made through the API."""
        return who(self.entry)

    @property
    def action(self) -> str:
        return self.entry.action

    @property
    def object_type(self) -> str:
        return self.entry.object_type

    @property
    def object_id(self) -> int | None:
        return self.entry.object_id

    @property
    def details_text(self) -> str:
        """The details on one line (a CSV cell): "Heading: value; Heading: value"."""
        return "; ".join(f"{heading}: {value}" for heading, value in self.details)


def via_api_token(entry: AuditEntry) -> str | None:
    """ "via API token “Nightly HR sync”" for a change made through the API, else ``None``.
    The token comes with the entry: load it with the entries (no query per entry)."""
    token = entry.api_token
    if token is None:
        return None
    return _("via API token “%(name)s”", name=token.name)


def who(entry: AuditEntry) -> str:
    """Who made the change: the person's name ("System" for the portal itself), and the API
    token it came through, if any."""
    person = entry.actor.name if entry.actor is not None else _("System")
    token = entry.api_token
    if token is None:
        return person
    return _("%(person)s via API token “%(name)s”", person=person, name=token.name)


def action_label(action: str) -> str:
    """The name of ``action`` in the reader's language (the code itself if it has none)."""
    known = ACTIONS.get(action)
    return str(known.label) if known is not None else action


def object_type_label(object_type: str) -> str:
    """The name of a kind of object in the reader's language (the type itself if unknown)."""
    name = OBJECT_TYPE_LABELS.get(object_type)
    return str(name) if name is not None else object_type


def sentence(action: str) -> str:
    """The sentence for ``action`` in the reader's language; a generic one when the action
    has none of its own."""
    known = ACTIONS.get(action)
    if known is not None:
        return str(known.sentence)
    return _("Recorded: %(action)s", action=action.replace(".", " ").replace("_", " "))


@dataclass(frozen=True)
class _Names:
    """The names the details of a list of entries mention: people by id, companies by code."""

    people: Mapping[int, str]
    companies: Mapping[str, str]


def readable_entries(entries: Sequence[AuditEntry]) -> list[ReadableEntry]:
    """Each entry as a sentence with labelled details in the reader's language; the names of
    the people the details mention are looked up in one query, and those of the companies
    (a person's company before and after a change, recorded by code) in one more when any
    entry names one: a bounded number of queries however many entries there are."""
    names = _Names(_people(_people_ids(entries)), _companies(_company_codes(entries)))
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


def _company_codes(entries: Iterable[AuditEntry]) -> set[str]:
    codes: set[str] = set()
    for entry in entries:
        value = (entry.details or {}).get("company")
        items = value.values() if isinstance(value, Mapping) else [value]
        codes |= {item for item in items if isinstance(item, str)}
    return codes


def _people(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {row.id: row.name for row in rows}


def _companies(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = db.session.execute(
        select(PartnerCompany.code, PartnerCompany.name).where(PartnerCompany.code.in_(codes))
    )
    return {row.code: row.name for row in rows}


def _details(details: Mapping[str, Any], names: _Names) -> list[tuple[str, str]]:
    shown = []
    for key, value in details.items():
        if key in _HIDDEN or value is None or value == "" or value == []:
            continue
        shown.append((_heading(key), _value(key, value, names)))
    return shown


#: The two ends of a change, as the portal records them (older entries say old/new).
_CHANGE_KEYS = ({"old", "new"}, {"before", "after"})


def _value(key: str, value: Any, names: _Names) -> str:
    if key == "reasons" or (isinstance(value, list) and value and _is_reason(value[0])):
        return render_reasons(value)
    if key in _PEOPLE:
        items = value if isinstance(value, list) else [value]
        return ", ".join(names.people.get(item, f"#{item}") for item in items)
    if key == "weekdays" and isinstance(value, list):
        # Recorded as numbers, 0 for Monday (as Python and Babel count them).
        days = get_day_names("wide", locale=get_locale() or "en")
        return ", ".join(days.get(day, str(day)) for day in value)
    if isinstance(value, Mapping):
        if set(value) in _CHANGE_KEYS:
            old, new = (
                (value["old"], value["new"])
                if "old" in value
                else (
                    value["before"],
                    value["after"],
                )
            )
            return f"{_value(key, old, names)} → {_value(key, new, names)}"
        return "; ".join(f"{_heading(k)}: {_value(k, v, names)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_value(key, item, names) for item in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None:
        return "—"
    if isinstance(value, str):
        return _named(key, value, names)
    return str(value)


def _heading(key: str) -> str:
    heading = DETAIL_LABELS.get(key)
    return str(heading) if heading is not None else key.replace("_", " ").capitalize()


def _named(key: str, value: str, names: _Names) -> str:
    """A recorded text as people read it: a role, company, action or kind of object by its
    name, a status by its label, a date or time in the reader's format."""
    if key == "role":
        try:
            return label(Role(value))
        except ValueError:
            return value
    if key == "company":
        return names.companies.get(value, value)
    if key == "action":
        return action_label(value)
    if key == "object_type":
        return object_type_label(value)
    return _text(value)


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
