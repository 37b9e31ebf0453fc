"""Partner companies' identity providers (OpenID Connect): their configuration, which provider
covers an address, and the provider's discovery document and signing keys.

Rules:

- A company has at most one provider. Its issuer is an ``https://`` URL (``http://`` only for
  ``localhost`` or ``127.0.0.1`` while ``SSO_ALLOW_INSECURE`` is on, which tests use) without
  credentials, query or fragment; the provider's discovery document is at
  ``<issuer>/.well-known/openid-configuration``.
- The domains it covers are some of the company's own e-mail domains, at least one.
- The client secret is kept sealed (:mod:`.sealed`); saving without a new one keeps the stored
  one, and a new provider needs one.
- Saving a provider that is switched on fetches its discovery document and checks it: it must
  be reachable, name the same issuer, support the authorization code flow and PKCE with S256,
  and give its endpoints (over https, as the issuer). A provider switched off is saved even
  when its document cannot be had yet (the admin prepares it before the provider is ready).
- A provider signs people in only while it is switched on and its company is active; an
  address is covered when its domain is one of the provider's domains and still one of the
  company's.

Discovery documents and key sets are kept for ``SSO_CACHE_SECONDS`` in each process; an ID
token signed with a key the set does not hold makes the set be fetched again once
(:func:`signing_keys`). Every call has the ``SSO_TIMEOUT``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l
from joserfc.jwk import KeySet
from sqlalchemy import select

from ..extensions import db
from ..models import CompanyIdentityProvider, PartnerCompany, User
from . import audit, sealed
from .accounts import company_for_email
from .errors import PasswordNotAllowed, ValidationFailed

ISSUER_MAX_LENGTH = 500
CLIENT_ID_MAX_LENGTH = 255
SECRET_MAX_LENGTH = 1000
#: Hosts a provider may have over plain http while ``SSO_ALLOW_INSECURE`` is on.
LOCAL_HOSTS = ("localhost", "127.0.0.1")
DISCOVERY_PATH = "/.well-known/openid-configuration"


class DiscoveryFailed(ValidationFailed):
    """The provider's discovery document could not be had, or does not fit; the message says
    why (for the issuer field of the admin's form)."""


@dataclass(frozen=True)
class ProviderData:
    """What an admin enters for a company's provider. An empty ``client_secret`` keeps the
    stored one."""

    issuer: str
    client_id: str
    client_secret: str
    domains: list[str]
    password_allowed: bool
    is_enabled: bool


# Which provider, for whom ------------------------------------------------------------------


def provider_of(company: PartnerCompany) -> CompanyIdentityProvider | None:
    """The company's identity provider, switched on or not."""
    return db.session.scalar(
        select(CompanyIdentityProvider).where(CompanyIdentityProvider.company_id == company.id)
    )


def provider_for_email(email: str) -> CompanyIdentityProvider | None:
    """The switched-on provider that signs in the person with this address, if any: that of
    the active company whose domain the address is at, when it covers that domain. Only the
    domain decides: whether the address has an account plays no part."""
    company = company_for_email(email)
    if company is None:
        return None
    provider = provider_of(company)
    if provider is None or not provider.is_enabled or not provider.covers(email):
        return None
    return provider


def check_password_allowed(email: str) -> None:
    """Refuse a portal password for an address whose company's provider does not allow one.

    Raises :class:`PasswordNotAllowed`; decided by the domain alone, before any password or
    account is looked at.
    """
    provider = provider_for_email(email)
    if provider is not None and not provider.password_allowed:
        raise PasswordNotAllowed()


# Saving a provider -------------------------------------------------------------------------


def allow_insecure() -> bool:
    """Whether an issuer may be ``http://localhost`` (``SSO_ALLOW_INSECURE``)."""
    return bool(current_app.config.get("SSO_ALLOW_INSECURE"))


def is_allowed_url(url: str) -> bool:
    """Whether the portal may talk to a provider at ``url``: https, or http on this machine
    while ``SSO_ALLOW_INSECURE`` is on; a host, no credentials and no fragment."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a malformed port raises here)
    except ValueError:
        return False
    if not parts.hostname or parts.username or parts.password or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and allow_insecure() and parts.hostname in LOCAL_HOSTS


def check_issuer(issuer: str) -> str:
    """The issuer as it is kept (spaces around it dropped), or :class:`ValidationFailed`."""
    issuer = issuer.strip()
    if not issuer:
        raise ValidationFailed(_l("Enter the provider's issuer URL."), field="issuer")
    if len(issuer) > ISSUER_MAX_LENGTH or not issuer.isascii() or " " in issuer:
        raise ValidationFailed(
            _l("Enter the issuer as a web address, for example https://login.example.com."),
            field="issuer",
        )
    if not is_allowed_url(issuer) or urlsplit(issuer).query:
        if allow_insecure():
            message = _l(
                "The issuer must be an https:// address (or http:// on localhost or "
                "127.0.0.1 while testing), without a query or fragment."
            )
        else:
            message = _l("The issuer must be an https:// address, without a query or fragment.")
        raise ValidationFailed(message, field="issuer")
    return issuer


def save_provider(
    actor: User, company: PartnerCompany, data: ProviderData, *, verify: bool = True
) -> tuple[CompanyIdentityProvider, list[str]]:
    """Create or change the company's identity provider; audited.

    Returns the provider and the names of what changed (empty when nothing did). Raises
    :class:`ValidationFailed` for an issuer or client id that is not allowed, no client
    secret for a new provider, or domains that are none or not the company's, and
    :class:`DiscoveryFailed` when the provider is switched on and its discovery document does
    not pass (see the module's rules). ``verify=False`` skips fetching it (the demo data,
    whose example issuer does not exist).
    """
    issuer = check_issuer(data.issuer)
    client_id = data.client_id.strip()
    if not client_id or len(client_id) > CLIENT_ID_MAX_LENGTH:
        raise ValidationFailed(
            _l("Enter the client id the provider gave the portal."), field="client_id"
        )
    if len(data.client_secret) > SECRET_MAX_LENGTH:
        raise ValidationFailed(_l("That client secret is too long."), field="client_secret")
    provider = provider_of(company)
    if provider is None and not data.client_secret:
        raise ValidationFailed(
            _l("Enter the client secret the provider gave the portal."), field="client_secret"
        )
    domains = [domain.strip().lower() for domain in data.domains]
    if not domains:
        raise ValidationFailed(
            _l("Choose at least one of the company's e-mail domains."), field="domains"
        )
    foreign = sorted(set(domains) - set(company.domain_names))
    if foreign:
        raise ValidationFailed(
            _l(
                "These domains are not the company's: %(domains)s.",
                domains=", ".join(foreign),
            ),
            field="domains",
        )
    if data.is_enabled and verify:
        fetch_discovery(issuer, fresh=True, for_form=True)
    if provider is None:
        provider = CompanyIdentityProvider(company=company, client_secret_sealed="")
        db.session.add(provider)
        before: dict[str, Any] = {}
    else:
        before = _settings(provider)
    provider.issuer = issuer
    provider.client_id = client_id
    provider.domains = [domain for domain in company.domain_names if domain in domains]
    provider.password_allowed = data.password_allowed
    provider.is_enabled = data.is_enabled
    new_secret = bool(data.client_secret)
    if new_secret:
        provider.client_secret_sealed = sealed.seal(data.client_secret)
    after = _settings(provider)
    changed = [name for name in after if before.get(name) != after[name]]
    if new_secret:
        changed.append("client_secret")
    if not changed:
        return provider, []
    db.session.flush()
    audit.record(
        actor,
        "company.sso_saved",
        company,
        f"single sign-on {'switched on' if provider.is_enabled else 'switched off'}: "
        f"{issuer} for {', '.join(provider.domains)}",
        # Never the secret: only that it was replaced.
        {"changed": changed, **after},
    )
    return provider, changed


def _settings(provider: CompanyIdentityProvider) -> dict[str, Any]:
    return {
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "domains": list(provider.domains),
        "password_allowed": provider.password_allowed,
        "is_enabled": provider.is_enabled,
    }


# The provider's documents ------------------------------------------------------------------

_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def forget_cached_documents() -> None:
    """Forget every discovery document and key set kept (tests use this)."""
    with _cache_lock:
        _cache.clear()


def _cached(url: str) -> Any | None:
    with _cache_lock:
        kept = _cache.get(url)
    if kept is None or kept[0] < time.monotonic():
        return None
    return kept[1]


def _keep(url: str, document: Any) -> None:
    seconds = int(current_app.config.get("SSO_CACHE_SECONDS", 3600))
    with _cache_lock:
        _cache[url] = (time.monotonic() + seconds, document)


def timeout() -> float:
    return float(current_app.config.get("SSO_TIMEOUT", 10))


class DocumentUnavailable(Exception):
    """A provider's document could not be fetched or read; ``message`` says why."""

    def __init__(self, message: Any) -> None:
        self.message = message
        super().__init__(str(message))


def get_json(url: str) -> dict[str, Any]:
    """The JSON object at ``url``, or :class:`DocumentUnavailable`."""
    try:
        response = requests.get(url, timeout=timeout(), allow_redirects=False)
    except requests.RequestException as error:
        current_app.logger.warning("sso: %s could not be reached: %s", url, error)
        raise DocumentUnavailable(_l("%(url)s could not be reached.", url=url)) from error
    if response.status_code != 200:
        raise DocumentUnavailable(
            _l("%(url)s answered with HTTP %(status)s.", url=url, status=response.status_code)
        )
    try:
        document = response.json()
    except ValueError as error:
        raise DocumentUnavailable(_l("%(url)s did not answer with JSON.", url=url)) from error
    if not isinstance(document, dict):
        raise DocumentUnavailable(_l("%(url)s did not answer with JSON.", url=url))
    return document


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + DISCOVERY_PATH


def fetch_discovery(issuer: str, *, fresh: bool = False, for_form: bool = False) -> dict[str, Any]:
    """The provider's discovery document, checked (see the module's rules), from the cache
    unless ``fresh``.

    Raises :class:`DiscoveryFailed` (on the issuer field when ``for_form``) saying what is
    wrong.
    """
    url = discovery_url(issuer)
    if not fresh:
        document = _cached(url)
        if document is not None:
            return dict(document)
    try:
        document = get_json(url)
    except DocumentUnavailable as error:
        raise DiscoveryFailed(
            _l("The provider's discovery document could not be read: %(why)s", why=error.message),
            field="issuer" if for_form else None,
        ) from error
    problem = _discovery_problem(issuer, document)
    if problem is not None:
        raise DiscoveryFailed(problem, field="issuer" if for_form else None)
    _keep(url, document)
    return dict(document)


def _discovery_problem(issuer: str, document: dict[str, Any]) -> Any | None:
    if document.get("issuer") != issuer:
        return _l(
            "The discovery document names the issuer %(found)s, not %(given)s: enter the "
            "issuer exactly as the provider gives it.",
            found=str(document.get("issuer")),
            given=issuer,
        )
    if "code" not in (document.get("response_types_supported") or []):
        return _l("The provider does not support the authorization code flow.")
    if "S256" not in (document.get("code_challenge_methods_supported") or []):
        return _l("The provider does not support PKCE with S256.")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not is_allowed_url(value):
            return _l(
                "The discovery document gives no usable %(name)s (an https:// address).",
                name=name,
            )
    return None


def signing_keys(jwks_uri: str, *, refresh: bool = False) -> KeySet:
    """The provider's signing keys from its ``jwks_uri``, from the cache unless ``refresh``.

    Raises :class:`DocumentUnavailable` when they cannot be had.
    """
    document = None if refresh else _cached(jwks_uri)
    if document is None:
        document = get_json(jwks_uri)
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except Exception as error:  # joserfc raises several kinds for a malformed set
            raise DocumentUnavailable(_l("%(url)s holds no usable keys.", url=jwks_uri)) from error
        _keep(jwks_uri, document)
        return keys
    return KeySet.import_key_set(document)
