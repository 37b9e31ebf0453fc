"""Two-factor sign-in, the rules (skillsup.services.two_factor), without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import AuditEntry, RecoveryCode, User
from skillsup.services import sealed, two_factor
from skillsup.services.errors import (
    InvalidRecoveryCode,
    InvalidTwoFactorCode,
    PermissionDenied,
    RecoveryCodeUsed,
    TwoFactorCodeUsed,
    TwoFactorRequired,
    TwoFactorStateConflict,
)

#: A moment in the middle of a 30-second step (so that "now" and its neighbours are clear).
MOMENT = datetime(2027, 3, 1, 2, 0, 15, tzinfo=UTC)
LOGIN_URL = "https://skillsup.test/login"


def code_at(key: str, moment: datetime) -> str:
    return pyotp.TOTP(key).at(moment)


def enable(user: User, moment: datetime = MOMENT) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on for ``user`` (at ``moment``); its key and recovery codes."""
    with time_machine.travel(moment, tick=False):
        key = two_factor.start_setup(user).key
        codes = two_factor.confirm_setup(user, code_at(key, moment))
    db.session.commit()
    return key, codes


def audit_actions(user: User) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "users", AuditEntry.object_id == user.id)
            .order_by(AuditEntry.id)
        )
    )


# Setting it up --------------------------------------------------------------------------------


def test_setup_gives_a_new_key_with_the_issuer_and_the_address(learner: User) -> None:
    setup = two_factor.start_setup(learner)
    parts = urlsplit(setup.uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == f"/SkillsUp:{learner.email}"
    query = parse_qs(parts.query)
    assert query["issuer"] == ["SkillsUp"]
    assert query["secret"] == [setup.key]
    assert setup.grouped.replace(" ", "") == setup.key
    # Kept sealed, never as it is; two-factor sign-in is not on yet.
    assert learner.totp_key_sealed and setup.key not in learner.totp_key_sealed
    assert sealed.unseal(learner.totp_key_sealed) == setup.key
    assert not learner.two_factor_enabled
    assert two_factor.pending_setup(learner) == setup
    # Starting again replaces the key not yet confirmed.
    assert two_factor.start_setup(learner).key != setup.key


def test_confirming_needs_the_code_of_the_new_key(learner: User) -> None:
    with pytest.raises(TwoFactorStateConflict):
        two_factor.confirm_setup(learner, "123456")
    with time_machine.travel(MOMENT, tick=False):
        key = two_factor.start_setup(learner).key
        wrong = str((int(code_at(key, MOMENT)) + 1) % 1_000_000).zfill(6)
        with pytest.raises(InvalidTwoFactorCode) as refused:
            two_factor.confirm_setup(learner, wrong)
        assert refused.value.field == "code"
        assert not learner.two_factor_enabled
        codes = two_factor.confirm_setup(learner, code_at(key, MOMENT))
    assert learner.two_factor_enabled
    assert learner.two_factor_enabled_at == MOMENT
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "account.two_factor_enabled" in audit_actions(learner)
    with pytest.raises(TwoFactorStateConflict):
        two_factor.start_setup(learner)
    assert two_factor.pending_setup(learner) is None


def test_recovery_codes_are_stored_hashed(learner: User) -> None:
    _key, codes = enable(learner)
    stored = list(
        db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == learner.id))
    )
    assert len(stored) == 10
    for row in stored:
        assert row.code_hash.startswith("pbkdf2_sha256$")
        assert row.used_at is None
        for code in codes:
            assert code.replace("-", "") not in row.code_hash
    # Salted: no two hashes alike.
    assert len({row.code_hash for row in stored}) == 10
    assert two_factor.recovery_codes_left(learner) == 10


# Codes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("123456", "123456"),
        ("123 456", "123456"),
        (" 123-456 ", "123456"),
        ("", None),
        ("12345", None),
        ("1234567", None),
        ("12345a", None),
        ("abcdef", None),
        ("１２３４５６", None),  # full-width digits are not what an app shows
        ("1" * 100_000, None),
        (None, None),
    ],
)
def test_typed_codes(typed: str | None, expected: str | None) -> None:
    assert two_factor.normalise_code(typed) == expected


