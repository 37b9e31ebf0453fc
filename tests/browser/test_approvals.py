"""The HR approvals queue in a real browser, in English and Chinese: ticking every row with
the "select all" button (no JavaScript), and rejecting only after the confirmation page."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from skillsup.extensions import db
from skillsup.models import EnrolmentStatus
from skillsup.services import enrolment_requests

from . import scenes
from .support import (
    HR_B,
    LiveServer,
    axe_result,
    describe_violations,
    skip_without_playwright,
    start_axe,
)

skip_without_playwright()

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Where to keep this file's screenshots to look at (else the run's screenshot folder).
SHOTS_VARIABLE = "SKILLSUP_SCREENSHOTS"

#: The wording each language shows, and the browser's language for it.
WORDING = {
    "en": {
        "locale": "en-GB",
        "preference": "en",
        "select_all": "Select all on this page",
        "clear": "Clear the selection",
        "reject": "Reject the ticked requests…",
        "confirm_title": "Reject 1 request?",
        "told": "The learner is told by e-mail, with your reason.",
        "reason": "Reason for the rejection",
        "confirm_button": "Reject 1 request and e-mail the learner",
        "cancel": "Cancel",
        "approve": "Approve the ticked requests",
        "approved": "Approved: confirmed in the class.",
        "no_reason": "Give a reason for the rejection.",
        "rejected": "Rejected: the learner has been told by e-mail.",
        "outcomes": "What happened to each request",
    },
    "zh": {
        "locale": "zh-HK",
        "preference": "zh_Hant_HK",
        "select_all": "選取本頁所有申請",
        "clear": "清除所有選擇",
        "reject": "拒絕已選的申請…",
        "confirm_title": "拒絕1項申請？",
        "told": "學員會收到電郵通知，內附你填寫的原因。",
        "reason": "拒絕原因",
        "confirm_button": "拒絕1項申請並電郵通知學員",
        "cancel": "取消",
        "approve": "批准已選的申請",
        "approved": "已批准：已確認報名。",
        "no_reason": "請說明拒絕原因。",
        "rejected": "已拒絕：已電郵通知學員。",
        "outcomes": "各項申請的結果",
    },
}


def _requests_waiting(live_server: LiveServer, names: list[str]) -> list[tuple[str, str]]:
    """New learners of the HR officer's company, each with a request waiting for approval:
    their e-mail addresses and the class they asked for."""
    with live_server.app_context():
        learners = scenes.new_learners("LRFT", names)
        db.session.commit()
        waiting = []
        for learner in learners:
            offer = scenes.offer_for(learner.email)
            outcome = enrolment_requests.request_enrolment(
                learner, learner, scenes.course_class(offer.class_code)
            )
            assert outcome.status == EnrolmentStatus.PENDING
            waiting.append((learner.email, offer.class_code))
        db.session.commit()
    return waiting


@pytest.fixture(params=["en", "zh"])
def language(request: pytest.FixtureRequest, live_server: LiveServer) -> Iterator[str]:
    """The HR officer's language for the test (their account's choice wins over the
    browser's), given back afterwards."""
    with live_server.app_context():
        saved = scenes.preferred_language(HR_B)
        scenes.set_preferred_language(HR_B, WORDING[request.param]["preference"])
    try:
        yield request.param
    finally:
        with live_server.app_context():
            scenes.set_preferred_language(HR_B, saved)


def _check_accessibility(page: Any) -> None:
    page.wait_for_load_state("load")
    start_axe(page)
    violations = axe_result(page)
    assert not violations, f"{page.url}\n{describe_violations(violations)}"


