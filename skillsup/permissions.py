"""Who may do what: plain predicates over users and objects.

Views call these to decide between 403/404 and going on, and to tell their templates which
actions to show (a template never tests a role or a status itself). Services call them
again, so a forgotten check in a view cannot open a hole.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from .models import (
    ApiToken,
    Certificate,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentSource,
    PartnerCompany,
    Role,
    User,
)


def _is(user: Any, role: Role) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role == role


def is_admin(user: Any) -> TypeGuard[User]:
    return _is(user, Role.ADMIN)


def is_hr(user: Any) -> TypeGuard[User]:
    return _is(user, Role.HR)


def is_trainer(user: Any) -> TypeGuard[User]:
    return _is(user, Role.TRAINER)


def is_learner(user: Any) -> TypeGuard[User]:
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
        return bool(actor.id != user.id)
    return (
        is_hr(actor)
        and user.role == Role.LEARNER
        and user.company_id is not None
        and user.company_id == actor.company_id
    )


def can_reset_two_factor(actor: Any, user: User) -> bool:
    """Reset someone's two-factor sign-in (a lost phone): admins, for anyone but themselves
    (their own they turn off from their account page, with a code)."""
    return is_admin(actor) and bool(actor.id != user.id)


def must_use_two_factor(user: Any, setting_requires: bool) -> bool:
    """Whether ``user`` must use two-factor sign-in: admins and HR officers, while the portal
    requires it (``setting_requires``, the ``REQUIRE_TWO_FACTOR`` setting)."""
    return setting_requires and (is_admin(user) or is_hr(user))


def can_turn_off_two_factor(user: Any, setting_requires: bool) -> bool:
    """Turn one's own two-factor sign-in off: anyone who need not use it."""
    return bool(getattr(user, "is_authenticated", False)) and not must_use_two_factor(
        user, setting_requires=setting_requires
    )


def can_edit_person(actor: Any, user: User) -> bool:
    """Change a person's name, address, role or company, or resend or withdraw their
    invitation: the institute's admins (their own role excepted, a rule of the change)."""
    return is_admin(actor)


def can_change_role(actor: Any, user: User) -> bool:
    """Whose role an admin may change: anyone's but their own."""
    return is_admin(actor) and bool(actor.id != user.id)


def can_view_employee(actor: Any, employee: User) -> bool:
    if is_admin(actor):
        return True
    if is_hr(actor):
        return employee.company_id is not None and employee.company_id == actor.company_id
    return bool(getattr(actor, "is_authenticated", False)) and actor.id == employee.id


def can_act_on_employee(actor: Any, employee: User) -> bool:
    """What an HR officer does to their company's staff (deactivate, reactivate, nominate,
    see their record): only to the learners of their own company."""
    return (
        is_hr(actor)
        and actor.company_id is not None
        and employee.company_id == actor.company_id
        and employee.role == Role.LEARNER
    )


def can_manage_staff_member(actor: Any, employee: User) -> bool:
    """Keep a company's learner in step with the company's own staff records (change their
    name, staff number, department or job title; deactivate or reactivate them with the
    withdrawals that go with it): their company's HR officers (as
    :func:`can_act_on_employee`), and the institute's admins for any company's learner."""
    if is_admin(actor):
        return employee.role == Role.LEARNER and employee.company_id is not None
    return can_act_on_employee(actor, employee)


def can_manage_companies(actor: Any) -> bool:
    """Partner companies, their domains, HR officers and seat quotas: the institute's admins."""
    return is_admin(actor)


def can_manage_catalogue(actor: Any) -> bool:
    return is_admin(actor)


def can_manage_class(actor: Any, course_class: CourseClass) -> bool:
    """Admins manage every class; trainers the classes they are assigned to."""
    if is_admin(actor):
        return True
    return is_trainer(actor) and any(t.id == actor.id for t in course_class.trainers)


def can_close_class_early(actor: Any) -> bool:
    """Close a class before its last session has ended (with a reason), or reopen a closed
    one: admins only."""
    return is_admin(actor)


def can_see_course(viewer: Any, course: Course) -> bool:
    """Published courses are for everyone; drafts and archived courses for admins only."""
    return course.status == CourseStatus.PUBLISHED or is_admin(viewer)