def test_a_code_works_once(learner: User) -> None:
    key, _codes = enable(learner, MOMENT - timedelta(minutes=5))
    with time_machine.travel(MOMENT, tick=False):
        code = code_at(key, MOMENT)
        two_factor.verify_code(learner, f"{code[:3]} {code[3:]}")
        with pytest.raises(TwoFactorCodeUsed):
            two_factor.verify_code(learner, code)
    db.session.commit()
    # Still refused after saving, within the same 30 seconds, and by a fresh load.
    db.session.expire_all()
    again = db.session.get(User, learner.id)
    assert again is not None
    with (
        time_machine.travel(MOMENT + timedelta(seconds=10), tick=False),
        pytest.raises(TwoFactorCodeUsed),
    ):
        two_factor.verify_code(again, code)
    # The next step's code works.
    later = MOMENT + timedelta(seconds=30)
    with time_machine.travel(later, tick=False):
        two_factor.verify_code(again, code_at(key, later))


def test_the_setup_code_cannot_sign_in_again(learner: User) -> None:
    key, _codes = enable(learner)
    with (
        time_machine.travel(MOMENT + timedelta(seconds=5), tick=False),
        pytest.raises(TwoFactorCodeUsed),
    ):
        two_factor.verify_code(learner, code_at(key, MOMENT))


def test_one_step_either_side_is_tolerated(learner: User) -> None:
    key, _codes = enable(learner, MOMENT - timedelta(hours=1))
    with time_machine.travel(MOMENT, tick=False):
        two_factor.verify_code(learner, code_at(key, MOMENT - timedelta(seconds=30)))
    learner.totp_last_step = None
    with time_machine.travel(MOMENT, tick=False):
        two_factor.verify_code(learner, code_at(key, MOMENT + timedelta(seconds=30)))
        # The step ahead was used: the current one, before it, is refused as used.
        with pytest.raises(TwoFactorCodeUsed):
            two_factor.verify_code(learner, code_at(key, MOMENT))
    learner.totp_last_step = None
    with time_machine.travel(MOMENT, tick=False):
        for far in (-60, 60, -600):
            with pytest.raises(InvalidTwoFactorCode) as refused:
                two_factor.verify_code(learner, code_at(key, MOMENT + timedelta(seconds=far)))
            assert type(refused.value) is InvalidTwoFactorCode


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "1" * 10_000])
def test_malformed_codes_are_refused(learner: User, typed: str) -> None:
    enable(learner)
    with pytest.raises(InvalidTwoFactorCode):
        two_factor.verify_code(learner, typed)
    assert learner.totp_last_step is not None  # untouched: the setup's step


def test_no_code_is_checked_without_two_factor_sign_in(learner: User) -> None:
    with pytest.raises(TwoFactorStateConflict):
        two_factor.verify_code(learner, "123456")
    with pytest.raises(TwoFactorStateConflict):
        two_factor.use_recovery_code(learner, "abcde-fghjk")


def test_a_key_sealed_under_a_retired_secret_key_asks_for_a_reset(
    app: Flask, learner: User
) -> None:
    key, _codes = enable(learner)
    app.config["SECRET_KEY"] = "another-secret-key-after-rotation"
    with pytest.raises(TwoFactorStateConflict) as refused:
        two_factor.verify_code(learner, code_at(key, MOMENT + timedelta(seconds=30)))
    assert "reset" in str(refused.value.message)


# Recovery codes -------------------------------------------------------------------------------


def test_a_recovery_code_works_once(learner: User) -> None:
    _key, codes = enable(learner)
    assert two_factor.use_recovery_code(learner, codes[3].upper().replace("-", " ")) == 9
    db.session.commit()
    with pytest.raises(RecoveryCodeUsed) as refused:
        two_factor.use_recovery_code(learner, codes[3])
    assert refused.value.field == "recovery_code"
    assert two_factor.use_recovery_code(learner, codes[4]) == 8
    assert two_factor.recovery_codes_left(learner) == 8
    assert audit_actions(learner).count("auth.recovery_code_used") == 2


@pytest.mark.parametrize("typed", ["", "abcde", "abcde-fghjk-m", "0000000000", "a" * 5000])
def test_wrong_recovery_codes_are_refused(learner: User, typed: str) -> None:
    enable(learner)
    with pytest.raises(InvalidRecoveryCode) as refused:
        two_factor.use_recovery_code(learner, typed)
    assert type(refused.value) is InvalidRecoveryCode
    assert two_factor.recovery_codes_left(learner) == 10


def test_someone_elses_recovery_code_does_not_work(learner: User, make: Any) -> None:
    other = make.user()
    enable(learner)
    _key, theirs = enable(other)
    with pytest.raises(InvalidRecoveryCode):
        two_factor.use_recovery_code(learner, theirs[0])


