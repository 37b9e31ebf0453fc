"""Fixtures of the single sign-on tests: one real OpenID Connect provider per test process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from skillsup.services import sso_providers

from .harness import REQUIRE_OIDC_VARIABLE, OidcProvider, oidc_missing_reason, oidc_required


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """The test identity provider, or a skip (a failure under ``SKILLSUP_REQUIRE_OIDC=1``)
    saying what is missing."""
    reason = oidc_missing_reason()
    if reason is not None:
        if oidc_required():
            pytest.fail(f"{reason} ({REQUIRE_OIDC_VARIABLE}=1)", pytrace=False)
        pytest.skip(reason)
    provider = OidcProvider()
    yield provider
    provider.stop()


@pytest.fixture(autouse=True)
def forget_provider_documents() -> Iterator[None]:
    """Each test fetches the provider's documents afresh (the cache is per process)."""
    sso_providers.forget_cached_documents()
    yield
    sso_providers.forget_cached_documents()
