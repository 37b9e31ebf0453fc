"""An admin's changes to a person, without HTTP: role, company, address, invitations."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.links import PortalLinks
from skillsup.models import AuditEntry, ClassStatus, EnrolmentStatus, Role, User
from skillsup.services import accounts, people
from skillsup.services.errors import EmailTaken, InvalidToken, PermissionDenied, ValidationFailed
from skillsup.services.people import PersonDetails
from skillsup.services.seat_quotas import seats_used
from skillsup.services.tokens import Purpose, user_for_token
from tests.test_accounts_service import audit_actions, link_in, reload, token_in

LINKS = PortalLinks()


def details(user: User, **changes: Any) -> PersonDetails:
    values: dict[str, Any] = {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "company": user.company,
        "staff_number": user.staff_number,
        "department": user.department,
        "job_title": user.job_title,
    }
    values.update(changes)
    return PersonDetails(**values)


def change(actor: User, user: User, **changes: Any) -> dict[str, Any]:
    result = people.update_person(actor, user, details(user, **changes), links=LINKS)
    db.session.commit()
    return result


def refused(actor: User, user: User, error: type[Exception], **changes: Any) -> Any:
    before = (user.name, user.email, user.role, user.company_id, user.session_version)
    with pytest.raises(error) as caught:
        people.update_person(actor, user, details(user, **changes), links=LINKS)
    db.session.rollback()
    fresh = reload(user)
    assert (fresh.name, fresh.email, fresh.role, fresh.company_id, fresh.session_version) == before
    return caught.value


class TestDetails:
    def test_only_admins_change_people(self, hr_officer: User, learner: User) -> None:
        refused(hr_officer, learner, PermissionDenied, name="Someone Else")

    def test_name_and_job_are_saved_and_audited_with_before_and_after(
        self, admin: User, learner: User
    ) -> None:
        old_name, version = learner.name, learner.session_version
        changes = change(admin, learner, name="  Amy Chan Tai-man ", job_title="Engineer")
        learner = reload(learner)
        assert learner.name == "Amy Chan Tai-man"
        assert set(changes) == {"name", "job_title"}
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.changed"))
        assert entry is not None and entry.actor_id == admin.id
        assert entry.details["name"] == {"before": old_name, "after": "Amy Chan Tai-man"}
        # Nothing was taken away: the person stays logged in.
        assert learner.session_version == version

    def test_nothing_changed_records_nothing(self, admin: User, learner: User) -> None:
        assert change(admin, learner) == {}
        assert "account.changed" not in audit_actions(learner)

    def test_an_empty_name_is_refused(self, admin: User, learner: User) -> None:
        error = refused(admin, learner, ValidationFailed, name="   ")
        assert error.field == "name"

    def test_a_staff_number_taken_in_the_company_is_refused(
        self, make: Any, admin: User, learner: User, company: Any
    ) -> None:
        other = make.user(company=company)
        error = refused(admin, learner, ValidationFailed, staff_number=other.staff_number)
        assert error.field == "staff_number"


class TestRole:
    def test_a_role_change_ends_the_sessions_and_drops_the_company(
        self, make: Any, admin: User
    ) -> None:
        hr = make.user(role="hr")
        version = hr.session_version
        change(admin, hr, role=Role.TRAINER)
        hr = reload(hr)
        assert (hr.role, hr.company_id) == (Role.TRAINER, None)
        assert hr.session_version == version + 1
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "account.changed")
        ).all()
        assert entry.details["role"] == {"before": "hr", "after": "trainer"}

    def test_learners_and_hr_need_a_company(self, admin: User, trainer: User) -> None:
        error = refused(admin, trainer, ValidationFailed, role=Role.HR, company=None)
        assert error.field == "company"

    def test_an_admin_cannot_change_their_own_role(self, make: Any, admin: User) -> None:
        make.user(role="admin")
        error = refused(admin, admin, ValidationFailed, role=Role.TRAINER)
        assert error.field == "role"

    def test_the_last_active_admin_stays_an_admin(self, make: Any, admin: User) -> None:
        # Only an inactive admin could act besides them; the rule holds whoever acts.
        other = make.user(role="admin", is_active=False)
        error = refused(other, admin, ValidationFailed, role=Role.TRAINER)
        assert "last active admin" in error.message

    def test_another_admin_can_be_made_a_trainer(self, make: Any, admin: User) -> None:
        other = make.user(role="admin")
        change(admin, other, role=Role.TRAINER)
        assert reload(other).role is Role.TRAINER

    def test_a_learner_with_active_enrolments_keeps_the_role(
        self, make: Any, admin: User, learner: User
    ) -> None:
        make.enrolment(make.course_class(), learner, EnrolmentStatus.WAITLISTED)
        error = refused(admin, learner, ValidationFailed, role=Role.HR)
        assert "active enrolments" in error.message

    def test_a_learner_with_only_past_enrolments_can_become_hr(
        self, make: Any, admin: User, learner: User
    ) -> None:
        make.enrolment(make.course_class(), learner, EnrolmentStatus.WITHDRAWN)
        change(admin, learner, role=Role.HR)
        assert reload(learner).role is Role.HR

    def test_a_trainer_with_unfinished_classes_keeps_the_role(
        self, make: Any, admin: User, trainer: User
    ) -> None:
        make.course_class(trainers=[trainer], status=ClassStatus.COMPLETED)
        make.course_class(trainers=[trainer], status=ClassStatus.OPEN)
        error = refused(admin, trainer, ValidationFailed, role=Role.ADMIN)
        assert "1" in error.message

    def test_a_trainer_whose_classes_are_over_can_change_role(
        self, make: Any, admin: User, trainer: User
    ) -> None:
        make.course_class(trainers=[trainer], status=ClassStatus.CANCELLED)
        change(admin, trainer, role=Role.ADMIN)
        assert reload(trainer).role is Role.ADMIN


class TestCompany:
    def test_a_move_keeps_past_enrolments_with_the_old_company(
        self, make: Any, admin: User, learner: User, company: Any
    ) -> None:
        other = make.company(domains=["kowloon.test"])
        course_class = make.course_class()
        enrolment = make.enrolment(course_class, learner, EnrolmentStatus.COMPLETED)
        quota = make.quota(company, 5, course_class.starts_on, course_class.ends_on)
        used = seats_used(quota)
        version = learner.session_version
        change(admin, learner, company=other, email="amy@kowloon.test")
        learner = reload(learner)
        assert learner.company_id == other.id
        assert learner.session_version == version + 1
        assert db.session.get(type(enrolment), enrolment.id).company_id == company.id
        assert seats_used(quota) == used == 1

    def test_a_learner_with_active_enrolments_cannot_move(
        self, make: Any, admin: User, learner: User
    ) -> None:
        other = make.company(domains=["kowloon.test"])
        make.enrolment(make.course_class(), learner, EnrolmentStatus.PENDING)
        error = refused(admin, learner, ValidationFailed, company=other, email="amy@kowloon.test")
        assert error.field == "company"

    def test_not_into_an_inactive_company(self, make: Any, admin: User, learner: User) -> None:
        other = make.company(domains=["kowloon.test"], is_active=False)
        error = refused(admin, learner, ValidationFailed, company=other, email="amy@kowloon.test")
        assert error.field == "company"

    def test_the_address_must_be_at_the_new_company_domains(
        self, make: Any, admin: User, learner: User
    ) -> None:
        other = make.company(domains=["kowloon.test"])
        error = refused(admin, learner, ValidationFailed, company=other)
        assert error.field == "email"
        assert "kowloon.test" in error.message


class TestEmail:
    def test_a_new_address_waits_for_confirmation_from_it(
        self, admin: User, learner: User, outbox: list[Any]
    ) -> None:
        change(admin, learner, email="Amy.New@Harbour-IT.test")
        learner = reload(learner)
        assert learner.email == "amy.chan@harbour-it.test"
        assert learner.pending_email == "amy.new@harbour-it.test"
        to_new, to_old = outbox
        assert to_new.to == "amy.new@harbour-it.test"
        assert to_old.to == "amy.chan@harbour-it.test"
        assert "amy.new@harbour-it.test" in to_old.text
        token = token_in(to_new, "/confirm-new-address/")

        people.confirm_email_change(token)
        db.session.commit()
        learner = reload(learner)
        assert (learner.email, learner.pending_email) == ("amy.new@harbour-it.test", None)
        assert "account.email_changed" in audit_actions(learner)
        # The link works once.
        with pytest.raises(InvalidToken):
            people.confirm_email_change(token)

    def test_a_taken_address_is_refused_at_the_request(
        self, make: Any, admin: User, learner: User, company: Any
    ) -> None:
        other = make.user(company=company)
        error = refused(admin, learner, EmailTaken, email=other.email.upper())
        assert error.field == "email"

    def test_an_address_taken_meanwhile_is_refused_at_confirmation(
        self, make: Any, admin: User, learner: User, company: Any, outbox: list[Any]
    ) -> None:
        change(admin, learner, email="amy.new@harbour-it.test")
        token = token_in(outbox[0], "/confirm-new-address/")
        make.user(company=company, email="amy.new@harbour-it.test")
        with pytest.raises(EmailTaken):
            people.confirm_email_change(token)
        db.session.rollback()
        assert reload(learner).email == "amy.chan@harbour-it.test"

    def test_outside_the_company_domains_is_refused(self, admin: User, learner: User) -> None:
        error = refused(admin, learner, ValidationFailed, email="amy@gmail.test")
        assert error.field == "email"

    def test_an_invalid_address_is_refused(self, admin: User, learner: User) -> None:
        refused(admin, learner, ValidationFailed, email="not an address")

    def test_a_second_request_voids_the_first_link_and_cancel_voids_all(
        self, admin: User, learner: User, outbox: list[Any]
    ) -> None:
        change(admin, learner, email="amy.one@harbour-it.test")
        first = token_in(outbox[0], "/confirm-new-address/")
        change(admin, learner, email="amy.two@harbour-it.test")
        second = token_in(outbox[2], "/confirm-new-address/")
        with pytest.raises(InvalidToken):
            user_for_token(first, Purpose.CHANGE_EMAIL)
        people.cancel_email_change(admin, reload(learner))
        db.session.commit()
        with pytest.raises(InvalidToken):
            user_for_token(second, Purpose.CHANGE_EMAIL)
        assert "account.email_change_cancelled" in audit_actions(learner)

    def test_an_unaccepted_invitation_goes_to_the_new_address_at_once(
        self, admin: User, company: Any, outbox: list[Any]
    ) -> None:
        invitee = accounts.invite_user(
            admin, email="eve@harbour-it.test", name="Eve", role=Role.LEARNER,
            company=company, links=LINKS,
        )  # fmt: skip
        db.session.commit()
        old_link = token_in(outbox[0], "/invitation/")
        change(admin, invitee, email="eve.lam@harbour-it.test")
        invitee = reload(invitee)
        assert (invitee.email, invitee.pending_email) == ("eve.lam@harbour-it.test", None)
        assert outbox[-1].to == "eve.lam@harbour-it.test"
        assert link_in(outbox[-1], "/invitation/")
        with pytest.raises(InvalidToken):
            user_for_token(old_link, Purpose.INVITATION)


class TestInvitations:
    @pytest.fixture
    def invitee(self, admin: User, company: Any, outbox: list[Any]) -> User:
        user = accounts.invite_user(
            admin, email="eve@harbour-it.test", name="Eve", role=Role.LEARNER,
            company=company, links=LINKS,
        )  # fmt: skip
        db.session.commit()
        return user

    def test_pending_invitations_are_listed(self, invitee: User, learner: User) -> None:
        assert list(db.session.scalars(people.pending_invitations())) == [invitee]

    def test_resend_makes_a_new_link_and_voids_the_old(
        self, admin: User, invitee: User, outbox: list[Any]
    ) -> None:
        old = token_in(outbox[0], "/invitation/")
        people.resend_invitation(admin, invitee, LINKS)
        db.session.commit()
        new = token_in(outbox[1], "/invitation/")
        with pytest.raises(InvalidToken) as caught:
            user_for_token(old, Purpose.INVITATION)
        assert "newer invitation" in caught.value.message
        assert user_for_token(new, Purpose.INVITATION).id == invitee.id
        assert "account.invitation_resent" in audit_actions(invitee)

    def test_revoke_stops_the_link_with_a_clear_message(
        self, admin: User, invitee: User, outbox: list[Any]
    ) -> None:
        token = token_in(outbox[0], "/invitation/")
        people.revoke_invitation(admin, invitee)
        db.session.commit()
        with pytest.raises(InvalidToken) as caught:
            user_for_token(token, Purpose.INVITATION)
        assert "withdrawn" in caught.value.message
        assert list(db.session.scalars(people.pending_invitations())) == []
        with pytest.raises(ValidationFailed):
            people.revoke_invitation(admin, reload(invitee))
        # Inviting again renews it.
        people.resend_invitation(admin, reload(invitee), LINKS)
        db.session.commit()
        assert reload(invitee).is_active

    def test_an_accepted_invitation_cannot_be_resent_or_revoked(
        self, admin: User, learner: User
    ) -> None:
        with pytest.raises(ValidationFailed):
            people.resend_invitation(admin, learner, LINKS)
        with pytest.raises(ValidationFailed):
            people.revoke_invitation(admin, learner)

    def test_only_admins(self, hr_officer: User, invitee: User) -> None:
        with pytest.raises(PermissionDenied):
            people.resend_invitation(hr_officer, invitee, LINKS)
        with pytest.raises(PermissionDenied):
            people.revoke_invitation(hr_officer, invitee)
        with pytest.raises(PermissionDenied):
            people.cancel_email_change(hr_officer, invitee)
