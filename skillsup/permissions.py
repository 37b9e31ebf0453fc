"""Who may do what: plain predicates over users and objects.

Views call these to decide between 403/404 and going on; templates get them too, to show
only the actions a user may take. Services call them again, so a forgotten check in a view
cannot open a hole.
"""

from __future__ import annotations

from typing import Any

from .models import CourseClass, Enrolment, PartnerCompany, Role, User


def _is(user: Any, role: Role) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role == role


def is_admin(user: Any) -> bool:
    return _is(user, Role.ADMIN)


def is_hr(user: Any) -> bool:
    return _is(user, Role.HR)


def is_trainer(user: Any) -> bool:
    return _is(user, Role.TRAINER)


def is_learner(user: Any) -> bool:
    return _is(user, Role.LEARNER)


def can_invite(actor: Any, role: Role, company: PartnerCompany | None) -> bool:
    """Admins invite anyone; HR officers invite learners of their own company."""
    if is_admin(actor):
        return True
    return (
        is_hr(actor)
        and role == Role.LEARNER
        and company is not None
        and company.id == actor.company_id
    )


def can_manage_account(actor: Any, user: User) -> bool:
    """Deactivate or reactivate: admins anyone but themselves; HR their company's learners."""
    if is_admin(actor):
        return actor.id != user.id
    return (
        is_hr(actor)
        and user.role == Role.LEARNER
        and user.company_id is not None
        and user.company_id == actor.company_id
    )


def can_view_employee(actor: Any, employee: User) -> bool:
    if is_admin(actor):
        return True
    if is_hr(actor):
        return employee.company_id is not None and employee.company_id == actor.company_id
    return bool(getattr(actor, "is_authenticated", False)) and actor.id == employee.id


def can_manage_catalogue(actor: Any) -> bool:
    return is_admin(actor)


def can_manage_class(actor: Any, course_class: CourseClass) -> bool:
    """Admins manage every class; trainers the classes they are assigned to."""
    if is_admin(actor):
        return True
    return is_trainer(actor) and any(t.id == actor.id for t in course_class.trainers)


def can_withdraw_own_enrolment(actor: Any, enrolment: Enrolment) -> bool:
    """A learner withdraws their own enrolments from My learning (HR and admins withdraw
    others' from their own pages, under their own predicates)."""
    return is_learner(actor) and enrolment.learner_id == actor.id


def template_predicates() -> dict[str, Any]:
    """The predicates templates may call."""
    return {
        "is_admin": is_admin,
        "is_hr": is_hr,
        "is_trainer": is_trainer,
        "is_learner": is_learner,
        "can_invite": can_invite,
        "can_manage_account": can_manage_account,
        "can_view_employee": can_view_employee,
        "can_manage_catalogue": can_manage_catalogue,
        "can_manage_class": can_manage_class,
    }
