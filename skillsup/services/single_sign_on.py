"""Signing in through a partner company's identity provider (OpenID Connect).

The flow is the authorization code flow with PKCE (S256). :func:`begin` gives the address to
send the person to and what the web layer keeps in their session until they come back: a
fresh ``state``, ``nonce`` and code verifier, used once. :func:`finish` checks the answer the
provider's redirect carries against what was kept, exchanges the code for tokens (Authlib's
``OAuth2Session``) and checks the ID token with Authlib's claims validation: its signature
against the provider's keys (:func:`.sso_providers.signing_keys`), issuer, audience and
``azp``, expiry, issued-at and nonce. :func:`link_account` then finds or creates the portal
account of the person the provider vouched for.

Rules of linking (one home here):

- The provider must say the address is verified (``email_verified`` true) and it must be at
  one of the provider's domains, still one of its company's, the company active.
- An existing account must be a learner or HR officer of that company, active. A deactivated
  person cannot come back through the provider, nor can the staff of an inactive company.
- An account made by invitation whose owner has not set a password yet is completed by the
  sign-in: the provider has verified the same address the invitation went to, which is what
  accepting the invitation proves. Its address counts as confirmed; no password is set.
  A withdrawn invitation is a deactivated account and refused.
- A self-registered account not confirmed yet is confirmed the same way.
- No account yet: the learner is created as registering with a company address does
  (:func:`.accounts.register_verified_learner`), confirmed and without a portal password.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import asdict, dataclass
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2 import OAuth2Error
from authlib.oidc.core import CodeIDToken
from flask import current_app
from flask_babel import lazy_gettext as _l
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jws import JWSRegistry
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    COMPANY_ROLES,
    CompanyIdentityProvider,
    PartnerCompany,
    User,
    normalise_email,
    utcnow,
)
from . import accounts, audit, sealed
from .errors import ProviderUnavailable, SignInAccountRefused, SignInRefused
from .sso_providers import (
    DiscoveryFailed,
    DocumentUnavailable,
    fetch_discovery,
    signing_keys,
    timeout,
)

#: How long the person may take at the provider, in seconds.
PENDING_SECONDS = 15 * 60
#: Clock difference tolerated between the portal and the provider, in seconds.
LEEWAY_SECONDS = 60
SCOPE = "openid email profile"
#: Signature algorithms an ID token may use: the provider's public keys only (never "none",
#: nor a shared-secret HMAC).
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")

CANCELLED = _l("You cancelled signing in at your company's sign-in service.")
STATE_UNKNOWN = _l(
    "This sign-in has expired or has already been used. Start again from the sign-in page."
)


@dataclass(frozen=True)
class ProviderSignIn:
    """What the session keeps while the person is at their provider (a plain dict there)."""

    provider_id: int
    email: str
    state: str
    nonce: str
    code_verifier: str
    started_at: float

    def to_session(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_session(cls, kept: Any) -> ProviderSignIn | None:
        if not isinstance(kept, dict):
            return None
        try:
            return cls(**kept)
        except TypeError:
            return None


def _client(provider: CompanyIdentityProvider, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=sealed.unseal(provider.client_secret_sealed),
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method's name)
    )


def _discovery(provider: CompanyIdentityProvider) -> dict[str, Any]:
    try:
        return fetch_discovery(provider.issuer)
    except DiscoveryFailed as error:
        current_app.logger.warning("sso: provider %s: %s", provider.issuer, error.message)
        raise ProviderUnavailable() from error


def begin(
    provider: CompanyIdentityProvider, email: str, redirect_uri: str
) -> tuple[str, ProviderSignIn]:
    """The provider's authorization address to send the person to (with ``login_hint``, the
    PKCE challenge, a fresh ``state`` and ``nonce``), and what to keep until they come back.

    Raises :class:`ProviderUnavailable` when the provider's discovery document cannot be had.
    """
    discovery = _discovery(provider)
    pending = ProviderSignIn(
        provider_id=provider.id,
        email=normalise_email(email),
        state=generate_token(32),
        nonce=generate_token(32),
        code_verifier=generate_token(64),
        started_at=time.time(),
    )
    url, _state = _client(provider, redirect_uri).create_authorization_url(
        discovery["authorization_endpoint"],
        state=pending.state,
        nonce=pending.nonce,
        code_verifier=pending.code_verifier,
        login_hint=pending.email,
    )
    return url, pending


def check_answer(pending: ProviderSignIn | None, answer: dict[str, str]) -> ProviderSignIn:
    """The sign-in the provider's redirect answers, when ``answer`` (its query) carries the
    ``state`` kept for it, in time. The caller forgets what it kept whatever the outcome, so
    that a state is used once.

    Raises :class:`SignInRefused` for an unknown, used or expired state, and when the person
    cancelled at the provider or the provider answered with an error.
    """
    state = answer.get("state", "")
    if (
        pending is None
        or not state
        or not hmac.compare_digest(pending.state.encode(), state.encode())
        or time.time() - pending.started_at > PENDING_SECONDS
    ):
        raise SignInRefused(STATE_UNKNOWN)
    error = answer.get("error")
    if error == "access_denied":
        raise SignInRefused(CANCELLED)
    if error:
        current_app.logger.warning(
            "sso: the provider answered %s: %s", error, answer.get("error_description", "")
        )
        raise SignInRefused(
            _l("Your company's sign-in service did not sign you in (%(error)s).", error=error)
        )
    if not answer.get("code"):
        raise SignInRefused(STATE_UNKNOWN)
    return pending


def finish(
    provider: CompanyIdentityProvider, pending: ProviderSignIn, code: str, redirect_uri: str
) -> dict[str, Any]:
    """Exchange the authorization ``code`` for tokens and return the ID token's claims, once
    checked (see the module's docstring).

    Raises :class:`ProviderUnavailable` when the provider cannot be reached, refuses the code,
    or gives an ID token that fails a check (each logged with the reason).
    """
    discovery = _discovery(provider)
    client = _client(provider, redirect_uri)
    try:
        token = client.fetch_token(
            discovery["token_endpoint"],
            grant_type="authorization_code",
            code=code,
            code_verifier=pending.code_verifier,
            timeout=timeout(),
        )
    except (requests.RequestException, OAuthError, OAuth2Error, ValueError) as error:
        current_app.logger.warning("sso: token request to %s failed: %s", provider.issuer, error)
        raise ProviderUnavailable() from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        current_app.logger.warning("sso: %s gave no ID token", provider.issuer)
        raise ProviderUnavailable()
    return validate_id_token(
        provider, discovery, id_token, pending.nonce, token.get("access_token")
    )


def validate_id_token(
    provider: CompanyIdentityProvider,
    discovery: dict[str, Any],
    id_token: str,
    nonce: str,
    access_token: str | None,
) -> dict[str, Any]:
    """The claims of ``id_token`` once its signature (against the provider's keys, fetched
    again once for a key id the cached set lacks), issuer, audience, ``azp``, expiry, issue
    time and nonce are checked. Raises :class:`ProviderUnavailable`."""
    offered = discovery.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [name for name in offered if name in ASYMMETRIC_ALGORITHMS]
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    jwks_uri = discovery["jwks_uri"]
    try:
        try:
            token = jwt.decode(id_token, signing_keys(jwks_uri), registry=registry)
        except InvalidKeyIdError:
            # The provider may have rolled its keys since they were cached.
            token = jwt.decode(id_token, signing_keys(jwks_uri, refresh=True), registry=registry)
        claims = CodeIDToken(
            token.claims,
            token.header,
            {
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": provider.client_id},
                "iat": {"essential": True, "validate": _issued_in_the_past},
            },
            {"nonce": nonce, "client_id": provider.client_id, "access_token": access_token},
        )
        claims.validate(leeway=LEEWAY_SECONDS)
        if not claims.get("nonce"):  # asked for, so it must be there
            raise JoseError("no nonce")
    except (JoseError, DocumentUnavailable, ValueError) as error:
        current_app.logger.warning(
            "sso: ID token from %s refused: %s: %s", provider.issuer, type(error).__name__, error
        )
        raise ProviderUnavailable(
            _l(
                "Your company's sign-in service sent an answer that the portal cannot trust, "
                "so you have not been signed in. Try again; if it keeps happening, tell your "
                "HR officer."
            )
        ) from error
    return dict(claims)


def _issued_in_the_past(_claims: Any, value: Any) -> bool:
    return isinstance(value, int | float) and value <= time.time() + LEEWAY_SECONDS


def _verified(claims: dict[str, Any]) -> bool:
    value = claims.get("email_verified")
    return value is True or value == "true"


def _name(claims: dict[str, Any], email: str) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(part for part in parts if isinstance(part, str) and part.strip())
    return (name or email.partition("@")[0]).strip()[:200]


def _new_learner(email: str, claims: dict[str, Any], company: PartnerCompany) -> User:
    """The learner account made for ``email`` at its first sign-in, or the one a sign-in of the
    same person at the same moment made first (the address is unique: the loser of the race
    takes the winner's account rather than failing)."""
    try:
        with db.session.begin_nested():
            return accounts.register_verified_learner(email, _name(claims, email), company)
    except IntegrityError:
        made_meanwhile = accounts.find_user_by_email(email)
        if made_meanwhile is None:
            raise
        return made_meanwhile


def link_account(provider: CompanyIdentityProvider, claims: dict[str, Any]) -> User:
    """The portal account of the person the provider signed in (see the module's rules),
    created when there is none; the sign-in is audited.

    Raises :class:`SignInRefused` for an address that is missing, unverified or outside the
    provider's domains, and :class:`SignInAccountRefused` for an account of another company
    or role, a deactivated account, or a company whose access has ended.
    """
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SignInRefused(
            _l("Your company's sign-in service did not tell the portal your e-mail address.")
        )
    email = normalise_email(email)
    if not _verified(claims):
        raise SignInRefused(
            _l(
                "Your company's sign-in service has not verified your e-mail address "
                "(%(email)s), so the portal cannot sign you in with it.",
                email=email,
            )
        )
    company = provider.company
    if not company.is_active:
        raise SignInAccountRefused(_l("Your company's access to the portal has ended."))
    if not provider.covers(email) or accounts.company_for_email(email) is not company:
        raise SignInRefused(
            _l(
                "%(email)s is not an address that %(company)s's sign-in service may sign in "
                "to the portal.",
                email=email,
                company=company.name,
            )
        )
    user = accounts.find_user_by_email(email) or _new_learner(email, claims, company)
    if user.company_id != company.id or user.role not in COMPANY_ROLES:
        raise SignInAccountRefused(
            _l(
                "The portal account of %(email)s does not belong to %(company)s: sign in "
                "with its password, or ask your HR officer.",
                email=email,
                company=company.name,
            )
        )
    elif not user.is_active:
        raise SignInAccountRefused(_l("This account has been deactivated."))
    elif user.email_confirmed_at is None:
        how = "completed the invitation" if user.invitation_pending else "confirmed the address"
        user.email_confirmed_at = utcnow()
        audit.record(
            user, "account.email_confirmed", user, f"{how} by signing in through single sign-on"
        )
    user.last_login_at = utcnow()
    audit.record(
        user,
        "auth.login",
        user,
        "signed in through single sign-on",
        {"method": "sso", "issuer": provider.issuer, "subject": str(claims.get("sub", ""))},
    )
    db.session.flush()
    return user