def _shoot(page: Any, folder: Path, name: str) -> None:
    folder = Path(os.environ.get(SHOTS_VARIABLE) or folder)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_select_all_then_reject_one_request_after_confirming(
    language: str,
    live_server: LiveServer,
    open_context: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    words = WORDING[language]
    names = {
        "en": ["Queenie Ho Wai Man", "Raymond Yip Chun Kit"],
        "zh": ["Sandy Lam Hoi Ling", "Terence Fung Ka Lok"],
    }[language]
    (rejected_email, rejected_class), (kept_email, kept_class) = _requests_waiting(
        live_server, names
    )
    page = open_context(as_user=HR_B, locale=words["locale"], java_script_enabled=False).new_page()
    page.goto("/hr/approvals")
    queue = page.locator(".approvals-table tbody tr")
    boxes = page.locator(".approvals-table input[type=checkbox]")
    expect(boxes.first).to_be_visible()

    # "Select all" ticks every row, without JavaScript; "Clear" unticks them.
    with page.expect_navigation():
        page.get_by_role("button", name=words["select_all"]).click()
    count = boxes.count()
    assert count >= 2
    for index in range(count):
        expect(boxes.nth(index)).to_be_checked()
    _shoot(page, screenshot_dir, f"approvals-selected-{language}-desktop")
    page.get_by_role("button", name=words["clear"]).click()
    for index in range(count):
        expect(boxes.nth(index)).not_to_be_checked()

    # Rejecting one request shows what will happen first, and changes nothing yet.
    page.get_by_role("checkbox", name=names[0]).check()
    page.get_by_role("button", name=words["reject"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["confirm_title"])
    expect(page.locator(".confirmation")).to_contain_text(words["told"])
    expect(page.locator(".confirmation")).to_contain_text(names[0])
    expect(page.locator(".confirmation")).not_to_contain_text(names[1])
    _shoot(page, screenshot_dir, f"approvals-confirm-{language}-desktop")
    with live_server.app_context():
        assert scenes.enrolment_status(rejected_email, rejected_class) == EnrolmentStatus.PENDING

    # Without a reason the page comes back saying so, the same request still chosen.
    page.get_by_role("button", name=words["confirm_button"]).click()
    expect(page.locator(".field-error")).to_contain_text(words["no_reason"])
    expect(page.locator(".confirmation")).to_contain_text(names[0])

    page.get_by_label(words["reason"]).fill("Budget frozen this term")
    page.get_by_role("button", name=words["confirm_button"]).click()
    outcomes = page.locator(".decision-outcomes")
    expect(outcomes.get_by_role("heading", name=words["outcomes"])).to_be_visible()
    expect(outcomes.locator("tbody tr").filter(has_text=names[0])).to_contain_text(
        words["rejected"]
    )
    expect(queue.filter(has_text=names[0])).to_have_count(0)
    expect(queue.filter(has_text=names[1])).to_have_count(1)
    _shoot(page, screenshot_dir, f"approvals-outcome-{language}-desktop")
    with live_server.app_context():
        assert scenes.enrolment_status(rejected_email, rejected_class) == EnrolmentStatus.REJECTED
        assert scenes.enrolment_status(kept_email, kept_class) == EnrolmentStatus.PENDING


def test_the_queue_its_confirmation_and_outcomes_fit_a_phone(
    language: str,
    live_server: LiveServer,
    open_context: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    words = WORDING[language]
    name = {"en": "Vivian Chow Mei Ling", "zh": "Wilson Tang Chi Wai"}[language]
    _requests_waiting(live_server, [name])
    page = open_context(
        as_user=HR_B,
        locale=words["locale"],
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    ).new_page()

    def fits() -> None:
        # The page itself never scrolls sideways (measured once it and its style sheet have
        # loaded: a click that submits a form returns before the next page has).
        page.wait_for_load_state("load")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{page.url} is {width} px wide on a 390 px phone"

    page.goto("/hr/approvals")
    fits()
    _check_accessibility(page)
    _shoot(page, screenshot_dir, f"approvals-queue-{language}-phone")
    page.get_by_role("checkbox", name=name).check()
    page.get_by_role("button", name=words["reject"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["confirm_title"])
    fits()
    _check_accessibility(page)
    _shoot(page, screenshot_dir, f"approvals-confirm-{language}-phone")
    page.get_by_role("link", name=words["cancel"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/hr/approvals$"))

    page.get_by_role("checkbox", name=name).check()
    page.get_by_role("button", name=words["approve"]).click()
    outcomes = page.locator(".decision-outcomes")
    expect(outcomes.locator("tbody tr").filter(has_text=name)).to_contain_text(words["approved"])
    fits()
    _check_accessibility(page)
    _shoot(page, screenshot_dir, f"approvals-outcome-{language}-phone")