def can_request_enrolment(actor: Any, learner: User, source: EnrolmentSource) -> bool:
    """Who may ask for a place for a learner, by the path the request takes: a learner for
    themself, an HR officer for their own company's learners (one by one or by CSV), an
    admin for anyone. Only learners hold places."""
    if not is_learner(learner):
        return False
    if source == EnrolmentSource.SELF:
        return is_learner(actor) and actor.id == learner.id
    if source in (EnrolmentSource.NOMINATED, EnrolmentSource.CSV):
        return is_hr(actor) and actor.company_id == learner.company_id
    return is_admin(actor)


def can_see_enrolment(viewer: Any, enrolment: Enrolment) -> bool:
    """An enrolment and what comes of it (attendance, result, certificate): its learner,
    admins, and the HR officers of the company it was made under
    (:meth:`Enrolment.made_under`), even once the learner has moved to another company; never
    another company's HR officers, the learner's new company's included."""
    if is_admin(viewer):
        return True
    if is_hr(viewer):
        return enrolment.made_under(viewer.company_id)
    return is_learner(viewer) and enrolment.learner_id == viewer.id


def can_decide_enrolment(actor: Any, enrolment: Enrolment) -> bool:
    """Approve, reject or withdraw someone else's enrolment: an HR officer of the company it
    was made under (:meth:`Enrolment.made_under`, not the learner's company of today), or an
    admin."""
    if is_admin(actor):
        return True
    return is_hr(actor) and enrolment.made_under(actor.company_id)


def can_withdraw_own_enrolment(actor: Any, enrolment: Enrolment) -> bool:
    """A learner withdraws their own enrolments from My learning (HR and admins withdraw
    others' under :func:`can_decide_enrolment`)."""
    return is_learner(actor) and enrolment.learner_id == actor.id


def can_enter_cef_used_elsewhere(actor: Any) -> bool:
    """The Continuing Education Fund subsidy used elsewhere is the learner's own to enter."""
    return is_learner(actor)


def can_download_class_certificates(viewer: Any, course_class: CourseClass) -> bool:
    """The certificates of a class's learners: its trainers, and admins."""
    return can_manage_class(viewer, course_class)


def can_download_certificate(viewer: Any, certificate: Certificate) -> bool:
    """The learner it was issued to, an HR officer of the company the enrolment was made
    under, the trainers of its class, and admins."""
    enrolment = certificate.enrolment
    return can_see_enrolment(viewer, enrolment) or can_download_class_certificates(
        viewer, enrolment.course_class
    )


def can_revoke_certificate(viewer: Any) -> bool:
    """Only admins revoke certificates."""
    return is_admin(viewer)


def can_read_whole_audit_log(viewer: Any) -> bool:
    """Admins read every entry of the audit log; HR officers only their company's part."""
    return is_admin(viewer)


def is_hr_officer_of(user: Any, company: PartnerCompany) -> bool:
    """Whether ``user`` is one of ``company``'s HR officers (the people an admin manages on
    the company's page)."""
    return is_hr(user) and user.company_id == company.id


def can_manage_api_tokens(actor: Any) -> bool:
    """Admins create institute-wide API tokens; HR officers create their company's."""
    return is_admin(actor) or (is_hr(actor) and actor.company_id is not None)


def can_manage_api_token(actor: Any, token: ApiToken) -> bool:
    """An admin manages the institute-wide tokens; an HR officer their company's (any of its
    HR officers: a colleague can revoke the token of someone who has left)."""
    if token.company_id is None:
        return is_admin(actor)
    return is_hr(actor) and actor.company_id == token.company_id


def can_act_through_api_token(actor: Any, token: ApiToken) -> bool:
    """A token acts as the person who created it, while that person could still do so on the
    pages: an active admin (for an institute-wide token), or an active HR officer still of
    the token's company."""
    if not getattr(actor, "is_authenticated", False) or actor.id != token.created_by_id:
        return False
    if not actor.can_log_in:
        return False
    if token.company_id is None:
        return bool(actor.role == Role.ADMIN)
    return bool(actor.role == Role.HR and actor.company_id == token.company_id)


def can_manage_webhooks(actor: Any) -> bool:
    """Register, change, disable and follow the webhook endpoints of a company's HR system:
    its HR officers, for their own company only (the services find no other company's)."""
    return is_hr(actor) and actor.company_id is not None
