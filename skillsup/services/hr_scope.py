"""Which rows a partner company's HR officers see and count: the one home of the rule.

An enrolment belongs to the company it was made under (``Enrolment.company_id``, stamped when
it is made and never changed; :meth:`skillsup.models.Enrolment.made_under`), not to the
company its learner works for today. A learner moved to another company by an admin takes
no enrolment along: the old company's HR still sees and counts the enrolments made under it
(the person has left, but the training was theirs to report), and the new company's HR sees
only the enrolments made since. Between partner companies this is also privacy: an HR
officer never sees, counts or acts on an enrolment a person made under another company.

A company's *staff* are its learners now (:func:`company_staff`): the directory, nominations
and invitations are about them. Its *enrolments* (:func:`company_enrolments`) are the rows of
every HR figure, report, class page and approval. A person's staff number, department and
job title belong to their present company: for someone who has left they are blank
(:func:`while_at_company`), and a department filter keeps to the company's current staff.

A person's account events (invitation, deactivation and its reason, sign-ins, moves) belong
the same way to the company the person was at when they happened (``AuditEntry.company_id``,
recorded with each entry about a person; :func:`person_events`): a company's HR never sees
what happened while the person worked for another company, before they joined or after they
left, on the person's page or in its part of the audit log.

Every HR service builds its queries from these conditions, so no view has to remember them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case

from ..models import AuditEntry, Enrolment, Role, User


def company_staff(company_id: Any, department: str | None = None) -> list[ColumnElement[bool]]:
    """Conditions that keep a query to the company's learners of today (of one department);
    the company's id, or a bound parameter for a statement built once."""
    conditions = [User.company_id == company_id, User.role == Role.LEARNER]
    if department is not None:
        conditions.append(User.department == department)
    return conditions


def company_enrolments(company_id: Any, department: str | None = None) -> list[ColumnElement[bool]]:
    """Conditions that keep a query to the enrolments made under the company (its id, or a
    bound parameter for a statement built once), whoever's company their learner is now.
    With ``department``, to those of its present staff in that department (the query joins
    ``User`` as the enrolment's learner): someone who has left is in none of its
    departments."""
    conditions = [Enrolment.made_under_sql(company_id)]
    if department is not None:
        conditions.extend(company_staff(company_id, department))
    return conditions


def is_current_staff(company_id: int) -> ColumnElement[bool]:
    """SQL: the ``User`` of the row is one of the company's learners today."""
    return and_(*company_staff(company_id))


def is_staff_of(user: User, company_id: int | None) -> bool:
    """:func:`is_current_staff` in Python, for a person already loaded: whether ``user`` is
    one of the company's learners today (so their staff number, department and job title
    are the company's to see)."""
    return company_id is not None and user.company_id == company_id and user.role == Role.LEARNER


def while_at_company(company_id: int, column: Any) -> Any:
    """SQL: a person's detail that their present company gave them (staff number, department,
    job title), or NULL for someone who has left the company."""
    return case((is_current_staff(company_id), column), else_=None)


def person_events(company_id: int) -> list[ColumnElement[bool]]:
    """Conditions that keep a query of the audit log to the entries about people recorded
    while those people were at the company (whichever company they are at now)."""
    return [AuditEntry.object_type == User.__tablename__, AuditEntry.company_id == company_id]
