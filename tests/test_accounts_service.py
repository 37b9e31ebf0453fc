"""The account services without HTTP: passwords, sign-in, registration, invitations, resets.

Each test calls the service in the ``app`` fixture's application context and no request (as
a CLI command or a background job would), commits where a view would, and reads the database
back.
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from argon2 import PasswordHasher
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from skillsup import create_app
from skillsup.extensions import db
from skillsup.links import PortalLinks
from skillsup.models import AuditEntry, OutboxMessage, OutboxStatus, Role, User
from skillsup.services import accounts, mail, notify, passwords, user_sessions
from skillsup.services.errors import (
    AccountUnavailable,
    EmailTaken,
    InvalidCredentials,
    InvalidToken,
    PermissionDenied,
    UnknownCompanyDomain,
    ValidationFailed,
    WeakPassword,
)
from skillsup.services.tokens import Purpose, make_token, user_for_token
from tests.factories import PASSWORD

#: Links for e-mail, as a view passes them to the services.
LINKS = PortalLinks()

NEW_PASSWORD = "a different long passphrase"

LINK = re.compile(r"https?://skillsup\.test(/[^\s\"<>]+)")


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def audit_actions(user: User) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "users", AuditEntry.object_id == user.id)
            .order_by(AuditEntry.id)
        )
    )


def link_in(message: mail.Message, prefix: str) -> str:
    """The path of the one link in ``message`` that starts with ``prefix``."""
    paths = [path for path in LINK.findall(message.text) if path.startswith(prefix)]
    assert len(paths) == 1, message.text
    return paths[0]


def token_in(message: mail.Message, prefix: str) -> str:
    return link_in(message, prefix).removeprefix(prefix)


def reload(user: User) -> User:
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh is not None
    return fresh


# Passwords --------------------------------------------------------------------------------


@pytest.fixture
def app_without_db() -> Iterator[Flask]:
    """An application for the tests that touch no database: they run once, not per backend."""
    application = create_app(
        {
            "SKILLSUP_ENV": "testing",
            "SECRET_KEY": "test-secret-key-that-is-long-enough",
            "SERVER_NAME": "skillsup.test",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        }
    )
    with application.app_context():
        yield application


class TestPasswordHashing:
    def test_hash_is_argon2id_salted_and_verifies(self, app_without_db: Flask) -> None:
        hashed = passwords.hash_password(PASSWORD)
        assert hashed.startswith("$argon2id$")
        assert PASSWORD not in hashed
        assert passwords.verify_password(hashed, PASSWORD)
        assert not passwords.verify_password(hashed, PASSWORD + "x")
        assert not passwords.verify_password(hashed, PASSWORD.upper())
        assert passwords.hash_password(PASSWORD) != hashed  # a new salt every time
        for stored in [None, "", "not-a-hash", "$argon2id$v=19$broken"]:
            assert passwords.verify_password(stored, PASSWORD) is False, stored

    def test_outdated_parameters_need_rehash(self, app_without_db: Flask) -> None:
        old = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
        assert passwords.needs_rehash(old)
        assert not passwords.needs_rehash(passwords.hash_password(PASSWORD))

    def test_factory_users_are_stored_with_argon2id(self, learner: User) -> None:
        stored = reload(learner).password_hash
        assert stored is not None and stored.startswith("$argon2id$")


class TestPasswordPolicy:
    def test_length(self, app_without_db: Flask, subtests: Any) -> None:
        for password in ["", "Ab3$xY7", "x" * 7, "Zq8#mL2!w" * 14 + "abc"]:  # 0, 7, 7, 129
            with subtests.test(length=len(password)):
                with pytest.raises(WeakPassword) as caught:
                    passwords.check_password_policy(password)
                assert caught.value.field == "password"
        for password in ["Zq8#mL2!", "Zq8#mL2!w" * 14 + "ab"]:  # the limits are inclusive
            assert len(password) in (8, 128)
            passwords.check_password_policy(password)

    def test_common_passwords_are_refused(self, app_without_db: Flask, subtests: Any) -> None:
        for password in ["password123", "qwertyuiop", "Password123", "QWERTYUIOP", "iloveyou1"]:
            with subtests.test(password=password), pytest.raises(WeakPassword, match="common"):
                passwords.check_password_policy(password)

    def test_email_or_name_as_password_is_refused(
        self, app_without_db: Flask, subtests: Any
    ) -> None:
        for password in [
            "amy.chan@harbour-it.test",
            "AMY.CHAN@Harbour-IT.test",
            "amy.chan",
            "Amy Chan Tai-man",
            "amychantai-man",
        ]:
            with (
                subtests.test(password=password),
                pytest.raises(WeakPassword, match="e-mail address or name"),
            ):
                passwords.check_password_policy(
                    password, email="amy.chan@harbour-it.test", name="Amy Chan Tai-man"
                )

    def test_a_good_passphrase_is_accepted(self, app_without_db: Flask) -> None:
        passwords.check_password_policy(
            NEW_PASSWORD, email="amy.chan@harbour-it.test", name="Amy Chan"
        )

    def test_refusal_outside_a_request(self, app_without_db: Flask) -> None:
        def check() -> None:
            with app_without_db.app_context():  # as a CLI command runs: no request
                passwords.check_password_policy("short")

        with pytest.raises(WeakPassword):
            contextvars.Context().run(check)


# Signing in -------------------------------------------------------------------------------


class TestAuthenticate:
    def test_right_password_signs_in_and_is_audited(self, learner: User) -> None:
        assert learner.last_login_at is None
        user = accounts.authenticate(learner.email, PASSWORD)
        db.session.commit()
        assert user.id == learner.id
        assert reload(learner).last_login_at is not None
        assert "auth.login" in audit_actions(learner)

    def test_address_is_case_and_space_insensitive(self, learner: User) -> None:
        user = accounts.authenticate("  AMY.Chan@HARBOUR-it.test ", PASSWORD)
        assert user.id == learner.id

    def test_unknown_address_and_wrong_password_get_the_same_answer(self, learner: User) -> None:
        with pytest.raises(InvalidCredentials) as unknown:
            accounts.authenticate("nobody@harbour-it.test", PASSWORD)
        with pytest.raises(InvalidCredentials) as wrong:
            accounts.authenticate(learner.email, "not the password at all")
        assert str(unknown.value.message) == str(wrong.value.message)
        db.session.commit()
        assert "auth.login" not in audit_actions(learner)

    def test_accounts_that_cannot_sign_in(self, make: Any, company: Any, subtests: Any) -> None:
        invitee = make.user(company=company, password=None, email_confirmed_at=None)
        for password in ["", PASSWORD]:
            with pytest.raises(InvalidCredentials):
                accounts.authenticate(invitee.email, password)
        cases = [
            (make.user(company=company, is_active=False), "deactivated"),
            (make.user(company=company, email_confirmed_at=None), "Confirm your e-mail address"),
            (make.user(role="hr", company=make.company(is_active=False)), "company's access"),
        ]
        for user, message in cases:
            with subtests.test(message=message):
                with pytest.raises(AccountUnavailable, match=message):
                    accounts.authenticate(user.email, PASSWORD)
                # A wrong password says nothing about the account's state.
                with pytest.raises(InvalidCredentials):
                    accounts.authenticate(user.email, "not the password at all")

    def test_outdated_hash_is_upgraded_on_sign_in(self, make: Any, company: Any) -> None:
        old = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
        user = make.user(company=company)
        user.password_hash = old
        db.session.commit()
        accounts.authenticate(user.email, PASSWORD)
        db.session.commit()
        upgraded = reload(user).password_hash
        assert upgraded != old
        assert upgraded is not None and upgraded.startswith("$argon2id$")
        assert not passwords.needs_rehash(upgraded)
        assert passwords.verify_password(upgraded, PASSWORD)

    def test_end_all_sessions_bumps_the_session_version(self, learner: User) -> None:
        laptop = user_sessions.start(learner).secret
        phone = user_sessions.start(learner, remember=True).secret
        db.session.commit()
        accounts.end_all_sessions(learner)
        db.session.commit()
        fresh = reload(learner)
        assert fresh.session_version == 2
        # Neither cookie finds anyone, and neither record shows as active.
        assert user_sessions.find_alive(laptop) is None
        assert user_sessions.find_alive(phone) is None
        assert user_sessions.active_sessions(fresh) == []


# Registration -----------------------------------------------------------------------------


class TestRegistration:
    def test_partner_address_registers_an_unconfirmed_learner(
        self, company: Any, outbox: list[mail.Message]
    ) -> None:
        user = accounts.register_learner(
            " Bob.Lee@Harbour-IT.test ", " Bob Lee ", NEW_PASSWORD, links=LINKS
        )
        assert user is not None
        assert outbox == []  # nothing leaves before the commit
        db.session.commit()
        user = reload(user)
        assert user.email == "bob.lee@harbour-it.test"
        assert user.name == "Bob Lee"
        assert user.role is Role.LEARNER
        assert user.company_id == company.id
        assert user.email_confirmed_at is None
        assert user.is_active
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
        assert passwords.verify_password(user.password_hash, NEW_PASSWORD)
        assert "account.registered" in audit_actions(user)
        [message] = outbox
        assert message.to == "bob.lee@harbour-it.test"
        assert link_in(message, "/confirm/")
        with pytest.raises(AccountUnavailable):
            accounts.authenticate(user.email, NEW_PASSWORD)

    def test_confirmation_link_confirms_once(
        self, company: Any, outbox: list[mail.Message]
    ) -> None:
        accounts.register_learner("bob.lee@harbour-it.test", "Bob Lee", NEW_PASSWORD, links=LINKS)
        db.session.commit()
        token = token_in(outbox[0], "/confirm/")
        user = accounts.confirm_email(token)
        db.session.commit()
        assert reload(user).email_confirmed_at is not None
        assert "account.email_confirmed" in audit_actions(user)
        assert accounts.authenticate("bob.lee@harbour-it.test", NEW_PASSWORD).id == user.id
        with pytest.raises(InvalidToken):
            accounts.confirm_email(token)

    def test_confirmation_link_expires_after_three_days(
        self, app: Any, company: Any, outbox: list[mail.Message]
    ) -> None:
        assert app.config["EMAIL_CONFIRMATION_MAX_AGE"] == 3 * 24 * 3600
        accounts.register_learner("bob.lee@harbour-it.test", "Bob Lee", NEW_PASSWORD, links=LINKS)
        db.session.commit()
        token = token_in(outbox[0], "/confirm/")
        with time_machine.travel(time.time() + 3 * 24 * 3600 + 60), pytest.raises(InvalidToken):
            user_for_token(token, Purpose.CONFIRM_EMAIL)
        with time_machine.travel(time.time() + 3 * 24 * 3600 - 60):
            assert user_for_token(token, Purpose.CONFIRM_EMAIL).email == "bob.lee@harbour-it.test"

    def test_other_domains_are_refused(self, company: Any, subtests: Any) -> None:
        before = user_count()
        for email in [
            "bob@gmail.example",
            "bob@mail.harbour-it.test",
            "bob@harbour-it.test.evil.example",
            "bob@evilharbour-it.test",
        ]:
            with subtests.test(email=email):
                with pytest.raises(UnknownCompanyDomain) as caught:
                    accounts.register_learner(email, "Bob Lee", NEW_PASSWORD, links=LINKS)
                assert caught.value.field == "email"
                db.session.rollback()
                assert user_count() == before

    @pytest.mark.parametrize("email", ["harbour-it.test", "@harbour-it.test"])
    def test_a_bare_domain_is_not_an_address(self, company: Any, email: str) -> None:
        with pytest.raises(ValidationFailed):
            accounts.register_learner(email, "Bob Lee", NEW_PASSWORD, links=LINKS)

    def test_inactive_company_domain_is_refused(self, make: Any) -> None:
        make.company(domains=["closed.test"], is_active=False)
        with pytest.raises(UnknownCompanyDomain):
            accounts.register_learner("bob@closed.test", "Bob Lee", NEW_PASSWORD, links=LINKS)

    def test_weak_password_creates_nothing(self, company: Any, outbox: list[mail.Message]) -> None:
        before = user_count()
        with pytest.raises(WeakPassword):
            accounts.register_learner(
                "bob.lee@harbour-it.test", "Bob Lee", "password123", links=LINKS
            )
        db.session.rollback()
        db.session.commit()
        assert user_count() == before
        assert outbox == []

    def test_existing_address_creates_nothing_and_tells_the_owner(
        self, learner: User, outbox: list[mail.Message]
    ) -> None:
        old_hash = learner.password_hash
        before = user_count()
        result = accounts.register_learner(
            "Amy.Chan@harbour-it.test", "Impostor", NEW_PASSWORD, links=LINKS
        )
        db.session.commit()
        assert result is None
        assert user_count() == before
        fresh = reload(learner)
        assert fresh.password_hash == old_hash
        assert fresh.name != "Impostor"
        [message] = outbox
        assert message.to == learner.email
        assert "already have" in message.subject
        assert link_in(message, "/forgot-password")
        assert "/confirm/" not in message.text

    def test_taken_address_costs_the_same_hashing_work(
        self, learner: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        hashed: list[str] = []
        real_hash = passwords.hash_password

        def counting_hash(password: str) -> str:
            hashed.append(password)
            return real_hash(password)

        monkeypatch.setattr(passwords, "hash_password", counting_hash)
        accounts.register_learner(
            "new.person@harbour-it.test", "New Person", NEW_PASSWORD, links=LINKS
        )
        fresh_address = len(hashed)
        accounts.register_learner(learner.email, "Impostor", NEW_PASSWORD, links=LINKS)
        assert fresh_address == 1
        assert len(hashed) - fresh_address == fresh_address


# Invitations ------------------------------------------------------------------------------


class TestInvitations:
    def test_an_invitation_in_a_dry_run_queues_no_e_mail(self, admin: User, company: Any) -> None:
        with mail.dry_run(db.session()):
            accounts.invite_user(admin, email="dan@harbour-it.test", name="Dan", role=Role.HR,
                                 company=company, links=LINKS)  # fmt: skip
        assert mail.queued(db.session()) == []
        accounts.invite_user(admin, email="eve@harbour-it.test", name="Eve", role=Role.HR,
                             company=company, links=LINKS)  # fmt: skip
        assert [m.to for m in mail.queued(db.session())] == ["eve@harbour-it.test"]

    def test_admin_invites_an_hr_officer(
        self, admin: User, company: Any, outbox: list[mail.Message]
    ) -> None:
        invitee = accounts.invite_user(
            admin,
            email=" Carol.Ho@Harbour-IT.test",
            name="Carol Ho",
            role=Role.HR,
            company=company,
            links=LINKS,
        )
        assert outbox == []
        db.session.commit()
        invitee = reload(invitee)
        assert invitee.email == "carol.ho@harbour-it.test"
        assert invitee.role is Role.HR
        assert invitee.company_id == company.id
        assert invitee.invited_by_id == admin.id
        assert invitee.invited_at is not None
        assert invitee.password_hash is None
        assert not invitee.can_log_in
        assert "account.invited" in audit_actions(invitee)
        [message] = outbox
        assert message.to == "carol.ho@harbour-it.test"
        assert admin.name in message.text
        assert link_in(message, "/invitation/")

    def test_institute_staff_get_no_company(
        self, admin: User, company: Any, outbox: list[mail.Message]
    ) -> None:
        for role in (Role.TRAINER, Role.ADMIN):
            invitee = accounts.invite_user(
                admin,
                email=f"dan.{role}@skillsup.test",
                name="Dan",
                role=role,
                company=company,
                links=LINKS,
            )
            db.session.commit()
            assert (reload(invitee).role, reload(invitee).company_id) == (role, None)
        assert len(outbox) == 2

    def test_company_roles_need_a_company(self, admin: User) -> None:
        with pytest.raises(ValidationFailed) as caught:
            accounts.invite_user(
                admin, email="eve@harbour-it.test", name="Eve", role=Role.LEARNER, links=LINKS
            )
        assert caught.value.field == "company"

    def test_hr_invites_learners_of_their_own_company(
        self, hr_officer: User, company: Any, outbox: list[mail.Message]
    ) -> None:
        invitee = accounts.invite_user(
            hr_officer,
            email="frank@harbour-it.test",
            name="Frank",
            role=Role.LEARNER,
            company=company,
            staff_number="E-100",
            department="Cloud",
            job_title="Engineer",
            links=LINKS,
        )
        db.session.commit()
        invitee = reload(invitee)
        assert invitee.role is Role.LEARNER
        assert invitee.company_id == company.id
        assert (invitee.staff_number, invitee.department, invitee.job_title) == (
            "E-100",
            "Cloud",
            "Engineer",
        )
        assert invitee.invited_by_id == hr_officer.id
        assert len(outbox) == 1

    def test_nobody_is_invited_into_an_inactive_company(self, make: Any) -> None:
        company = make.company(name="Closed Ltd", is_active=False)
        admin = make.user(role="admin")
        for role in (Role.LEARNER, Role.HR):
            with pytest.raises(accounts.ValidationFailed) as refused:
                accounts.invite_user(
                    admin,
                    email="ivy@closed.test",
                    name="Ivy",
                    role=role,
                    company=company,
                    links=LINKS,
                )
            assert refused.value.field == "company"
            assert "Closed Ltd is inactive" in str(refused.value)
            db.session.rollback()
        assert accounts.find_user_by_email("ivy@closed.test") is None

    def test_hr_invites_only_addresses_at_the_company_domains(
        self, make: Any, outbox: list[mail.Message]
    ) -> None:
        company = make.company(domains=["harbour-it.test", "hbit.test"])
        officer = make.user(role="hr", company=company)
        with pytest.raises(accounts.ValidationFailed) as refused:
            accounts.invite_user(
                officer,
                email="frank@gmail.test",
                name="Frank",
                role=Role.LEARNER,
                company=company,
                links=LINKS,
            )
        assert refused.value.field == "email"
        assert "harbour-it.test, hbit.test" in str(refused.value)
        db.session.rollback()
        assert accounts.find_user_by_email("frank@gmail.test") is None
        accounts.invite_user(
            officer,
            email="Frank@HBIT.test",
            name="Frank",
            role=Role.LEARNER,
            company=company,
            links=LINKS,
        )
        # Admins may invite anyone, say a contractor with an address of their own.
        admin = make.user(role="admin")
        accounts.invite_user(
            admin,
            email="gina@gmail.test",
            name="Gina",
            role=Role.LEARNER,
            company=company,
            links=LINKS,
        )
        db.session.commit()
        assert len(outbox) == 2

    def test_hr_of_a_company_without_domains_invites_any_address(self, make: Any) -> None:
        company = make.company()
        officer = make.user(role="hr", company=company)
        company.domains.clear()
        db.session.commit()
        invitee = accounts.invite_user(
            officer,
            email="hana@example.test",
            name="Hana",
            role=Role.LEARNER,
            company=company,
            links=LINKS,
        )
        assert invitee.company_id == company.id

    def test_only_admins_and_hr_for_their_own_learners_may_invite(
        self, make: Any, hr_officer: User, company: Any, outbox: list[mail.Message], subtests: Any
    ) -> None:
        other = make.company()
        learner = make.user(role="learner", company=company)
        trainer = make.user(role="trainer")
        cases: list[tuple[str, User, Role, Any]] = [
            ("HR, another company", hr_officer, Role.LEARNER, other),
            ("HR, no company", hr_officer, Role.LEARNER, None),
            ("HR inviting HR", hr_officer, Role.HR, company),
            ("HR inviting an admin", hr_officer, Role.ADMIN, company),
            ("HR inviting a trainer", hr_officer, Role.TRAINER, None),
            ("learner", learner, Role.LEARNER, company),
            ("trainer", trainer, Role.LEARNER, company),
        ]
        before = user_count()
        for case, actor, role, target in cases:
            with subtests.test(case=case):
                with pytest.raises(PermissionDenied):
                    accounts.invite_user(
                        actor,
                        email="gina@harbour-it.test",
                        name="Gina",
                        role=role,
                        company=target,
                        links=LINKS,
                    )
                db.session.rollback()
        db.session.commit()
        assert user_count() == before
        assert outbox == []

    def test_existing_address_is_refused(self, admin: User, learner: User, company: Any) -> None:
        with pytest.raises(EmailTaken) as caught:
            accounts.invite_user(
                admin,
                email="AMY.CHAN@harbour-it.test",
                name="Amy",
                role=Role.LEARNER,
                company=company,
                links=LINKS,
            )
        assert caught.value.field == "email"

    def test_staff_number_clash_is_refused(self, admin: User, learner: User, company: Any) -> None:
        assert learner.staff_number
        with pytest.raises(ValidationFailed) as caught:
            accounts.invite_user(
                admin,
                email="jay@harbour-it.test",
                name="Jay",
                role=Role.LEARNER,
                company=company,
                staff_number=learner.staff_number,
                links=LINKS,
            )
        assert caught.value.field == "staff_number"

    def test_accepting_sets_the_password_once(
        self, admin: User, company: Any, outbox: list[mail.Message]
    ) -> None:
        accounts.invite_user(
            admin,
            email="kim@harbour-it.test",
            name="Kim Wong",
            role=Role.LEARNER,
            company=company,
            links=LINKS,
        )
        db.session.commit()
        token = token_in(outbox[0], "/invitation/")
        with pytest.raises(WeakPassword):
            accounts.accept_invitation(token, "kimwong")
        db.session.rollback()
        with pytest.raises(WeakPassword):
            accounts.accept_invitation(token, "Kim Wong")
        db.session.rollback()
        # A refused password leaves the link usable.
        user = accounts.accept_invitation(token, NEW_PASSWORD)
        db.session.commit()
        user = reload(user)
        assert user.email_confirmed_at is not None
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
        assert user.can_log_in
        assert "account.invitation_accepted" in audit_actions(user)
        assert accounts.authenticate("kim@harbour-it.test", NEW_PASSWORD).id == user.id
        with pytest.raises(InvalidToken):
            accounts.accept_invitation(token, "yet another passphrase")

    def test_invitation_expires_after_seven_days(
        self, app: Any, admin: User, outbox: list[mail.Message]
    ) -> None:
        assert app.config["INVITATION_MAX_AGE"] == 7 * 24 * 3600
        accounts.invite_user(
            admin, email="lee@skillsup.test", name="Lee", role=Role.TRAINER, links=LINKS
        )
        db.session.commit()
        token = token_in(outbox[0], "/invitation/")
        with (
            time_machine.travel(time.time() + 7 * 24 * 3600 + 60),
            pytest.raises(InvalidToken, match="expired"),
        ):
            accounts.accept_invitation(token, NEW_PASSWORD)
        with time_machine.travel(time.time() + 7 * 24 * 3600 - 60):
            assert accounts.accept_invitation(token, NEW_PASSWORD).email == "lee@skillsup.test"


# Password reset ---------------------------------------------------------------------------


def outbox_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


class TestPasswordReset:
    def test_known_address_gets_a_link_after_commit(
        self, learner: User, outbox: list[mail.Message]
    ) -> None:
        accounts.request_password_reset("AMY.CHAN@harbour-it.test")
        assert outbox == []
        db.session.commit()
        [message] = outbox
        assert message.to == learner.email
        assert message.subject == "Reset your SkillsUp password"
        assert link_in(message, "/reset-password/")
        # The outbox keeps the request and the link sent.
        [row] = outbox_rows()
        assert (row.recipient, row.renderer) == (learner.email, notify.PASSWORD_RESET)
        assert row.status == OutboxStatus.SENT and "/reset-password/" in (row.text or "")

    @pytest.mark.parametrize(
        ("email", "reason"),
        [
            ("nobody@harbour-it.test", "no account at this address"),
            ("deactivated", "the account at this address is deactivated"),
        ],
    )
    def test_unknown_or_deactivated_address_gets_nothing(
        self, make: Any, company: Any, outbox: list[mail.Message], email: str, reason: str
    ) -> None:
        if email == "deactivated":
            email = make.user(company=company, is_active=False).email
        entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
        accounts.request_password_reset(email)
        db.session.commit()
        assert outbox == []
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries
        # The request is kept, finished without sending, and says why.
        [row] = outbox_rows()
        assert (row.recipient, row.status, row.last_error) == (email, OutboxStatus.SKIPPED, reason)
        assert row.sent_at is None and row.text is None

    def test_the_request_writes_the_same_for_every_address(
        self, app: Flask, make: Any, company: Any, learner: User
    ) -> None:
        """Whether an address has an account is decided when the message is written, never
        in the request: the request writes one outbox row, alike for every address."""
        app.config["MAIL_DELIVER_IN_REQUEST"] = False
        gone = make.user(company=company, is_active=False)
        db.session.commit()
        written = {}
        for address in [learner.email, "nobody@harbour-it.test", gone.email]:
            accounts.request_password_reset(address)
            written[address] = [(type(obj).__name__, sorted(vars(obj))) for obj in db.session.new]
            db.session.commit()
        assert len(set(map(repr, written.values()))) == 1
        rows = outbox_rows()
        assert [row.recipient for row in rows] == list(written)
        assert {(row.renderer, row.subject, row.status, row.text) for row in rows} == {
            (notify.PASSWORD_RESET, "Reset your SkillsUp password", OutboxStatus.PENDING, None)
        }
        assert [row.context for row in rows] == [
            {"email": address, "locale": "en"} for address in written
        ]

    def test_the_link_comes_in_the_owners_language(
        self, make: Any, company: Any, outbox: list[mail.Message]
    ) -> None:
        owner = make.user(company=company, preferred_language="zh_Hant_HK")
        accounts.request_password_reset(owner.email)
        db.session.commit()
        [message] = outbox
        assert message.subject == "重設你的SkillsUp密碼"
        assert link_in(message, "/reset-password/")
        assert "Someone asked" not in message.text

    @pytest.mark.parametrize("email", ["", "not an address", "x" * 250 + "@harbour-it.test"])
    def test_an_invalid_address_is_refused_and_nothing_is_queued(
        self, app: Any, email: str
    ) -> None:
        with pytest.raises(ValidationFailed) as refused:
            accounts.request_password_reset(email)
        assert refused.value.field == "email"
        assert mail.queued(db.session()) == []

    def test_reset_sets_the_password_and_ends_every_session(
        self, learner: User, outbox: list[mail.Message]
    ) -> None:
        version = learner.session_version
        accounts.request_password_reset(learner.email)
        db.session.commit()
        token = token_in(outbox[0], "/reset-password/")
        accounts.reset_password(token, NEW_PASSWORD)
        db.session.commit()
        fresh = reload(learner)
        assert fresh.session_version == version + 1
        assert "account.password_reset" in audit_actions(fresh)
        assert accounts.authenticate(learner.email, NEW_PASSWORD).id == learner.id
        with pytest.raises(InvalidCredentials):
            accounts.authenticate(learner.email, PASSWORD)

    def test_link_works_once_and_voids_older_links(
        self, learner: User, outbox: list[mail.Message]
    ) -> None:
        accounts.request_password_reset(learner.email)
        accounts.request_password_reset(learner.email)
        db.session.commit()
        first, second = (token_in(m, "/reset-password/") for m in outbox)
        accounts.reset_password(second, NEW_PASSWORD)
        db.session.commit()
        with pytest.raises(InvalidToken):
            accounts.reset_password(second, "a third long passphrase")
        with pytest.raises(InvalidToken):
            accounts.reset_password(first, "a third long passphrase")

    def test_weak_password_keeps_the_old_one_and_the_link(
        self, learner: User, outbox: list[mail.Message]
    ) -> None:
        accounts.request_password_reset(learner.email)
        db.session.commit()
        token = token_in(outbox[0], "/reset-password/")
        with pytest.raises(WeakPassword):
            accounts.reset_password(token, "qwertyuiop")
        db.session.rollback()
        assert accounts.authenticate(learner.email, PASSWORD).id == learner.id
        db.session.commit()
        assert user_for_token(token, Purpose.PASSWORD_RESET).id == learner.id

    def test_link_expires_after_an_hour(
        self, app: Any, learner: User, outbox: list[mail.Message]
    ) -> None:
        assert app.config["PASSWORD_RESET_MAX_AGE"] == 3600
        start = time.time()
        with time_machine.travel(start, tick=False):
            accounts.request_password_reset(learner.email)
            db.session.commit()
        token = token_in(outbox[0], "/reset-password/")
        with time_machine.travel(start + 3590, tick=False):
            assert user_for_token(token, Purpose.PASSWORD_RESET).id == learner.id
        with (
            time_machine.travel(start + 3610, tick=False),
            pytest.raises(InvalidToken, match="expired"),
        ):
            accounts.reset_password(token, NEW_PASSWORD)
        db.session.rollback()
        assert accounts.authenticate(learner.email, PASSWORD).id == learner.id

    def test_a_reset_confirms_the_address(
        self, make: Any, company: Any, outbox: list[mail.Message]
    ) -> None:
        user = make.user(company=company, email_confirmed_at=None)
        accounts.request_password_reset(user.email)
        db.session.commit()
        accounts.reset_password(token_in(outbox[0], "/reset-password/"), NEW_PASSWORD)
        db.session.commit()
        assert reload(user).email_confirmed_at is not None

    def test_deactivation_voids_a_reset_link(
        self, admin: User, learner: User, outbox: list[mail.Message]
    ) -> None:
        accounts.request_password_reset(learner.email)
        db.session.commit()
        token = token_in(outbox[0], "/reset-password/")
        accounts.set_active(admin, learner, False)
        db.session.commit()
        with pytest.raises(InvalidToken):
            accounts.reset_password(token, NEW_PASSWORD)


class TestTokens:
    def test_token_for_one_purpose_is_refused_for_another(self, learner: User) -> None:
        token = make_token(learner, Purpose.PASSWORD_RESET)
        assert user_for_token(token, Purpose.PASSWORD_RESET).id == learner.id
        for other in (Purpose.CONFIRM_EMAIL, Purpose.INVITATION):
            with pytest.raises(InvalidToken):
                user_for_token(token, other)

    def test_forged_tokens_are_refused(self, app: Any, learner: User, subtests: Any) -> None:
        token = make_token(learner, Purpose.PASSWORD_RESET)
        real_key = app.config["SECRET_KEY"]
        salt = "skillsup.password-reset"
        cases = {
            "tampered": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
            "empty": "",
            "garbage": "garbage",
            "extended": token + "x",
            "another key": URLSafeTimedSerializer("someone-elses-secret-key", salt=salt).dumps(
                {"u": learner.id, "f": "0" * 24}
            ),
            # Signed with the real key, but not made for this user's current state.
            "wrong fingerprint": URLSafeTimedSerializer(real_key, salt=salt).dumps(
                {"u": learner.id, "f": "0" * 24}
            ),
            "missing user": URLSafeTimedSerializer(real_key, salt=salt).dumps(
                {"u": learner.id + 1000, "f": "0" * 24}
            ),
            "not a user id": URLSafeTimedSerializer(real_key, salt=salt).dumps({"u": "1"}),
        }
        for case, forged in cases.items():
            with subtests.test(case=case), pytest.raises(InvalidToken):
                user_for_token(forged, Purpose.PASSWORD_RESET)
        assert user_for_token(token, Purpose.PASSWORD_RESET).id == learner.id

    def test_password_change_voids_a_reset_link(self, learner: User) -> None:
        token = make_token(learner, Purpose.PASSWORD_RESET)
        accounts.change_password(learner, PASSWORD, NEW_PASSWORD)
        db.session.commit()
        with pytest.raises(InvalidToken):
            user_for_token(token, Purpose.PASSWORD_RESET)


# Changing a password, deactivation --------------------------------------------------------


class TestChangePassword:
    def test_change_ends_sessions_and_is_audited(self, learner: User) -> None:
        version = learner.session_version
        accounts.change_password(learner, PASSWORD, NEW_PASSWORD)
        db.session.commit()
        fresh = reload(learner)
        assert fresh.session_version == version + 1
        assert fresh.password_hash is not None and fresh.password_hash.startswith("$argon2id$")
        assert passwords.verify_password(fresh.password_hash, NEW_PASSWORD)
        assert "account.password_changed" in audit_actions(fresh)

    def test_refused_changes_keep_everything(self, learner: User, subtests: Any) -> None:
        version = learner.session_version
        cases: list[tuple[str, str, type[Exception], str]] = [
            ("not the password", NEW_PASSWORD, InvalidCredentials, "current_password"),
            (PASSWORD, PASSWORD, ValidationFailed, "password"),
            (PASSWORD, "short", WeakPassword, "password"),
            (PASSWORD, "password123", WeakPassword, "password"),
            (PASSWORD, "amy.chan@harbour-it.test", WeakPassword, "password"),
        ]
        for current, new, error, field in cases:
            with subtests.test(new=new):
                with pytest.raises(error) as caught:
                    accounts.change_password(reload(learner), current, new)
                assert getattr(caught.value, "field", None) == field
                db.session.rollback()
                fresh = reload(learner)
                assert fresh.session_version == version
                assert passwords.verify_password(fresh.password_hash, PASSWORD)


class TestSetActive:
    def test_admin_deactivates_and_reactivates(self, admin: User, learner: User) -> None:
        version = learner.session_version
        accounts.set_active(admin, learner, False, "left the company")
        db.session.commit()
        fresh = reload(learner)
        assert not fresh.is_active
        assert fresh.deactivated_at is not None
        assert fresh.session_version == version + 1
        assert not fresh.can_log_in
        entry = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "account.deactivated", AuditEntry.object_id == learner.id
            )
        )
        assert entry is not None
        assert entry.actor_id == admin.id
        assert entry.details == {"reason": "left the company"}
        with pytest.raises(AccountUnavailable):
            accounts.authenticate(learner.email, PASSWORD)

        accounts.set_active(admin, fresh, True)
        db.session.commit()
        fresh = reload(learner)
        assert fresh.is_active and fresh.deactivated_at is None
        assert "account.reactivated" in audit_actions(fresh)
        assert accounts.authenticate(learner.email, PASSWORD).id == learner.id

    def test_repeating_a_deactivation_changes_nothing(self, admin: User, learner: User) -> None:
        accounts.set_active(admin, learner, False)
        db.session.commit()
        version = reload(learner).session_version
        accounts.set_active(admin, reload(learner), False)
        db.session.commit()
        assert reload(learner).session_version == version
        assert audit_actions(learner).count("account.deactivated") == 1

    def test_who_may_deactivate_whom(
        self, make: Any, admin: User, hr_officer: User, learner: User, company: Any
    ) -> None:
        stranger = make.user(role="learner")
        colleague = make.user(role="hr", company=company)
        refused = [
            (admin, admin),  # not oneself
            (hr_officer, stranger),  # another company's learner
            (hr_officer, colleague),  # not an HR officer
            (learner, make.user(role="learner", company=company)),
        ]
        for actor, target in refused:
            with pytest.raises(PermissionDenied):
                accounts.set_active(actor, target, False)
            db.session.rollback()
            assert reload(target).is_active, (actor, target)
        accounts.set_active(hr_officer, learner, False)  # HR: their own company's learners
        db.session.commit()
        assert not reload(learner).is_active


# E-mail after commit ----------------------------------------------------------------------


class TestMailAfterCommit:
    def test_rolled_back_service_sends_nothing(
        self, admin: User, company: Any, outbox: list[mail.Message]
    ) -> None:
        accounts.invite_user(
            admin,
            email="mo@harbour-it.test",
            name="Mo",
            role=Role.LEARNER,
            company=company,
            links=LINKS,
        )
        assert len(mail.queued(db.session())) == 1
        db.session.rollback()
        assert mail.queued(db.session()) == []
        db.session.commit()  # a later commit must not deliver what was rolled back
        assert outbox == []
        assert accounts.find_user_by_email("mo@harbour-it.test") is None

    def test_mail_queued_before_a_savepoint_survives_its_rollback(
        self, learner: User, outbox: list[mail.Message]
    ) -> None:
        accounts.request_password_reset(learner.email)
        savepoint = db.session.begin_nested()
        savepoint.rollback()
        db.session.commit()
        assert [m.to for m in outbox] == [learner.email]

    def test_mail_queued_inside_a_rolled_back_savepoint_is_not_sent(
        self, admin: User, company: Any, outbox: list[mail.Message]
    ) -> None:
        savepoint = db.session.begin_nested()
        accounts.invite_user(
            admin,
            email="ned@harbour-it.test",
            name="Ned",
            role=Role.LEARNER,
            company=company,
            links=LINKS,
        )
        savepoint.rollback()
        db.session.commit()
        assert accounts.find_user_by_email("ned@harbour-it.test") is None
        assert outbox == []

    def test_each_message_is_delivered_once(
        self, learner: User, outbox: list[mail.Message]
    ) -> None:
        accounts.request_password_reset(learner.email)
        db.session.commit()
        db.session.commit()
        assert len(outbox) == 1