def test_new_recovery_codes_replace_the_old_ones(learner: User) -> None:
    key, old = enable(learner)
    later = MOMENT + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        with pytest.raises(InvalidTwoFactorCode):
            two_factor.regenerate_recovery_codes(learner, "000000x")
        new = two_factor.regenerate_recovery_codes(learner, code_at(key, later))
    db.session.commit()
    assert len(new) == 10 and not set(new) & set(old)
    with pytest.raises(InvalidRecoveryCode):
        two_factor.use_recovery_code(learner, old[0])
    assert two_factor.use_recovery_code(learner, new[0]) == 9
    assert "account.recovery_codes_renewed" in audit_actions(learner)


# Turning it off and resetting it --------------------------------------------------------------


def test_turning_off_needs_a_code_and_forgets_the_key(learner: User) -> None:
    key, _codes = enable(learner)
    later = MOMENT + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        with pytest.raises(InvalidTwoFactorCode):
            two_factor.turn_off(learner, "")
        two_factor.turn_off(learner, code_at(key, later))
    db.session.commit()
    assert not learner.two_factor_enabled
    assert learner.totp_key_sealed is None and learner.totp_last_step is None
    assert two_factor.recovery_codes_left(learner) == 0
    assert "account.two_factor_disabled" in audit_actions(learner)


@pytest.mark.parametrize("role", ["admin", "hr"])
def test_admins_and_hr_cannot_turn_it_off_while_required(app: Flask, make: Any, role: str) -> None:
    user = make.user(role=role)
    key, _codes = enable(user)
    later = MOMENT + timedelta(minutes=1)
    app.config["REQUIRE_TWO_FACTOR"] = True
    assert two_factor.is_required_for(user)
    with time_machine.travel(later, tick=False), pytest.raises(TwoFactorRequired):
        two_factor.turn_off(user, code_at(key, later))
    assert user.two_factor_enabled
    app.config["REQUIRE_TWO_FACTOR"] = False
    assert not two_factor.is_required_for(user)
    with time_machine.travel(later, tick=False):
        two_factor.turn_off(user, code_at(key, later))
    assert not user.two_factor_enabled


@pytest.mark.parametrize("role", ["learner", "trainer"])
def test_learners_and_trainers_are_never_required(app: Flask, make: Any, role: str) -> None:
    app.config["REQUIRE_TWO_FACTOR"] = True
    user = make.user(role=role)
    assert not two_factor.is_required_for(user)
    assert not two_factor.must_set_up(user)


def test_must_set_up_only_without_it(app: Flask, admin: User) -> None:
    app.config["REQUIRE_TWO_FACTOR"] = True
    assert two_factor.must_set_up(admin)
    enable(admin)
    assert not two_factor.must_set_up(admin)


def test_an_admin_resets_someones_two_factor_sign_in(
    app: Flask, admin: User, hr_officer: User, outbox: list[Any]
) -> None:
    enable(hr_officer)
    version = hr_officer.session_version
    two_factor.reset(admin, hr_officer, "  Lost her phone  ", login_url=LOGIN_URL)
    db.session.commit()
    assert not hr_officer.two_factor_enabled and hr_officer.totp_key_sealed is None
    assert two_factor.recovery_codes_left(hr_officer) == 0
    assert hr_officer.session_version == version + 1
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "account.two_factor_reset")
    )
    assert entry is not None and entry.actor_id == admin.id and entry.object_id == hr_officer.id
    assert entry.details == {"reason": "Lost her phone"}
    [message] = outbox
    assert message.to == hr_officer.email
    assert "Lost her phone" in message.text and LOGIN_URL in message.text


def test_resets_that_are_refused(admin: User, learner: User, make: Any) -> None:
    with pytest.raises(TwoFactorStateConflict):
        two_factor.reset(admin, learner, login_url=LOGIN_URL)
    enable(admin)
    with pytest.raises(PermissionDenied):
        two_factor.reset(admin, admin, login_url=LOGIN_URL)
    enable(learner)
    hr = make.user(role="hr", company=learner.company)
    for actor in (hr, learner, make.user(role="trainer")):
        with pytest.raises(PermissionDenied):
            two_factor.reset(actor, learner, login_url=LOGIN_URL)
    assert learner.two_factor_enabled
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "account.two_factor_reset")
        )
        == 0
    )
