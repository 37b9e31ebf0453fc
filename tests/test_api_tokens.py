"""The rules of API tokens (skillsup/services/api_tokens.py): who creates and sees which,
their names, scopes and expiry, revocation, and when a token may act."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import ApiToken, ApiTokenState, AuditEntry, Role, utcnow
from skillsup.services import api_tokens
from skillsup.services.api_tokens import InvalidApiToken, latest_expiry, token_state
from skillsup.services.errors import NotFound, PermissionDenied, ValidationFailed
from skillsup.timeutil import hk_date, start_of_hk_day_utc

from .queries import recorded_statements

#: 10:00 in Hong Kong on a Monday: far from midnight on either clock.
NOW = datetime.fromisoformat("2026-03-02T02:00:00+00:00")
TODAY = hk_date(NOW)


@pytest.fixture
def people(make):
    company_a = make.company(name="Harbour IT Services", code="HBIT", domains=["harbour-it.test"])
    company_b = make.company(name="Kowloon Data Ltd", code="KLDT", domains=["kowloon-data.test"])
    return {
        "hr_a": make.user(role="hr", company=company_a, name="Hilda Ho"),
        "hr_a2": make.user(role="hr", company=company_a, name="Harry Hui"),
        "hr_b": make.user(role="hr", company=company_b),
        "admin": make.user(role="admin", name="Ada Admin"),
        "admin2": make.user(role="admin"),
        "learner": make.user(role="learner", company=company_a),
        "trainer": make.user(role="trainer"),
        "company_a": company_a,
        "company_b": company_b,
    }


def _create(actor, name="Nightly HR sync", scopes=("read",), **options):
    options.setdefault("now", NOW)
    return api_tokens.create_token(actor, name, list(scopes), **options)


def _refusal(error: pytest.ExceptionInfo[ValidationFailed]) -> tuple[str | None, str]:
    return error.value.field, str(error.value.message)


# Creating ------------------------------------------------------------------------------------


def test_an_hr_officer_creates_a_token_of_their_company_kept_as_a_hash(people):
    created = _create(people["hr_a"], scopes=["staff:write", "read"])
    db.session.commit()
    token = db.session.get(ApiToken, created.token.id)

    assert created.secret.startswith("su_") and len(created.secret) > 40
    assert token.prefix == created.secret[:10]
    assert token.secret_hash == api_tokens.hash_secret(created.secret)
    assert created.secret not in token.secret_hash
    assert token.company_id == people["company_a"].id
    assert token.created_by_id == people["hr_a"].id and token.created_at == NOW
    # In the list's order, whatever order they were ticked in.
    assert token.scopes == ["read", "staff:write"]
    assert token.expires_at is None and token.revoked_at is None and token.last_used_at is None


def test_an_admin_creates_an_institute_wide_token(people):
    token = _create(people["admin"]).token
    assert token.company_id is None and token.company is None


@pytest.mark.parametrize("who", ["learner", "trainer"])
def test_nobody_else_creates_a_token(people, who):
    with pytest.raises(PermissionDenied):
        _create(people[who])
    assert db.session.scalar(select(ApiToken.id)) is None


def test_creating_is_audited_without_the_secret(people):
    created = _create(people["hr_a"], scopes=["read", "enrolments:write"])
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.created"))
    assert entry is not None
    assert (entry.object_type, entry.object_id) == ("api_tokens", created.token.id)
    assert entry.actor_id == people["hr_a"].id
    assert entry.company_id == people["company_a"].id
    assert entry.summary == "Nightly HR sync"
    assert entry.details["scopes"] == ["read", "enrolments:write"]
    assert entry.details["token_name"] == "Nightly HR sync"
    assert created.secret not in repr((entry.summary, entry.details))
    assert created.secret[3:13] not in repr((entry.summary, entry.details))


# Names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the token a name."),
        ("   ", "Give the token a name."),
        ("x" * 101, "Use at most 100 characters."),
        ("Nightly\nsync", "Keep the name to one line, without control characters."),
        ("Nightly\x00sync", "Keep the name to one line, without control characters."),
    ],
)
def test_a_name_is_one_line_of_at_most_100_characters(people, name, message):
    with pytest.raises(ValidationFailed) as error:
        _create(people["hr_a"], name=name)
    assert _refusal(error) == ("name", message)


def test_a_name_is_kept_trimmed_and_may_be_100_characters_of_any_script(people):
    assert _create(people["hr_a"], name="  夜間人事同步  ").token.name == "夜間人事同步"
    assert len(_create(people["hr_a"], name="y" * 100).token.name) == 100


def test_a_name_is_not_that_of_another_active_token_of_the_same_owner(people):
    _create(people["hr_a"], name="Nightly HR sync")
    for actor, name in ((people["hr_a"], "NIGHTLY hr SYNC "), (people["hr_a2"], "Nightly HR sync")):
        with pytest.raises(ValidationFailed) as error:
            _create(actor, name=name)
        field, message = _refusal(error)
        assert field == "name" and message.startswith("An active token already has this name.")
    # Another company's, and the institute's, are theirs.
    _create(people["hr_b"], name="Nightly HR sync")
    _create(people["admin"], name="Nightly HR sync")
    with pytest.raises(ValidationFailed):
        _create(people["admin2"], name="Nightly HR sync")


def test_the_name_of_a_revoked_or_expired_token_may_be_used_again(people):
    revoked = _create(people["hr_a"], name="Revoked sync").token
    api_tokens.revoke_token(people["hr_a"], revoked, now=NOW)
    expiring = _create(people["hr_a"], name="Expired sync", expires_on=TODAY + timedelta(days=1))
    later = start_of_hk_day_utc(TODAY + timedelta(days=1))

    assert _create(people["hr_a"], name="Revoked sync").token.name == "Revoked sync"
    assert _create(people["hr_a"], name="Expired sync", now=later).token.id > expiring.token.id


# Scopes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        ([], "Choose at least one scope."),
        ([""], "Choose at least one scope."),
        (["read", "admin"], "Choose scopes from the list."),
        (["READ"], "Choose scopes from the list."),
    ],
)
def test_a_token_has_at_least_one_scope_of_the_list(people, scopes, message):
    with pytest.raises(ValidationFailed) as error:
        _create(people["hr_a"], scopes=scopes)
    assert _refusal(error) == ("scopes", message)


def test_a_scope_chosen_twice_is_kept_once(people):
    token = _create(people["hr_a"], scopes=["enrolments:write", "read", "enrolments:write"]).token
    assert token.scopes == ["read", "enrolments:write"]


# Expiry ----------------------------------------------------------------------------------------


def test_a_token_expires_at_the_start_of_its_hong_kong_day(people):
    day = TODAY + timedelta(days=30)
    token = _create(people["hr_a"], expires_on=day).token
    assert token.expires_at == start_of_hk_day_utc(day)
    assert token.expires_at.isoformat() == f"{day - timedelta(days=1)}T16:00:00+00:00"


@pytest.mark.parametrize("days", [0, -1, -400])
def test_the_expiry_day_is_after_today(people, days):
    with pytest.raises(ValidationFailed) as error:
        _create(people["hr_a"], expires_on=TODAY + timedelta(days=days))
    assert _refusal(error) == ("expires_on", "Choose a day after today.")


def test_a_token_lives_at_most_two_years(people):
    assert latest_expiry(TODAY) == date(2028, 3, 2)
    assert _create(people["hr_a"], name="a", expires_on=date(2028, 3, 2)).token.expires_at
    assert _create(people["hr_a"], name="b", expires_on=TODAY + timedelta(days=1)).token
    with pytest.raises(ValidationFailed) as error:
        _create(people["hr_a"], name="c", expires_on=date(2028, 3, 3))
    assert _refusal(error) == ("expires_on", "A token may live at most two years.")


def test_two_years_from_a_leap_day_end_on_the_28th_of_february():
    assert latest_expiry(date(2028, 2, 29)) == date(2030, 2, 28)
    assert latest_expiry(date(2027, 2, 28)) == date(2029, 2, 28)


def test_today_is_hong_kongs_day(people):
    """At 01:00 in Hong Kong it is still yesterday in UTC: tomorrow is Hong Kong's."""
    early = datetime.fromisoformat("2026-03-01T17:00:00+00:00")  # 2 March, 01:00 in Hong Kong
    with pytest.raises(ValidationFailed):
        _create(people["hr_a"], expires_on=date(2026, 3, 2), now=early)
    assert _create(people["hr_a"], expires_on=date(2026, 3, 3), now=early).token


