"""A course's page tells a learner, before any click, why they cannot enrol in a class.

One learner, one course: every class of it is refused for a reason of its own (a timetable
clash naming the learner's class, the company's quota used up, enrolment not open yet), and
all of them for a prerequisite the learner has not completed, linked to its page, where a
class they may enrol in offers its one button. In English and in Chinese, with JavaScript and
without, and on a phone without anything wider than the screen.
"""

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

from . import scenes  # noqa: E402
from .scenes import BlockedCourse  # noqa: E402
from .support import PHONE, PHONE_FIT, Browsing, LiveServer  # noqa: E402

# A browser and a live server: seconds, not milliseconds.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Where to keep the screenshots, if not in the run's temporary folder.
SHOTS_VARIABLE = "SKILLSUP_SCREENSHOTS"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
LOCALES = {"en": "en-GB", "zh": "zh-HK"}


def wording(language: str, scene: BlockedCourse) -> dict[str, str]:
    """What the page says, in ``language``, about the scene's classes."""
    if language == "en":
        return {
            "lead": "You cannot enrol in this class:",
            "prerequisite": "Complete this course first:",
            "prerequisite_link": f"{scene.prerequisite_code} {scene.prerequisite_title}",
            "prerequisite_title": scene.prerequisite_title,
            "clash": f"Its sessions clash with your class {scene.own_class}.",
            "quota": f"Your company has used its quota of 1 seat for {scene.quota_label}.",
            "later": "Enrolment opens on 12 Jan 2030 at 09:00.",
            "enrol": f"Enrol {scene.open_class}",
        }
    return {
        "lead": "你未能報讀本班，原因如下：",
        "prerequisite": "請先完成以下課程：",
        "prerequisite_link": f"{scene.prerequisite_code} {scene.prerequisite_title_zh}",
        "prerequisite_title": scene.prerequisite_title_zh,
        "clash": f"此班別的課堂時間與你的班別{scene.own_class}衝突。",
        "quota": f"你的公司已用盡{scene.quota_label}配額的全部1個名額。",
        "later": "報名將於2030年1月12日 09:00開始。",
        "enrol": f"報名 {scene.open_class}",
    }


@pytest.fixture(scope="module")
def scene(live_server: LiveServer) -> BlockedCourse:
    with live_server.app_context():
        return scenes.blocked_course()


@pytest.fixture(scope="module")
def signed_in(browsing: Browsing, scene: BlockedCourse) -> dict[str, Any]:
    return browsing.signed_in_state(scene.learner, scenes.SCENE_PASSWORD)


def offer(page: Any, class_code: str) -> Any:
    """The part of the course page about one class."""
    heading = page.get_by_role("heading", name=class_code, exact=True)
    return page.locator("li.class-offer").filter(has=heading)


def shoot(page: Any, folder: Path, name: str) -> None:
    folder = Path(os.environ.get(SHOTS_VARIABLE) or folder)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("language", "javascript"),
    [("en", True), ("zh", True), ("en", False), ("zh", False)],
    ids=["english", "chinese", "english-without-javascript", "chinese-without-javascript"],
)
def test_the_course_page_tells_each_reason_and_offers_only_what_works(
    language: str,
    javascript: bool,
    scene: BlockedCourse,
    signed_in: dict[str, Any],
    open_context: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    words = wording(language, scene)
    page = open_context(
        storage_state=signed_in,
        locale=LOCALES[language],
        java_script_enabled=javascript,
        **DESKTOP,
    ).new_page()
    page.goto(f"/courses/{scene.course_code}")

    reasons = {
        scene.clash_class: words["clash"],
        scene.quota_class: words["quota"],
        scene.later_class: words["later"],
    }
    for class_code, reason in reasons.items():
        blocked = offer(page, class_code)
        expect(blocked).to_have_count(1)
        # Its reasons are a list named by the lead sentence, for a screen reader.
        why = blocked.get_by_role("list", name=words["lead"])
        expect(why).to_contain_text(words["prerequisite"])
        expect(why).to_contain_text(words["prerequisite_link"])
        expect(why).to_contain_text(reason)
        for other in reasons.values():
            if other != reason:
                expect(why).not_to_contain_text(other)
        expect(blocked.get_by_role("button")).to_have_count(0)
        expect(blocked.locator("form")).to_have_count(0)
    expect(page.locator("main").get_by_role("button")).to_have_count(0)
    if javascript:
        shoot(page, screenshot_dir, f"course-page-blocked-{language}-desktop")

    # The missing course's link leads to its page, where the learner may enrol.
    with page.expect_navigation():
        offer(page, scene.clash_class).get_by_role(
            "link", name=words["prerequisite_link"], exact=True
        ).click()
    expect(page).to_have_url(re.compile(rf"/courses/{re.escape(scene.prerequisite_code)}$"))
    expect(page.locator("h1")).to_have_text(words["prerequisite_title"])
    working = offer(page, scene.open_class)
    expect(working.get_by_role("button")).to_have_count(1)
    expect(working.get_by_role("button", name=words["enrol"], exact=True)).to_be_visible()
    expect(working).not_to_contain_text(words["lead"])
    if javascript:
        shoot(page, screenshot_dir, f"course-page-prerequisite-{language}-desktop")


@pytest.mark.parametrize("language", ["en", "zh"], ids=["english", "chinese"])
def test_the_reasons_fit_a_phone_screen(
    language: str,
    scene: BlockedCourse,
    signed_in: dict[str, Any],
    open_context: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    words = wording(language, scene)
    page = open_context(storage_state=signed_in, locale=LOCALES[language], **PHONE).new_page()
    page.goto(f"/courses/{scene.course_code}")
    expect(offer(page, scene.quota_class)).to_contain_text(words["quota"])
    found = page.evaluate(PHONE_FIT)
    assert found["page"] <= found["screen"], (
        f"{page.url} is {found['page']}px wide on a {found['screen']}px screen; "
        f"too wide: {found['wide']}"
    )
    shoot(page, screenshot_dir, f"course-page-blocked-{language}-phone")
