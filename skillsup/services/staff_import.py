"""The HR staff import: inviting a company's staff from a CSV file.

It follows the two steps of :mod:`.imports` (a preview, then the import of every row or none).

Rules of the staff import (one row per person: e-mail, name, staff number, department, job
title): the e-mail address must be valid, at one of the company's e-mail domains and not
already have an account; the name is required; the staff number, when given, must be free in
the company; no e-mail address or staff number may appear twice in the file; no value may be
longer than its column. The domain rule is stricter than the one-by-one invitation form on
purpose: a file is typed or exported in bulk, and an address outside the company's domains is
almost always a typing error or a private address, which would give an account in the
company's name to someone the company's mail system does not vouch for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Role, User, normalise_email
from ..validators import is_valid_email
from . import accounts, audit
from .errors import DomainError
from .imports import (
    EMAIL_MAX,
    STAFF,
    ImportChanged,
    ImportPreview,
    ImportTampered,
    Outcome,
    RowResult,
    StaffRow,
    hr_company,
    mark_changes,
    other_rows,
    row_list,
    scalars_in,
)

# Column lengths of the users table: longer values are refused row by row.
NAME_MAX = 200
STAFF_NUMBER_MAX = 50
DEPARTMENT_MAX = 120
JOB_TITLE_MAX = 120


def preview_staff_import(actor: User, rows: Sequence[StaffRow]) -> ImportPreview[StaffRow]:
    """What inviting each row's person would do, without saving anything.

    Looks the file's addresses and staff numbers up in two queries (a few more for a long
    file), whatever its length. A row is *invite* when it breaks none of the rules in this
    module's description, else *error* with every problem it has.

    Raises :class:`PermissionDenied` unless ``actor`` is an HR officer.
    """
    company = hr_company(actor)
    domains = set(company.domain_names)
    emails = [normalise_email(row.email) for row in rows]
    taken_emails = set(
        scalars_in(select(User.email), User.email, {email for email in emails if email})
    )
    numbers = {row.staff_number for row in rows if row.staff_number}
    taken_numbers = set(
        scalars_in(
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
        if email and (others := other_rows(rows_by_email[email], row.number)):
            problems.append(
                ngettext(
                    "The same e-mail address is also on row %(rows)s.",
                    "The same e-mail address is also on rows %(rows)s.",
                    len(others),
                    rows=row_list(others),
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
            if others := other_rows(rows_by_staff_number[row.staff_number], row.number):
                problems.append(
                    ngettext(
                        "The same staff number is also on row %(rows)s.",
                        "The same staff number is also on rows %(rows)s.",
                        len(others),
                        rows=row_list(others),
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
    links: accounts.AccountLinks,
    expected: Sequence[Outcome] | None = None,
    filename: str = "",
) -> ImportPreview[StaffRow]:
    """Invite every row's person as a learner of ``actor``'s company, all or none.

    Each invitation goes through :func:`accounts.invite_user` (which records it and queues
    its e-mail, with the link from ``links``, for after the commit), and the import as a
    whole is recorded in the audit log. Returns the preview of what was done.

    Raises :class:`PermissionDenied` unless ``actor`` is an HR officer, and
    :class:`ImportChanged`, having changed nothing, when any row now fails (someone took an
    address or staff number since the preview, say): its preview marks those rows.
    """
    company = hr_company(actor)
    expected = list(expected) if expected is not None else [Outcome.INVITE] * len(rows)
    if len(expected) != len(rows):
        raise ImportTampered()
    preview = preview_staff_import(actor, rows)
    if mark_changes(preview, expected):
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
                links=links,
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
        mark_changes(fresh, expected)
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


def _numbers_by_key(rows: Sequence[Any], keys: Sequence[str]) -> dict[str, list[int]]:
    numbers: dict[str, list[int]] = defaultdict(list)
    for row, key in zip(rows, keys, strict=True):
        if key:
            numbers[key].append(row.number)
    return numbers


def _too_long(what: Any, limit: int) -> Any:
    return _l("%(what)s is longer than %(max)d characters.", what=what, max=limit)