def test_nothing_is_saved_when_a_rule_refuses(people):
    for options in (
        {"name": ""},
        {"scopes": []},
        {"expires_on": TODAY},
    ):
        with pytest.raises(ValidationFailed):
            _create(people["hr_a"], **options)
    assert db.session.scalar(select(ApiToken.id)) is None
    assert db.session.scalar(select(AuditEntry.id)) is None


# Who sees which ------------------------------------------------------------------------------


def test_an_hr_officer_sees_only_their_companys_tokens(people):
    mine = _create(people["hr_a"], name="Mine").token
    colleague = _create(people["hr_a2"], name="Colleague's").token
    _create(people["hr_b"], name="Theirs")
    _create(people["admin"], name="Institute")
    seen = list(db.session.scalars(api_tokens.visible_tokens(people["hr_a"])))
    assert {token.id for token in seen} == {mine.id, colleague.id}


def test_an_admin_sees_only_the_institute_wide_tokens(people):
    _create(people["hr_a"], name="Company's")
    own = _create(people["admin"], name="Own").token
    other = _create(people["admin2"], name="Another admin's").token
    seen = list(db.session.scalars(api_tokens.visible_tokens(people["admin"])))
    assert {token.id for token in seen} == {own.id, other.id}


@pytest.mark.parametrize("who", ["learner", "trainer"])
def test_nobody_else_sees_tokens(people, who):
    with pytest.raises(PermissionDenied):
        api_tokens.visible_tokens(people[who])


