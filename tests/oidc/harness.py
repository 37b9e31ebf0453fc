"""The tests' OpenID Connect provider: ``provider/server.mjs`` (the ``oidc-provider`` package
from the npm registry) run by Node.js, and what the tests do at it as a person would.

``make test`` installs the package (``npm ci`` in ``provider/``). Without Node.js or the
package the tests that need the provider are skipped, saying how to install them; with
``SKILLSUP_REQUIRE_OIDC=1`` (as CI sets) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

PROVIDER_DIR = Path(__file__).parent / "provider"
REQUIRE_OIDC_VARIABLE = "SKILLSUP_REQUIRE_OIDC"
TIMEOUT = 10


def oidc_required() -> bool:
    return os.environ.get(REQUIRE_OIDC_VARIABLE) == "1"


def oidc_missing_reason() -> str | None:
    """Why the provider cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "Node.js is not installed (Debian packages nodejs and npm)"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return f"the oidc-provider package is not installed: run `npm ci` in {PROVIDER_DIR}"
    return None


@dataclass
class Client:
    """A client of the portal registered at the provider."""

    client_id: str
    client_secret: str


class OidcProvider:
    """A running ``server.mjs``: its issuer, and the test controls it answers."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["node", "server.mjs"],  # noqa: S607 (node from PATH, as the brief of the tests)
            cwd=PROVIDER_DIR,
            # The provider ends when this pipe closes, should the tests end without stopping it.
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(TIMEOUT)
        if not line or not line[0].strip():
            self.stop()
            error = self.process.stderr.read() if self.process.stderr else ""
            raise RuntimeError(f"the test identity provider did not start: {error}")
        self.issuer: str = json.loads(line[0])["issuer"]
        # Its warnings (Node's version, the in-memory store) are read and dropped.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        if self.process.stderr is not None:
            for _line in self.process.stderr:
                pass

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def url(self, path: str) -> str:
        return self.issuer + path

    def register_client(self, redirect_uri: str) -> Client:
        """Register a client with ``redirect_uri`` (dynamic client registration)."""
        answer = requests.post(
            self.url("/reg"),
            json={
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            timeout=TIMEOUT,
        )
        answer.raise_for_status()
        body = answer.json()
        return Client(body["client_id"], body["client_secret"])

    def add_account(
        self, sub: str, email: str, *, email_verified: bool = True, name: str = ""
    ) -> None:
        requests.post(
            self.url("/test/accounts"),
            json={"sub": sub, "email": email, "email_verified": email_verified, "name": name},
            timeout=TIMEOUT,
        ).raise_for_status()

    def change_next_id_token(
        self,
        claims: dict[str, Any] | None = None,
        *,
        unset: list[str] | None = None,
        key: str = "provider",
        kid: str | None = None,
    ) -> None:
        """Make the token endpoint's next answer carry its ID token with ``claims`` changed
        (and ``unset`` removed), signed with the provider's key or a ``foreign`` one."""
        body: dict[str, Any] = {"claims": claims or {}, "unset": unset or [], "key": key}
        if kid:
            body["kid"] = kid
        requests.post(
            self.url("/test/next-id-token"), json=body, timeout=TIMEOUT
        ).raise_for_status()

    def stats(self) -> dict[str, int]:
        answer = requests.get(self.url("/test/stats"), timeout=TIMEOUT)
        answer.raise_for_status()
        return dict(answer.json())

    def _follow(self, browser: requests.Session, url: str) -> str:
        """Follow the provider's redirects from ``url`` until one leaves it or a page is shown;
        the address it stopped at."""
        for _ in range(10):
            if not url.startswith(self.issuer):
                return url
            answer = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
            if answer.status_code not in (302, 303):
                return url
            url = urljoin(url, answer.headers["Location"])
        raise AssertionError("too many redirects at the provider")

    def sign_in(self, authorization_url: str, email: str) -> str:
        """Sign in at the provider as the account with ``email``: the portal's callback
        address with the answer the provider sends back."""
        browser = requests.Session()
        page = self._follow(browser, authorization_url)
        assert "/interaction/" in page, page
        answer = browser.post(
            page + "/login", data={"email": email}, allow_redirects=False, timeout=TIMEOUT
        )
        assert answer.status_code in (302, 303), answer.text
        return self._follow(browser, urljoin(page, answer.headers["Location"]))

    def cancel(self, authorization_url: str) -> str:
        """Press "Cancel" at the provider's sign-in page: the callback address it sends back."""
        browser = requests.Session()
        page = self._follow(browser, authorization_url)
        answer = browser.post(page + "/abort", allow_redirects=False, timeout=TIMEOUT)
        assert answer.status_code in (302, 303), answer.text
        return self._follow(browser, urljoin(page, answer.headers["Location"]))
