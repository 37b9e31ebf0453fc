"""Two-factor sign-in in a real browser: a learner sets it up from the account page (reading the
key the page shows, as someone typing it into an app would, and computing its codes with
pyotp), then signs in with a code, and with a recovery code; a wrong code, a code used already
and a recovery code used already are refused with a clear message. Screenshots of every new
page, on a desktop and a phone, in English and Chinese.

The people here are made for these tests (the demo's accounts sign in with their password
alone, and other browser tests rely on that).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

import pyotp  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from skillsup.extensions import db  # noqa: E402
from skillsup.models import User  # noqa: E402
from skillsup.services import two_factor  # noqa: E402
from tests.factories import PASSWORD, Factory  # noqa: E402

from .support import PHONE, LiveServer  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
SCREENS = {"desktop": DESKTOP, "phone": PHONE}
LOCALES = {"en": "en-GB", "zh": "zh-HK"}
_numbers = itertools.count(1)


def _new_learner(live_server: LiveServer) -> str:
    """A learner of a company of their own, who signs in with the tests' password."""
    with live_server.app_context():
        make = Factory()
        n = next(_numbers)
        company = make.company(name=f"Two Factor Test {n}", code=f"TWOF{n}")
        user = make.user(role="learner", company=company, name=f"Tess Factor {n}")
        return user.email


def _enabled_learner(live_server: LiveServer) -> tuple[str, str, list[str]]:
    """A learner with two-factor sign-in on: address, key and recovery codes."""
    email = _new_learner(live_server)
    with live_server.app_context():
        user = db.session.scalars(db.select(User).filter_by(email=email)).one()
        key = two_factor.start_setup(user).key
        codes = two_factor.confirm_setup(user, _code_of_previous_step(key))
        db.session.commit()
    return email, key, codes


def _code_of_previous_step(key: str) -> str:
    """A code that sets up the key without using the current step (which the test uses)."""
    return pyotp.TOTP(key).at(time.time() - 30)


def _password(page: Any, email: str) -> None:
    """The first step of signing in (by the fields' ids: the page may be in Chinese)."""
    page.goto("/login")
    # E-mail first, then the password.
    page.locator("#email").fill(email)
    page.locator("main button.button-primary").click()
    page.locator("#password").fill(PASSWORD)
    page.locator("main button.button-primary").click()


def _code(page: Any, code: str) -> None:
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Continue").click()


def _signed_in(page: Any) -> None:
    expect(page).to_have_url(re.compile(r"/my-learning$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My learning")


@pytest.fixture
def new_page(open_context: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    yield lambda **options: open_context(**{**DESKTOP, **options}).new_page()


def test_setting_up_from_the_account_page(new_page: Any, live_server: LiveServer) -> None:
    email = _new_learner(live_server)
    page = new_page()
    _password(page, email)
    _signed_in(page)
    page.goto("/account")
    section = page.locator("#two-factor-section")
    expect(section).to_contain_text("Off: you log in with your password alone.")
    section.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.locator("svg.qr-code")).to_be_visible()
    key = page.locator("#setup-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", key), key
    # A wrong code first: the form says so and nothing changes.
    right = pyotp.TOTP(key).now()
    _code_then_turn_on(page, str((int(right) + 1) % 1_000_000).zfill(6))
    expect(page.locator(".field-error")).to_contain_text("That code is not right.")
    _code_then_turn_on(page, f"{right[:3]} {right[3:]}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", c) for c in codes)
    assert page.locator("#recovery-codes-text").input_value().split() == codes
    download = page.get_by_role("link", name="Download as text")
    expect(download).to_have_attribute("download", "skillsup-recovery-codes.txt")
    page.get_by_role("link", name="I have saved them: back to my account").click()
    expect(page.locator("#two-factor-section")).to_contain_text("10 recovery codes left")
    with live_server.app_context():
        user = db.session.scalars(db.select(User).filter_by(email=email)).one()
        assert user.two_factor_enabled


def _code_then_turn_on(page: Any, code: str) -> None:
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()


