"""The calendar feed on the account page in a real browser, in English and Chinese, on a desktop
and a phone: the webcal:// subscribe link leads to the feed, the Copy button copies the feed's
address and says so in a status region, and without JavaScript the button is not offered."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from playwright.sync_api import expect  # noqa: E402

from tests.factories import PASSWORD  # noqa: E402

from . import scenes  # noqa: E402
from .support import (  # noqa: E402
    PHONE,
    Browsing,
    LiveServer,
    axe_result,
    describe_violations,
    start_axe,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Where a developer looking at the page can ask for its screenshots to be kept.
SHOTS = os.environ.get("SKILLSUP_SHOTS_DIR")

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
CLIPBOARD = ["clipboard-read", "clipboard-write"]

#: (browser language, the page's words) for each language.
WORDS = {
    "en-GB": {
        "create": "Create my calendar feed",
        "subscribe": "Subscribe in your calendar app",
        "address": "Your feed address",
        "copy": "Copy",
        "copied": "Copied",
    },
    "zh-HK": {
        "create": "建立我的日曆訂閱",
        "subscribe": "在日曆應用程式中訂閱",
        "address": "你的日曆訂閱網址",
        "copy": "複製",
        "copied": "已複製",
    },
}


def _shoot(page: Any, folder: Path, name: str) -> None:
    target = Path(SHOTS) if SHOTS else folder
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)


def _learner(live_server: LiveServer, browsing: Browsing, name: str) -> tuple[str, dict[str, Any]]:
    """A new learner of the demo company, and the cookies of a session of theirs."""
    with live_server.app_context():
        [person] = scenes.new_learners("HVIT", [name])
        email = person.email
    return email, browsing.signed_in_state(email, PASSWORD)


def _feed_token(live_server: LiveServer, email: str) -> str:
    with live_server.app_context():
        token = scenes.user(email).calendar_token
    assert token
    return token


@pytest.mark.parametrize("locale", ["en-GB", "zh-HK"])
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_copy_button_copies_the_feed_address_and_announces_it(
    live_server: LiveServer,
    browsing: Browsing,
    open_context: Callable[..., Any],
    screenshot_dir: Path,
    locale: str,
    screen: str,
) -> None:
    words = WORDS[locale]
    email, state = _learner(live_server, browsing, f"Feed Copier {screen} {locale}")
    context = open_context(
        storage_state=state,
        locale=locale,
        permissions=CLIPBOARD,
        **(PHONE if screen == "phone" else DESKTOP),
    )
    page = context.new_page()
    page.goto("/account")
    page.get_by_role("button", name=words["create"]).click()

    token = _feed_token(live_server, email)
    feed = f"{live_server.url}/calendar/{token}.ics"
    address = page.get_by_label(words["address"])
    expect(address).to_have_value(feed)
    expect(address).to_have_attribute("readonly", "")
    link = page.get_by_role("link", name=words["subscribe"])
    expect(link).to_have_attribute("href", feed.replace("http://", "webcal://", 1))

    status = page.locator("[data-copy-status]")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("")
    page.evaluate("navigator.clipboard.writeText('something else')")
    page.get_by_role("button", name=words["copy"], exact=True).click()
    expect(status).to_have_text(words["copied"])
    assert page.evaluate("navigator.clipboard.readText()") == feed
    _shoot(page, screenshot_dir, f"account-calendar-{screen}-{locale}")
    start_axe(page)
    violations = axe_result(page)
    assert not violations, describe_violations(violations)

    # The link's address, fetched as a calendar app would over HTTP, is the feed.
    response = page.request.get(link.get_attribute("href").replace("webcal://", "http://", 1))
    assert response.ok and response.headers["content-type"].startswith("text/calendar")


def test_without_javascript_there_is_no_copy_button_and_the_address_can_be_selected(
    live_server: LiveServer,
    browsing: Browsing,
    open_context: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    email, state = _learner(live_server, browsing, "Feed Reader NoJs")
    page = open_context(storage_state=state, java_script_enabled=False, **PHONE).new_page()
    page.goto("/account")
    page.get_by_role("button", name="Create my calendar feed").click()
    token = _feed_token(live_server, email)
    expect(page.get_by_label("Your feed address")).to_have_value(
        re.compile(rf"/calendar/{re.escape(token)}\.ics$")
    )
    expect(page.get_by_role("link", name="Subscribe in your calendar app")).to_be_visible()
    expect(page.get_by_role("button", name="Copy", exact=True)).to_have_count(0)
    expect(page.locator("button[data-copy]")).to_be_hidden()
    _shoot(page, screenshot_dir, "account-calendar-nojs-phone-en-GB")