def test_the_list_shows_the_newest_first_and_the_revoked_last(people):
    first = _create(people["hr_a"], name="First", now=NOW).token
    second = _create(people["hr_a"], name="Second", now=NOW + timedelta(hours=1)).token
    third = _create(people["hr_a"], name="Third", now=NOW + timedelta(hours=2)).token
    api_tokens.revoke_token(people["hr_a"], third, now=NOW + timedelta(hours=3))
    seen = list(db.session.scalars(api_tokens.visible_tokens(people["hr_a"])))
    assert [token.id for token in seen] == [second.id, first.id, third.id]


def test_a_token_is_found_only_by_those_who_manage_it(people):
    company_token = _create(people["hr_a"], name="Company's").token
    institute_token = _create(people["admin"], name="Institute").token
    assert api_tokens.find_token(people["hr_a"], company_token.id) is company_token
    assert api_tokens.find_token(people["hr_a2"], company_token.id) is company_token
    assert api_tokens.find_token(people["admin2"], institute_token.id) is institute_token
    for actor, token_id in (
        (people["hr_b"], company_token.id),
        (people["admin"], company_token.id),
        (people["hr_a"], institute_token.id),
        (people["learner"], company_token.id),
        (people["hr_a"], 2**31 - 1),
    ):
        with pytest.raises(NotFound):
            api_tokens.find_token(actor, token_id)


# Revoking ------------------------------------------------------------------------------------


def test_revoking_is_at_once_audited_and_done_once(people):
    token = _create(people["hr_a"]).token
    later = NOW + timedelta(days=3)
    # A colleague may revoke it: its creator may have left.
    assert api_tokens.revoke_token(people["hr_a2"], token, now=later) is True
    assert token.revoked_at == later and token.revoked_by_id == people["hr_a2"].id
    assert token_state(token, later) == ApiTokenState.REVOKED
    assert api_tokens.revoke_token(people["hr_a"], token, now=later + timedelta(days=1)) is False
    assert token.revoked_at == later and token.revoked_by_id == people["hr_a2"].id
    db.session.commit()
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "api_token.revoked")
    ).all()
    assert [(entry.actor_id, entry.object_id, entry.company_id) for entry in entries] == [
        (people["hr_a2"].id, token.id, people["company_a"].id)
    ]


def test_another_companys_token_cannot_be_revoked(people):
    token = _create(people["hr_a"]).token
    institute = _create(people["admin"]).token
    for actor, target in (
        (people["hr_b"], token),
        (people["admin"], token),
        (people["hr_a"], institute),
    ):
        with pytest.raises(NotFound):
            api_tokens.revoke_token(actor, target, now=NOW)
    assert token.revoked_at is None and institute.revoked_at is None


def test_a_tokens_state(people):
    token = _create(people["hr_a"], expires_on=TODAY + timedelta(days=2)).token
    expiry = start_of_hk_day_utc(TODAY + timedelta(days=2))
    assert token_state(token, NOW) == ApiTokenState.ACTIVE
    assert token_state(token, expiry - timedelta(seconds=1)) == ApiTokenState.ACTIVE
    assert token_state(token, expiry) == ApiTokenState.EXPIRED
    api_tokens.revoke_token(people["hr_a"], token, now=NOW)
    assert token_state(token, NOW) == ApiTokenState.REVOKED
    assert token_state(token, expiry) == ApiTokenState.REVOKED


# Authenticating ------------------------------------------------------------------------------


def _authenticate(secret, now=None):
    token = api_tokens.authenticate(secret, now=now or utcnow())
    db.session.commit()
    return token