def test_signing_in_with_a_code_and_a_replayed_code(new_page: Any, live_server: LiveServer) -> None:
    email, key, _codes = _enabled_learner(live_server)
    first, second = new_page(), new_page()
    for page in (first, second):
        _password(page, email)
        expect(page).to_have_url(re.compile(r"/login/two-factor$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    # Nothing else opens meanwhile.
    first.goto("/my-learning")
    expect(first).to_have_url(re.compile(r"/login\?next="))
    first.goto("/login/two-factor")
    wrong = str((int(pyotp.TOTP(key).now()) + 1) % 1_000_000).zfill(6)
    _code(first, wrong)
    expect(first.locator(".field-error")).to_contain_text("That code is not right.")
    code = pyotp.TOTP(key).now()
    _code(first, code)
    _signed_in(first)
    # The same code on another device: refused, as used already.
    _code(second, code)
    expect(second.locator(".field-error")).to_contain_text("That code has already been used.")
    expect(second).to_have_url(re.compile(r"/login/two-factor$"))


def test_signing_in_with_a_recovery_code_once(new_page: Any, live_server: LiveServer) -> None:
    email, _key, codes = _enabled_learner(live_server)
    page = new_page()
    _password(page, email)
    page.get_by_role("link", name="Use a recovery code instead").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Use a recovery code")
    page.get_by_label("Recovery code").fill(codes[0].upper())
    page.get_by_role("button", name="Continue").click()
    _signed_in(page)
    expect(page.locator(".flash")).to_contain_text("9 are left")
    again = new_page()
    _password(again, email)
    again.goto("/login/two-factor/recovery")
    again.get_by_label("Recovery code").fill(codes[0])
    again.get_by_role("button", name="Continue").click()
    expect(again.locator(".field-error")).to_contain_text(
        "That recovery code has already been used"
    )


# Screenshots ------------------------------------------------------------------------------------


def _shoot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("language", list(LOCALES))
def test_screenshots_of_the_new_pages(
    open_context: Callable[..., Any],
    live_server: LiveServer,
    screenshot_dir: Path,
    screen: str,
    language: str,
) -> None:
    options = {**SCREENS[screen], "locale": LOCALES[language]}
    tag = f"{language}-{screen}"
    folder = screenshot_dir / "two-factor"
    folder.mkdir(exist_ok=True)
    email, key, codes = _enabled_learner(live_server)
    page = open_context(**options).new_page()
    _password(page, email)
    expect(page).to_have_url(re.compile(r"/login/two-factor$"))
    page.locator("#code").fill("12")
    page.locator("main button.button-primary").click()
    expect(page.locator(".field-error")).to_be_visible()
    _shoot(page, folder, f"code-{tag}")
    page.goto("/login/two-factor/recovery")
    _shoot(page, folder, f"recovery-{tag}")
    page.goto("/login/two-factor")
    page.locator("#code").fill(pyotp.TOTP(key).now())
    page.locator("main button.button-primary").click()
    expect(page).to_have_url(re.compile(r"/my-learning$"))
    page.goto("/account#two-factor")
    _shoot(page, folder, f"account-on-{tag}")
    # Someone without it: the section offering it, the setup page, the codes shown once.
    other = open_context(**options).new_page()
    _password(other, _new_learner(live_server))
    expect(other).to_have_url(re.compile(r"/my-learning$"))
    other.goto("/account#two-factor")
    _shoot(other, folder, f"account-off-{tag}")
    other.goto("/account/two-factor/setup")
    expect(other.locator("svg.qr-code")).to_be_visible()
    _shoot(other, folder, f"setup-{tag}")
    new_key = other.locator("#setup-key").inner_text().replace(" ", "")
    other.locator("#code").fill(pyotp.TOTP(new_key).now())
    other.locator("main button.button-primary").click()
    expect(other.locator("#recovery-codes")).to_be_visible()
    _shoot(other, folder, f"recovery-codes-{tag}")
    # The admin's reset confirmation for the first learner.
    with live_server.app_context():
        user_id = db.session.scalars(db.select(User.id).filter_by(email=email)).one()
    admin = open_context(as_user="admin@skillsup.test", **options).new_page()
    admin.goto(f"/admin/users/{user_id}/two-factor/reset")
    expect(admin.locator("main form button[type=submit]")).to_be_visible()
    _shoot(admin, folder, f"admin-reset-{tag}")
    assert codes


def test_forced_setup_screenshot(
    open_context: Callable[..., Any], live_server: LiveServer, screenshot_dir: Path
) -> None:
    """The setup an HR officer meets at sign-in while the portal requires it (the setting is
    turned on for this test alone)."""
    folder = screenshot_dir / "two-factor"
    folder.mkdir(exist_ok=True)
    with live_server.app_context():
        hr = Factory().user(role="hr", name="Hana Required")
        email = hr.email
    live_server.app.config["REQUIRE_TWO_FACTOR"] = True
    try:
        for language, screen in itertools.product(LOCALES, SCREENS):
            page = open_context(**SCREENS[screen], locale=LOCALES[language]).new_page()
            _password(page, email)
            expect(page).to_have_url(re.compile(r"/login/two-factor/setup$"))
            expect(page.locator(".notice")).to_be_visible()
            _shoot(page, folder, f"forced-setup-{language}-{screen}")
        page.goto("/hr/")
        expect(page).to_have_url(re.compile(r"/login\?next="))
    finally:
        live_server.app.config["REQUIRE_TWO_FACTOR"] = False
