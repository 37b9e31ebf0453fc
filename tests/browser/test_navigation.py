"""The header: one row on a desktop screen, a folded menu on a phone that opens with the
keyboard and without JavaScript, in English and in Chinese, for the roles with most entries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from playwright.sync_api import expect  # noqa: E402

from . import scenes  # noqa: E402
from .support import ADMIN, HR_A, PHONE, LiveServer, focus_state, tab_until  # noqa: E402

# A browser and a live server: seconds, not milliseconds.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
#: The tallest a folded header may be on a 390 x 844 phone.
PHONE_HEADER_MAX = 80
#: Each account, a page of it and the menu entry that page marks, in each language.
PAGES = {
    ADMIN: ("/admin/courses", {"en": "Manage courses", "zh": "管理課程"}),
    HR_A: ("/hr/staff", {"en": "Staff", "zh": "員工"}),
}
MENU = {"en": "Menu", "zh": "選單"}

HEADER_ROWS = """() => {
  const header = document.querySelector('.site-header');
  const tops = new Set();
  const boxes = [];
  for (const el of header.querySelectorAll('.brand, .main-nav a, .header-tools a, '
      + '.header-tools button, .language-switch button')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0) {
      tops.add(Math.round(box.top + box.height / 2));
      boxes.push({text: el.textContent.trim(), left: box.left, right: box.right});
    }
  }
  // Items side by side in one row must not run into one another.
  boxes.sort((a, b) => a.left - b.left);
  const overlaps = [];
  for (let i = 1; i < boxes.length; i++) {
    if (boxes[i].left < boxes[i - 1].right - 0.5) overlaps.push([boxes[i - 1].text, boxes[i].text]);
  }
  return {height: header.getBoundingClientRect().height, centres: [...tops], overlaps};
}"""


@pytest.fixture
def language(request: pytest.FixtureRequest, live_server: LiveServer) -> Iterator[str]:
    """The accounts' saved language for the test, put back afterwards."""
    with live_server.app_context():
        saved = {email: scenes.preferred_language(email) for email in PAGES}
        for email in PAGES:
            scenes.set_preferred_language(email, "zh_Hant_HK" if request.param == "zh" else "en")
    yield request.param
    with live_server.app_context():
        for email, preference in saved.items():
            scenes.set_preferred_language(email, preference)


CASES = [
    pytest.param(email, lang, id=f"{email.split('@')[0]}-{lang}")
    for email in PAGES
    for lang in ("en", "zh")
]


@pytest.mark.parametrize(("email", "language"), CASES, indirect=["language"])
def test_desktop_header_is_one_row_with_the_section_marked(
    email: str, language: str, open_page: Callable[..., Any]
) -> None:
    path, current = PAGES[email]
    page = open_page(as_user=email, **DESKTOP)
    page.goto(path)
    expect(page.locator(".menu-button")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main" if language == "en" else "主選單")
    expect(nav.locator('[aria-current="page"]')).to_have_text(current[language])
    found = page.evaluate(HEADER_ROWS)
    spread = max(found["centres"]) - min(found["centres"])
    assert spread <= 4, f"the header is not one row: centres at {found['centres']}"
    assert found["height"] <= 64, f"the header is {found['height']}px tall"
    assert not found["overlaps"], f"header items run into each other: {found['overlaps']}"


@pytest.mark.parametrize(("email", "language"), CASES, indirect=["language"])
def test_phone_menu_is_folded_and_opens_with_the_keyboard(
    email: str, language: str, open_page: Callable[..., Any]
) -> None:
    path, current = PAGES[email]
    page = open_page(as_user=email, **PHONE)
    page.goto(path)
    height = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
    assert height <= PHONE_HEADER_MAX, f"the folded header is {height}px tall on a phone"
    expect(page.locator(".main-nav")).to_be_hidden()
    expect(page.locator("form.language-switch button")).to_be_visible()

    stops = tab_until(page, lambda s: s["tag"] == "summary")
    assert stops[-1]["text"] == MENU[language]
    assert stops[-1]["ringVisible"], "the Menu button shows no focus"
    page.keyboard.press("Enter")
    expect(page.locator(".main-nav")).to_be_visible()
    expect(page.locator('.main-nav [aria-current="page"]')).to_have_text(current[language])
    # The next stops are the menu's entries, then the account and log out.
    page.keyboard.press("Tab")
    state = focus_state(page)
    assert state is not None and state["tag"] == "a" and state["onScreen"]
    expect(page.locator(".header-tools button")).to_be_visible()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".main-nav")).to_be_hidden()


@pytest.mark.parametrize(("email", "language"), CASES, indirect=["language"])
def test_phone_menu_opens_without_javascript(
    email: str, language: str, open_page: Callable[..., Any]
) -> None:
    path, current = PAGES[email]
    page = open_page(as_user=email, java_script_enabled=False, **PHONE)
    page.goto(path)
    expect(page.locator(".main-nav")).to_be_hidden()
    page.get_by_text(MENU[language], exact=True).click()
    expect(page.locator(".main-nav")).to_be_visible()
    expect(page.locator('.main-nav [aria-current="page"]')).to_have_text(current[language])
    expect(page.locator(".header-tools button")).to_be_visible()