@pytest.mark.parametrize(
    "secret",
    [None, "", "Bearer", "su_", "su_" + "x" * 43, "gh_" + "x" * 43, "su_" + "x" * 300],
)
def test_an_unknown_secret_is_refused(people, secret):
    _create(people["hr_a"])
    with pytest.raises(InvalidApiToken) as error:
        api_tokens.authenticate(secret)
    assert str(error.value.message) == "The API token is missing or not valid."
    assert error.value.status_code == 401


def test_a_token_acts_with_its_secret_alone(people):
    created = _create(people["hr_a"], now=utcnow())
    wrong = created.secret[:-1] + ("A" if created.secret[-1] != "A" else "B")
    with pytest.raises(InvalidApiToken):
        api_tokens.authenticate(wrong)
    assert _authenticate(created.secret).id == created.token.id


def test_a_revoked_token_is_refused_from_its_next_request(people):
    created = _create(people["hr_a"], now=utcnow())
    assert _authenticate(created.secret)
    api_tokens.revoke_token(people["hr_a"], created.token)
    with pytest.raises(InvalidApiToken) as error:
        api_tokens.authenticate(created.secret)
    assert str(error.value.message) == "This API token has been revoked."


def test_an_expired_token_is_refused(people):
    created = _create(people["hr_a"], expires_on=TODAY + timedelta(days=1))
    expiry = start_of_hk_day_utc(TODAY + timedelta(days=1))
    assert _authenticate(created.secret, now=expiry - timedelta(seconds=1))
    with pytest.raises(InvalidApiToken) as error:
        api_tokens.authenticate(created.secret, now=expiry)
    assert str(error.value.message) == "This API token has expired."


CANNOT_ACT = (
    "The person who created this API token can no longer act for its company. Create a new token."
)


@pytest.mark.parametrize(
    "change",
    ["deactivated", "moved", "no_longer_hr", "company_deactivated", "invitation_pending"],
)
def test_a_token_is_refused_once_its_creator_can_no_longer_act(people, change):
    hr = people["hr_a"]
    created = _create(hr, now=utcnow())
    assert _authenticate(created.secret)
    if change == "deactivated":
        hr.is_active = False
    elif change == "moved":
        hr.company = people["company_b"]
    elif change == "no_longer_hr":
        hr.role = Role.LEARNER
    elif change == "company_deactivated":
        people["company_a"].is_active = False
    else:
        # Back to an invitation not yet accepted: no password, the address not confirmed.
        hr.password_hash = None
        hr.email_confirmed_at = None
    db.session.commit()
    with pytest.raises(InvalidApiToken) as error:
        api_tokens.authenticate(created.secret)
    assert str(error.value.message) == CANNOT_ACT


def test_an_admins_token_is_refused_once_they_are_no_longer_an_admin(people):
    created = _create(people["admin"], now=utcnow())
    assert _authenticate(created.secret)
    people["admin"].role = Role.TRAINER
    db.session.commit()
    with pytest.raises(InvalidApiToken) as error:
        api_tokens.authenticate(created.secret)
    assert str(error.value.message) == CANNOT_ACT


def test_the_time_last_used_is_written_at_most_once_a_minute(people):
    created = _create(people["hr_a"], now=NOW)
    db.session.commit()
    token_id = created.token.id

    def last_used():
        db.session.expire_all()
        return db.session.get(ApiToken, token_id).last_used_at

    first = NOW + timedelta(hours=1)
    _authenticate(created.secret, now=first)
    assert last_used() == first
    with recorded_statements() as statements:
        _authenticate(created.secret, now=first + timedelta(seconds=59))
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert last_used() == first
    _authenticate(created.secret, now=first + timedelta(minutes=1))
    assert last_used() == first + timedelta(minutes=1)


# Every problem at once -----------------------------------------------------------------------


def test_a_form_may_learn_every_problem_at_once(people):
    problems = api_tokens.new_token_problems(
        people["hr_a"], " ", ["nope"], expires_on=TODAY, now=NOW
    )
    assert [(problem.field, str(problem.message)) for problem in problems] == [
        ("name", "Give the token a name."),
        ("scopes", "Choose scopes from the list."),
        ("expires_on", "Choose a day after today."),
    ]
    assert (
        api_tokens.new_token_problems(
            people["hr_a"],
            "Nightly HR sync",
            ["read"],
            expires_on=TODAY + timedelta(days=1),
            now=NOW,
        )
        == []
    )
    _create(people["hr_a"], name="Nightly HR sync")
    taken = api_tokens.new_token_problems(people["hr_a"], "Nightly HR sync", ["read"], now=NOW)
    assert [problem.field for problem in taken] == ["name"]
    with pytest.raises(PermissionDenied):
        api_tokens.new_token_problems(people["learner"], "x", ["read"], now=NOW)
