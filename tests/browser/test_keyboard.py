"""The keyboard alone: enrolling from a course page, and taking attendance.

Each Tab press must land on something that shows it has the focus (an outline or a shadow),
on screen, in the order of the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from playwright.sync_api import expect  # noqa: E402

from skillsup.models import AttendanceStatus, EnrolmentStatus  # noqa: E402

from . import scenes  # noqa: E402
from .support import (  # noqa: E402
    TRAINER,
    LiveServer,
    assert_focus_path,
    focus_state,
    log_in,
    tab_until,
)

# A browser and a live server: seconds, not milliseconds.
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_enrol_from_course_page_with_keyboard_only(
    live_server: LiveServer, open_page: Callable[..., Any]
) -> None:
    with live_server.app_context():
        (learner,) = scenes.new_learners("HVIT", ["Iris Tam Wing Sze"])
        email = learner.email
        offer = scenes.offer_for(email)
    page = open_page()
    log_in(page, email, scenes.SCENE_PASSWORD)
    page.goto(f"/courses/{offer.course_code}")

    stops = tab_until(
        page,
        lambda s: (
            s["tag"] == "button" and s["text"].startswith("Enrol") and offer.class_code in s["text"]
        ),
    )
    assert_focus_path(stops)
    assert stops[0]["text"] == "Skip to content", "the skip link is not the first stop"
    texts = [s["text"] for s in stops]
    assert "Course catalogue" in texts, "the breadcrumb was skipped"
    assert texts.index("Course catalogue") < len(texts) - 1
    assert stops[-1]["focusVisible"]

    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".flashes")).to_contain_text(f"You are confirmed in {offer.class_code}.")
    with live_server.app_context():
        assert scenes.enrolment_status(email, offer.class_code) == EnrolmentStatus.CONFIRMED


def test_mark_absent_and_save_with_keyboard_only(
    live_server: LiveServer, open_page: Callable[..., Any]
) -> None:
    with live_server.app_context():
        people = scenes.new_learners("LRFT", ["Aaron Au Ka Lok", "Bella Ng Pui Shan"])
        scene = scenes.running_class(people, title="Keyboard Navigation Clinic")
        absentee = people[1]
        absentee_mark = f"mark-{scene.learners[absentee.email]}"
    page = open_page(as_user=TRAINER)
    page.goto(f"/trainer/classes/{scene.code}/sessions/{scene.session_id}/attendance")
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)

    # A group of radio buttons is one stop: Tab reaches its first button, arrows move on.
    stops = tab_until(page, lambda s: s["name"] == absentee_mark)
    assert stops[-1]["value"] == AttendanceStatus.PRESENT.value
    other_groups = {s["name"] for s in stops if s["name"].startswith("mark-")} - {absentee_mark}
    assert len(other_groups) == 1, "each learner's marks should be one stop"
    for _ in range(2):
        page.keyboard.press("ArrowDown")
    state = focus_state(page)
    assert state is not None
    assert state["value"] == AttendanceStatus.ABSENT.value
    assert state["ringVisible"], "the focused mark shows no focus"
    expect(page.locator(f"input[name='{absentee_mark}'][value=absent]")).to_be_checked()

    stops += tab_until(page, lambda s: s["text"] == "Save attendance")
    assert_focus_path(stops)
    with page.expect_navigation():
        page.keyboard.press("Space")
    expect(page.locator(".flashes")).to_contain_text("Attendance saved: 1 change.")
    expect(page.locator(f"input[name='{absentee_mark}'][value=absent]")).to_be_checked()
    expect(page.locator("input[type=radio]:checked")).to_have_count(1)
