"""Signing in through a company's identity provider in a real browser, without JavaScript
needed: the e-mail step hands the person on to the tests' OpenID Connect provider
(``tests/oidc/provider``), they sign in there (or cancel), and come back signed in.

The demo's Lion Rock has its provider entered and switched off; these tests point it at the
test provider, switch it on with the password still allowed (the other browser tests sign
Lion Rock's people in with their passwords), and switch it off again afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.oidc.harness import (
    REQUIRE_OIDC_VARIABLE,
    OidcProvider,
    oidc_missing_reason,
    oidc_required,
)

from .support import LiveServer

pytestmark = pytest.mark.browser

LEARNER = "learner@partner-b.test"


@pytest.fixture(scope="module")
def lion_rock_sso(live_server: LiveServer) -> Iterator[OidcProvider]:
    reason = oidc_missing_reason()
    if reason is not None:
        if oidc_required():
            pytest.fail(f"{reason} ({REQUIRE_OIDC_VARIABLE}=1)", pytrace=False)
        pytest.skip(reason)
    from skillsup.extensions import db
    from skillsup.models import PartnerCompany, User
    from skillsup.services import sso_providers

    oidc = OidcProvider()
    with live_server.app.app_context():
        company = db.session.scalars(
            select(PartnerCompany).where(PartnerCompany.code == "LRFT")
        ).one()
        admin = db.session.scalars(select(User).where(User.email == "admin@skillsup.test")).one()
        learner = db.session.scalars(select(User).where(User.email == LEARNER)).one()
        oidc.add_account("wky", learner.email, name=learner.name)
        client = oidc.register_client(live_server.url + "/login/sso/callback")
        before = sso_providers.provider_of(company)
        assert before is not None and not before.is_enabled
        saved = (before.issuer, before.client_id, before.client_secret_sealed)
        company_id = company.id
        sso_providers.save_provider(
            admin,
            company,
            sso_providers.ProviderData(
                issuer=oidc.issuer,
                client_id=client.client_id,
                client_secret=client.client_secret,
                domains=["partner-b.test"],
                password_allowed=True,
                is_enabled=True,
            ),
        )
        db.session.commit()
    try:
        yield oidc
    finally:
        with live_server.app.app_context():
            provider = sso_providers.provider_of(db.session.get(PartnerCompany, company_id))
            assert provider is not None
            provider.issuer, provider.client_id, provider.client_secret_sealed = saved
            provider.is_enabled = False
            provider.password_allowed = False
            db.session.commit()
        oidc.stop()


def to_the_provider(page: Any, oidc: OidcProvider) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(LEARNER)
    page.get_by_role("button", name="Continue", exact=True).click()
    # The company also allows a password: the person chooses its sign-in service.
    expect(page.get_by_label("Password", exact=True)).to_be_visible()
    page.get_by_role(
        "button", name="Continue with Lion Rock Financial Technology Ltd sign-in"
    ).click()
    page.wait_for_url(oidc.issuer + "/interaction/**")


def test_signing_in_through_the_companys_provider(
    open_page: Any, lion_rock_sso: OidcProvider
) -> None:
    page = open_page(java_script_enabled=False)
    to_the_provider(page, lion_rock_sso)
    expect(page.get_by_label("Company e-mail")).to_have_value(LEARNER)  # the login_hint
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/my-learning")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_cancelling_at_the_provider_comes_back_to_a_clear_page(
    open_page: Any, lion_rock_sso: OidcProvider
) -> None:
    page = open_page(locale="zh-HK")
    page.goto("/login")
    page.locator("main [name=email]").fill(LEARNER)
    page.locator("main form [type=submit]").first.click()
    page.get_by_role("button", name="經Lion Rock Financial Technology Ltd登入服務繼續").click()
    page.wait_for_url(lion_rock_sso.issuer + "/interaction/**")
    page.get_by_role("button", name="Cancel").click()

    page.wait_for_url("**/login/sso/callback**")
    expect(page.get_by_role("heading", level=1)).to_have_text("你尚未登入")
    expect(page.get_by_text("你已在公司的登入服務取消登入。")).to_be_visible()
