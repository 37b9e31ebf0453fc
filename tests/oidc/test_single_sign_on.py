"""Signing in through a company's identity provider, against a real OpenID Connect provider
(``provider/server.mjs``): the happy paths, and every refusal the portal's own checks make.

Each test signs in as a person would: the portal's login page sends them to the provider,
they sign in there (or cancel), and the provider sends them back to the portal's callback.
"""

from __future__ import annotations

import html
import re
import secrets
import socket
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import AuditEntry, CompanyIdentityProvider, Role, User, UserSession
from skillsup.services import sealed, single_sign_on, sso_providers, two_factor
from skillsup.services.sso_providers import ProviderData

from .harness import OidcProvider

CALLBACK = "http://skillsup.test/login/sso/callback"
HOME = "/my-learning"


@pytest.fixture
def sso(oidc_provider: OidcProvider, company: Any, admin: Any) -> CompanyIdentityProvider:
    """Harbour IT's staff sign in through the test provider; no portal password allowed."""
    client = oidc_provider.register_client(CALLBACK)
    provider, _changed = sso_providers.save_provider(
        admin,
        company,
        ProviderData(
            issuer=oidc_provider.issuer,
            client_id=client.client_id,
            client_secret=client.client_secret,
            domains=["harbour-it.test"],
            password_allowed=False,
            is_enabled=True,
        ),
    )
    db.session.commit()
    return provider


def start(client: FlaskClient, email: str, **fields: str) -> str:
    """The e-mail step of the login page: the provider's address it sends the person to (by
    a page that moves on by itself, and a link)."""
    answer = client.post("/login", data={"email": email, **fields})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page
    link = re.search(r'<a id="provider-link"[^>]* href="([^"]+)"', page)
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)"', page)
    assert link and refresh and link.group(1) == refresh.group(1), page
    return html.unescape(link.group(1))


def come_back(client: FlaskClient, callback_url: str) -> Any:
    assert callback_url.startswith(CALLBACK), callback_url
    return client.get(callback_url.removeprefix("http://skillsup.test"))


def sign_in(client: FlaskClient, oidc_provider: OidcProvider, email: str, as_: str = "") -> Any:
    return come_back(client, oidc_provider.sign_in(start(client, email), as_ or email))


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def text(answer: Any) -> str:
    return answer.get_data(as_text=True)


# Happy paths ---------------------------------------------------------------------------------


def test_an_existing_learner_signs_in_through_the_provider(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    authorization = start(client, learner.email)
    query = parse_qs(urlsplit(authorization).query)
    assert authorization.startswith(oidc_provider.issuer + "/auth?")
    assert query["login_hint"] == [learner.email]
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == [CALLBACK]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32

    answer = come_back(client, oidc_provider.sign_in(authorization, learner.email))

    assert answer.status_code == 302 and answer.headers["Location"].endswith(HOME)
    assert signed_in(client)
    entry = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "auth.login", AuditEntry.actor_id == learner.id
        )
    ).one()
    assert entry.summary == "signed in through single sign-on"
    assert entry.details["issuer"] == oidc_provider.issuer
    assert db.session.get(User, learner.id).last_login_at is not None


def test_a_first_sign_in_creates_the_learner_without_a_password(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, company: Any
) -> None:
    answer = sign_in(client, oidc_provider, "nina.ho@harbour-it.test")

    assert answer.status_code == 302 and answer.headers["Location"].endswith(HOME)
    user = db.session.scalars(select(User).where(User.email == "nina.ho@harbour-it.test")).one()
    assert (user.role, user.company_id, user.name) == (Role.LEARNER, company.id, "Nina Ho")
    assert user.password_hash is None and user.email_confirmed_at is not None
    assert (
        db.session.scalars(
            select(AuditEntry.summary).where(
                AuditEntry.action == "account.registered", AuditEntry.object_id == user.id
            )
        ).one()
        == "registered as a learner of HBIT through single sign-on"
    )
    assert signed_in(client)


