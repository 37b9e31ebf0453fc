"""An admin sets up a company's identity provider: the form, its refusals (each a form error,
never a 500, nothing saved), the discovery document checked against a real provider, the
sealed secret, and the audit log."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import AuditEntry, CompanyIdentityProvider
from skillsup.services import sealed

from .harness import OidcProvider

URL = "/admin/companies/{}/single-sign-on"


@pytest.fixture
def as_admin(login_as: Any, admin: Any) -> FlaskClient:
    return login_as(admin)


@pytest.fixture
def two_domains(company: Any, make: Any) -> Any:
    from skillsup.models import CompanyDomain

    company.domains.append(CompanyDomain(domain="hbit-labs.test"))
    db.session.commit()
    return company


def form(address: str, **fields: Any) -> dict[str, Any]:
    return {
        "issuer": address,
        "client_id": "skillsup-portal",
        "client_secret": "s3cret-from-the-provider",
        "domains": ["harbour-it.test"],
        "is_enabled": "y",
        **fields,
    }


def saved(company: Any) -> CompanyIdentityProvider | None:
    return db.session.scalar(
        select(CompanyIdentityProvider).where(CompanyIdentityProvider.company_id == company.id)
    )


def body(answer: Any) -> str:
    return answer.get_data(as_text=True)


def test_the_page_shows_the_redirect_uri_to_register(as_admin: FlaskClient, company: Any) -> None:
    answer = as_admin.get(URL.format(company.id))
    assert answer.status_code == 200
    assert "http://skillsup.test/login/sso/callback" in body(answer)
    assert re.search(r'<input checked[^>]* value="harbour-it.test"', body(answer))


def test_saving_a_real_provider(
    as_admin: FlaskClient, oidc_provider: OidcProvider, two_domains: Any, admin: Any
) -> None:
    answer = as_admin.post(
        URL.format(two_domains.id), data=form(oidc_provider.issuer, password_allowed="y")
    )

    assert answer.status_code == 302, body(answer)
    provider = saved(two_domains)
    assert provider is not None
    assert (provider.issuer, provider.client_id, provider.domains) == (
        oidc_provider.issuer,
        "skillsup-portal",
        ["harbour-it.test"],
    )
    assert provider.is_enabled and provider.password_allowed
    # Sealed: the database alone does not give the secret away.
    assert "s3cret" not in provider.client_secret_sealed
    assert sealed.unseal(provider.client_secret_sealed) == "s3cret-from-the-provider"
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "company.sso_saved")
    ).one()
    assert entry.actor_id == admin.id and entry.object_id == two_domains.id
    assert "s3cret" not in str(entry.details) and "client_secret" in entry.details["changed"]
    # The company's page says so, and the secret is never shown again.
    assert oidc_provider.issuer in body(as_admin.get(f"/admin/companies/{two_domains.id}"))
    assert "s3cret" not in body(as_admin.get(URL.format(two_domains.id)))


def test_an_empty_secret_keeps_the_stored_one(
    as_admin: FlaskClient, oidc_provider: OidcProvider, company: Any
) -> None:
    as_admin.post(URL.format(company.id), data=form(oidc_provider.issuer))
    answer = as_admin.post(
        URL.format(company.id), data=form(oidc_provider.issuer, client_secret="", is_enabled="")
    )
    assert answer.status_code == 302
    provider = saved(company)
    assert provider is not None and not provider.is_enabled
    assert sealed.unseal(provider.client_secret_sealed) == "s3cret-from-the-provider"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"issuer": "http://login.example.com"}, "must be an https:// address"),
        ({"issuer": "ftp://127.0.0.1/"}, "must be an https:// address"),
        ({"issuer": "https://user:pw@login.example.com"}, "must be an https:// address"),
        ({"issuer": ""}, "This field is required"),
        ({"client_id": ""}, "This field is required"),
        ({"client_secret": ""}, "Enter the client secret"),
        ({"domains": []}, "Choose at least one"),
        ({"domains": ["elsewhere.test"]}, "not the company&#39;s: elsewhere.test"),
    ],
)
def test_refusals_are_form_errors(
    as_admin: FlaskClient, company: Any, fields: dict[str, Any], message: str
) -> None:
    answer = as_admin.post(URL.format(company.id), data=form("https://login.example.com", **fields))
    assert answer.status_code == 400
    assert message in body(answer)
    assert saved(company) is None


def test_http_on_this_machine_only_while_testing(
    app: Any, as_admin: FlaskClient, oidc_provider: OidcProvider, company: Any
) -> None:
    app.config["SSO_ALLOW_INSECURE"] = False
    answer = as_admin.post(URL.format(company.id), data=form(oidc_provider.issuer))
    assert answer.status_code == 400
    assert "The issuer must be an https:// address, without" in body(answer)
    assert saved(company) is None


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_provider_is_a_form_error(as_admin: FlaskClient, company: Any) -> None:
    issuer = f"http://127.0.0.1:{_closed_port()}"
    answer = as_admin.post(URL.format(company.id), data=form(issuer))
    assert answer.status_code == 400
    assert "discovery document could not be read" in body(answer)
    assert saved(company) is None


def test_a_switched_off_provider_is_saved_before_it_can_be_reached(
    as_admin: FlaskClient, company: Any
) -> None:
    issuer = f"http://127.0.0.1:{_closed_port()}"
    answer = as_admin.post(URL.format(company.id), data=form(issuer, is_enabled=""))
    assert answer.status_code == 302
    provider = saved(company)
    assert provider is not None and not provider.is_enabled


def test_an_issuer_other_than_the_documents_is_a_form_error(
    as_admin: FlaskClient, oidc_provider: OidcProvider, company: Any
) -> None:
    answer = as_admin.post(URL.format(company.id), data=form(oidc_provider.issuer + "/"))
    assert answer.status_code == 400
    assert f"names the issuer {oidc_provider.issuer}, not" in body(answer)
    assert saved(company) is None


def test_a_document_that_is_not_a_providers_is_a_form_error(
    as_admin: FlaskClient, oidc_provider: OidcProvider, company: Any
) -> None:
    # The provider's key set is JSON at a path, but no discovery document.
    answer = as_admin.post(URL.format(company.id), data=form(oidc_provider.issuer + "/jwks"))
    assert answer.status_code == 400
    assert "discovery document could not be read" in body(answer)


def test_saving_the_same_again_changes_nothing(
    as_admin: FlaskClient, oidc_provider: OidcProvider, company: Any
) -> None:
    as_admin.post(URL.format(company.id), data=form(oidc_provider.issuer))
    answer = as_admin.post(
        URL.format(company.id),
        data=form(oidc_provider.issuer, client_secret=""),
        follow_redirects=True,
    )
    assert "Nothing was changed." in body(answer)
    assert (
        len(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "company.sso_saved")
            ).all()
        )
        == 1
    )
