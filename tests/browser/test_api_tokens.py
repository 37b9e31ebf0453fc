"""The API token pages in a real browser: an HR officer creates a token, copies its secret from
the page that shows it once (a Copy button that announces itself, or, without JavaScript, a
field to select), the API takes the secret, and revoking it after the confirmation stops it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from playwright.sync_api import expect  # noqa: E402

from skillsup.extensions import db  # noqa: E402
from skillsup.services import api_tokens  # noqa: E402

from .support import (  # noqa: E402
    HR_B,
    PHONE,
    LiveServer,
    axe_result,
    describe_violations,
    start_axe,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
CLIPBOARD = ["clipboard-read", "clipboard-write"]


def _may_act(live_server: LiveServer, secret: str) -> bool:
    """Whether the API would take the secret (what every operation that needs a token asks)."""
    with live_server.app_context():
        try:
            api_tokens.authenticate(secret)
        except api_tokens.InvalidApiToken:
            return False
        db.session.rollback()
        return True


def _create(page: Any, name: str, scope: str = "Read") -> str:
    page.goto("/hr/api-tokens")
    page.get_by_label("Token name").fill(name)
    page.get_by_role("checkbox", name=re.compile(rf"^{scope}\b")).check()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your new API token")
    secret = page.get_by_label("Token", exact=True).input_value()
    assert secret.startswith("su_")
    return secret


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_the_secret_is_copied_from_the_page_that_shows_it_once(
    live_server: LiveServer, open_context: Callable[..., Any], screen: str
) -> None:
    context = open_context(
        as_user=HR_B, permissions=CLIPBOARD, **(PHONE if screen == "phone" else DESKTOP)
    )
    page = context.new_page()
    secret = _create(page, f"Browser sync {screen}")
    expect(page.get_by_text("You will not see it again.")).to_be_visible()
    status = page.locator("[data-copy-status]")
    expect(status).to_have_text("")
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(status).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    start_axe(page)
    violations = axe_result(page)
    assert not violations, describe_violations(violations)

    assert _may_act(live_server, secret)

    page.get_by_role("link", name="Done: back to the tokens").click()
    expect(page.get_by_role("row", name=re.compile(f"Browser sync {screen}"))).to_be_visible()
    assert secret not in page.content()


def test_without_javascript_the_secret_can_be_selected(open_context: Callable[..., Any]) -> None:
    page = open_context(as_user=HR_B, java_script_enabled=False, **PHONE).new_page()
    secret = _create(page, "Browser sync without script", scope="Manage staff")
    field = page.get_by_label("Token", exact=True)
    expect(field).to_have_attribute("readonly", "")
    expect(field).to_have_value(secret)
    expect(page.locator("button[data-copy]")).to_be_hidden()


def test_revoking_after_the_confirmation_stops_the_token(
    live_server: LiveServer, open_context: Callable[..., Any]
) -> None:
    page = open_context(as_user=HR_B, **DESKTOP).new_page()
    secret = _create(page, "Browser sync to revoke")
    assert _may_act(live_server, secret)
    page.goto("/hr/api-tokens")
    row = page.get_by_role("row", name=re.compile("Browser sync to revoke"))
    row.get_by_role("link", name=re.compile("^Revoke")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Revoke the API token “Browser sync to revoke”"
    )
    page.get_by_role("button", name="Revoke the token").click()
    expect(page.get_by_text("has been revoked: its next request will be refused.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Browser sync to revoke"))).to_contain_text(
        "Revoked"
    )
    assert not _may_act(live_server, secret)
