"""On a phone, without JavaScript, a visitor finds a course from the front page: by its search
box, by a skill area, or by one of the classes with open seats; in English and in Chinese."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from playwright.sync_api import expect  # noqa: E402

from .support import PHONE, PHONE_FIT  # noqa: E402

# A browser and a live server: seconds, not milliseconds.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORDING = {
    "en-GB": {
        "search": "Search courses",
        "button": "Search",
        "classes": "Next classes with open seats",
    },
    "zh-HK": {"search": "搜尋課程", "button": "搜尋", "classes": "即將開課、尚有名額的班別"},
}


@pytest.mark.parametrize("locale", ["en-GB", "zh-HK"])
def test_a_visitor_on_a_phone_finds_a_course_from_the_front_page(
    open_page: Callable[..., Any], locale: str
) -> None:
    words = WORDING[locale]
    page = open_page(locale=locale, java_script_enabled=False, **PHONE)
    page.goto("/")
    fit = page.evaluate(PHONE_FIT)
    assert fit["page"] <= fit["screen"], fit

    # The search box sends the words to the catalogue's own search.
    page.get_by_role("searchbox", name=words["search"]).fill("cloud")
    page.get_by_role("button", name=words["button"], exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/courses\?q=cloud$"))
    expect(page.locator(".course-card").first).to_be_visible()

    # A skill area leads to the catalogue filtered by it, with as many courses as it said.
    page.goto("/")
    area = page.locator(".skill-areas a").first
    count = int(re.search(r"\d+", area.locator(".skill-area-count").inner_text()).group())
    area.click()
    expect(page).to_have_url(re.compile(r"/courses\?skill_area=\w+$"))
    expect(page.locator(".course-card")).to_have_count(min(count, 12))

    # A class with open seats leads to its course's page, which offers that class.
    page.goto("/")
    expect(page.get_by_role("heading", name=words["classes"])).to_be_visible()
    card = page.locator(".open-classes .course-card").first
    code = re.search(r"SU-[A-Z]+-\d+-\d+", card.locator(".course-code").inner_text()).group()
    card.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/courses/SU-[A-Z]+-\d+$"))
    expect(page.get_by_role("heading", name=code)).to_be_visible()