def test_an_invitation_not_yet_accepted_is_completed_by_signing_in(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, make: Any, company: Any
) -> None:
    from skillsup.models import utcnow

    invited = make.user(
        company=company,
        email="ivy.ng@harbour-it.test",
        password=None,
        email_confirmed_at=None,
        invited_at=utcnow(),
    )
    oidc_provider.add_account("ivy", "ivy.ng@harbour-it.test", name="Ivy Ng")

    answer = sign_in(client, oidc_provider, invited.email)

    assert answer.status_code == 302 and signed_in(client)
    user = db.session.get(User, invited.id)
    assert user.email_confirmed_at is not None and user.password_hash is None
    assert not db.session.scalars(
        select(User).where(User.email == "ivy.ng@harbour-it.test", User.id != invited.id)
    ).all()


def test_signing_out_ends_the_portal_session(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    sign_in(client, oidc_provider, learner.email)
    assert client.post("/logout").status_code == 302
    assert not signed_in(client)


# Refusals the portal's checks of the ID token make ------------------------------------------


@pytest.mark.parametrize(
    ("change", "unset"),
    [
        pytest.param({"iss": "https://login.elsewhere.example"}, [], id="wrong-issuer"),
        pytest.param({"aud": "someone-else"}, [], id="wrong-audience"),
        pytest.param({"exp": 1_000_000_000, "iat": 999_999_000}, [], id="expired"),
        pytest.param({"iat": 4_000_000_000}, [], id="issued-in-the-future"),
        pytest.param({"nonce": "not-the-one-we-sent"}, [], id="wrong-nonce"),
        pytest.param({}, ["nonce"], id="no-nonce"),
        pytest.param({"azp": "someone-else"}, [], id="another-authorized-party"),
    ],
)
def test_an_id_token_failing_a_check_is_refused(
    client: FlaskClient,
    oidc_provider: OidcProvider,
    sso: Any,
    learner: Any,
    change: dict[str, Any],
    unset: list[str],
) -> None:
    authorization = start(client, learner.email)
    callback = oidc_provider.sign_in(authorization, learner.email)
    oidc_provider.change_next_id_token(change, unset=unset)

    answer = come_back(client, callback)

    assert answer.status_code == 502
    assert "cannot trust" in text(answer)
    assert not signed_in(client)


def test_an_id_token_with_a_bad_signature_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    callback = oidc_provider.sign_in(start(client, learner.email), learner.email)
    oidc_provider.change_next_id_token(key="foreign")

    answer = come_back(client, callback)

    assert answer.status_code == 502 and not signed_in(client)


def test_an_unknown_key_id_fetches_the_keys_again_once(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    # The keys are in the cache from an earlier sign-in.
    sign_in(client, oidc_provider, learner.email)
    client.post("/logout")
    before = oidc_provider.stats()["jwks"]
    callback = oidc_provider.sign_in(start(client, learner.email), learner.email)
    oidc_provider.change_next_id_token(key="foreign", kid="rolled-key")

    answer = come_back(client, callback)

    assert answer.status_code == 502 and not signed_in(client)
    assert oidc_provider.stats()["jwks"] == before + 1


def test_discovery_and_keys_are_reused_between_sign_ins(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    sign_in(client, oidc_provider, learner.email)
    client.post("/logout")
    before = oidc_provider.stats()
    assert sign_in(client, oidc_provider, learner.email).status_code == 302
    after = oidc_provider.stats()
    assert (after["discovery"], after["jwks"]) == (before["discovery"], before["jwks"])


# The state ------------------------------------------------------------------------------------


def test_a_replayed_answer_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    callback = oidc_provider.sign_in(start(client, learner.email), learner.email)
    assert come_back(client, callback).status_code == 302
    client.post("/logout")

    answer = come_back(client, callback)

    assert answer.status_code == 400
    assert "expired or has already been used" in text(answer)
    assert not signed_in(client)


def test_an_answer_with_an_unknown_state_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    callback = oidc_provider.sign_in(start(client, learner.email), learner.email)
    forged = callback.replace("state=", f"state={secrets.token_urlsafe(8)}")

    answer = come_back(client, forged)

    assert answer.status_code == 400 and not signed_in(client)
    # The state was used up by the refusal: the genuine answer is refused too.
    assert come_back(client, callback).status_code == 400


def test_an_answer_without_a_sign_in_started_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any
) -> None:
    answer = client.get("/login/sso/callback?code=abc&state=def")
    assert answer.status_code == 400 and "expired or has already been used" in text(answer)


def test_cancelling_at_the_provider(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    callback = oidc_provider.cancel(start(client, learner.email))
    assert "error=access_denied" in callback

    answer = come_back(client, callback)

    assert answer.status_code == 400
    assert "You cancelled signing in" in text(answer)
    assert not signed_in(client)


# Linking the person to an account --------------------------------------------------------------


def test_an_unverified_address_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any
) -> None:
    answer = sign_in(
        client, oidc_provider, "nina.ho@harbour-it.test", as_="una.lee@harbour-it.test"
    )

    assert answer.status_code == 400 and "has not verified your e-mail address" in text(answer)
    assert db.session.scalar(select(User).where(User.email == "una.lee@harbour-it.test")) is None


def test_an_address_outside_the_providers_domains_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    answer = sign_in(client, oidc_provider, learner.email, as_="oscar.wu@elsewhere.test")

    assert answer.status_code == 400 and "oscar.wu@elsewhere.test is not an address" in text(answer)
    assert db.session.scalar(select(User).where(User.email == "oscar.wu@elsewhere.test")) is None
    assert not signed_in(client)


def test_an_account_of_another_company_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, make: Any
) -> None:
    other = make.company(name="Kowloon Data", code="KLDT", domains=["kowloon-data.test"])
    moved = make.user(company=other, email="mo.chan@harbour-it.test")
    oidc_provider.add_account("mo", moved.email, name="Mo Chan")

    answer = sign_in(client, oidc_provider, moved.email)

    assert answer.status_code == 403 and "does not belong to Harbour IT Services" in text(answer)
    assert not signed_in(client)


def test_a_deactivated_person_cannot_come_back_through_the_provider(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    learner.is_active = False
    db.session.commit()

    answer = sign_in(client, oidc_provider, learner.email)

    assert answer.status_code == 403 and "deactivated" in text(answer)
    assert not signed_in(client)
    assert db.session.get(User, learner.id).last_login_at is None


def test_the_staff_of_a_deactivated_company_are_refused(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any, company: Any
) -> None:
    authorization = start(client, learner.email)
    company.is_active = False
    db.session.commit()

    answer = come_back(client, oidc_provider.sign_in(authorization, learner.email))

    assert answer.status_code == 403 and "access to the portal has ended" in text(answer)
    assert not signed_in(client)


def test_a_provider_switched_off_meanwhile_signs_no_one_in(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    authorization = start(client, learner.email)
    sso.is_enabled = False
    db.session.commit()

    answer = come_back(client, oidc_provider.sign_in(authorization, learner.email))

    assert answer.status_code == 400 and not signed_in(client)


# The provider unreachable ----------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_provider_is_a_clear_page(
    client: FlaskClient, company: Any, learner: Any
) -> None:
    db.session.add(
        CompanyIdentityProvider(
            company=company,
            issuer=f"http://127.0.0.1:{_closed_port()}",
            client_id="portal",
            client_secret_sealed=sealed.seal("secret"),
            domains=["harbour-it.test"],
            is_enabled=True,
        )
    )
    db.session.commit()

    answer = client.post("/login", data={"email": learner.email})

    assert answer.status_code == 502
    assert "did not answer as expected" in text(answer)


def test_a_provider_refusing_the_code_is_a_clear_page(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    callback = oidc_provider.sign_in(start(client, learner.email), learner.email)
    sso.client_secret_sealed = sealed.seal("not-the-secret")
    db.session.commit()

    answer = come_back(client, callback)

    assert answer.status_code == 502 and not signed_in(client)


# The password, for people whose company signs them in --------------------------------------


def test_a_password_is_refused_when_the_provider_allows_none(
    client: FlaskClient, sso: Any, learner: Any
) -> None:
    answer = client.post("/login", data={"email": learner.email, "password": "correct horse"})

    assert "signs you in through its own sign-in service" in text(answer)
    assert not signed_in(client)


def test_the_same_refusal_for_an_address_without_an_account(
    client: FlaskClient, sso: Any, learner: Any
) -> None:
    from tests.factories import PASSWORD

    known = text(client.post("/login", data={"email": learner.email, "password": PASSWORD}))
    unknown = text(
        client.post("/login", data={"email": "nobody@harbour-it.test", "password": PASSWORD})
    )
    assert "signs you in through its own sign-in service" in known
    assert "signs you in through its own sign-in service" in unknown


def test_a_password_still_works_when_the_provider_allows_it(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    from tests.factories import PASSWORD

    sso.password_allowed = True
    db.session.commit()

    step = client.post("/login", data={"email": learner.email})
    assert step.status_code == 200
    page = text(step)
    assert 'name="password"' in page and "Continue with Harbour IT Services sign-in" in page

    assert start(client, learner.email, sso="1").startswith(oidc_provider.issuer)

    answer = client.post("/login", data={"email": learner.email, "password": PASSWORD})
    assert answer.status_code == 302 and signed_in(client)


# The provider is the first factor only ---------------------------------------------------------


def test_someone_with_two_factor_on_is_asked_for_a_code_after_the_provider(
    client: FlaskClient, oidc_provider: OidcProvider, sso: Any, learner: Any
) -> None:
    # Turned on a minute ago, so that the code asked for now is a new one.
    with time_machine.travel(datetime.now(UTC) - timedelta(minutes=1), tick=False):
        key = two_factor.start_setup(learner).key
        two_factor.confirm_setup(learner, pyotp.TOTP(key).now())
    db.session.commit()

    answer = sign_in(client, oidc_provider, learner.email)

    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/login/two-factor")
    assert not signed_in(client)
    done = client.post("/login/two-factor", data={"code": pyotp.TOTP(key).now()})
    assert done.status_code == 302 and done.headers["Location"].endswith(HOME)
    assert signed_in(client)
    session_record = db.session.scalars(
        select(UserSession).where(UserSession.user_id == learner.id)
    ).one()
    assert session_record.method == "sso"


def test_an_hr_officer_sets_up_two_factor_after_the_provider_when_the_portal_requires_it(
    app: Flask, client: FlaskClient, oidc_provider: OidcProvider, sso: Any, hr_officer: Any
) -> None:
    app.config["REQUIRE_TWO_FACTOR"] = True
    oidc_provider.add_account("hilda", hr_officer.email, name="Hilda Ho")

    answer = sign_in(client, oidc_provider, hr_officer.email)

    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/login/two-factor/setup")
    assert not signed_in(client)
    assert client.get("/hr/").status_code == 302


def test_a_first_sign_in_racing_another_takes_the_account_the_other_made(
    company: Any, make: Any
) -> None:
    # The other sign-in of the same new person made the account between this one's look-up
    # and its insert: this one takes that account instead of failing on the unique address.
    made_first = make.user(
        role="learner", company=company, email="rex.lam@harbour-it.test", password=None
    )
    db.session.commit()
    claims = {"email": "rex.lam@harbour-it.test", "name": "Rex Lam"}

    taken = single_sign_on._new_learner("rex.lam@harbour-it.test", claims, company)

    assert taken.id == made_first.id
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
