"""The attendance page's "All present" in a real browser, with JavaScript and without: it marks
present only the learners with no mark yet, never a saved mark or one chosen but not saved."""

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
from .support import TRAINER, LiveServer, log_in  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Where a developer looking at the page can ask for its screenshots to be kept.
SHOTS = os.environ.get("SKILLSUP_SHOTS_DIR")


def _three_learners(live_server: LiveServer, prefix: str) -> tuple[str, list[str]]:
    with live_server.app_context():
        people = scenes.new_learners(
            "HVIT", [f"{prefix} Saved Absent", f"{prefix} Chosen Excused", f"{prefix} Blank"]
        )
        scene = scenes.running_class(people, title=f"{prefix} Attendance Workshop")
        names = [person.name for person in people]
    url = f"/trainer/classes/{scene.code}/sessions/{scene.session_id}/attendance"
    return url, names


def _mark(page: Any, name: str, status: str) -> Any:
    return page.locator("fieldset.attendance-mark").filter(has_text=name).get_by_label(status)


def _shoot(page: Any, folder: Path, name: str) -> None:
    target = Path(SHOTS) if SHOTS else folder
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)


def test_all_present_with_javascript_leaves_saved_and_chosen_marks_alone(
    live_server: LiveServer, open_context: Callable[..., Any], screenshot_dir: Path
) -> None:
    url, (saved, chosen, blank) = _three_learners(live_server, "Js")
    page = open_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, TRAINER)
    page.goto(url)
    _mark(page, saved, "Absent").check()
    page.get_by_role("button", name="Save attendance").click()
    expect(page.locator(".flashes")).to_contain_text("Attendance saved: 1 change.")

    _mark(page, chosen, "Excused").check()
    page.get_by_role("button", name="All present").click()
    # The script filled the form in place: no request, nothing saved yet.
    expect(page.locator("[data-all-present-status]")).to_contain_text(
        "1 learner not yet marked is marked present on the form"
    )
    expect(page.locator(".flashes")).to_contain_text("Attendance saved: 1 change.")
    expect(_mark(page, saved, "Absent")).to_be_checked()
    expect(_mark(page, chosen, "Excused")).to_be_checked()
    expect(_mark(page, blank, "Present")).to_be_checked()
    _shoot(page, screenshot_dir, "attendance-all-present-js-desktop")

    page.get_by_role("button", name="Save attendance").click()
    expect(page.locator(".flashes")).to_contain_text("Attendance saved: 2 changes.")
    expect(_mark(page, saved, "Absent")).to_be_checked()
    expect(_mark(page, chosen, "Excused")).to_be_checked()
    expect(_mark(page, blank, "Present")).to_be_checked()


def test_all_present_without_javascript_is_filled_in_by_the_server(
    live_server: LiveServer, open_context: Callable[..., Any], screenshot_dir: Path
) -> None:
    url, (saved, chosen, blank) = _three_learners(live_server, "NoJs")
    page = open_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}
    ).new_page()
    log_in(page, TRAINER)
    page.goto(url)
    _mark(page, saved, "Late").check()
    page.get_by_role("button", name="Save attendance").click()
    expect(page.locator(".flashes")).to_contain_text("Attendance saved: 1 change.")

    _mark(page, chosen, "Excused").check()
    page.get_by_role("button", name="All present").click()
    expect(page.locator("main")).to_contain_text(
        re.compile(r"1 learner not yet marked is marked present on the form")
    )
    expect(_mark(page, saved, "Late")).to_be_checked()
    expect(_mark(page, chosen, "Excused")).to_be_checked()
    expect(_mark(page, blank, "Present")).to_be_checked()
    _shoot(page, screenshot_dir, "attendance-all-present-nojs-phone")

    page.get_by_role("button", name="Save attendance").click()
    expect(page.locator(".flashes")).to_contain_text("Attendance saved: 2 changes.")
    expect(_mark(page, saved, "Late")).to_be_checked()
