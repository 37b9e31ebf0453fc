"""Destructive actions ask first: a confirmation page that says what will happen, walked in a
real browser in English and in Chinese (withdrawal without JavaScript)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from playwright.sync_api import expect  # noqa: E402

from skillsup.models import ClassStatus, EnrolmentStatus  # noqa: E402

from . import scenes  # noqa: E402
from .support import ADMIN, HR_A, LiveServer  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOCALES = {"en": "en-GB", "zh": "zh-HK"}
PREFERRED = {"en": "en", "zh": "zh_Hant_HK"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}

#: What each page says, in each language.
WORDS = {
    "en": {
        "what": "What will happen",
        "withdraw": "Withdraw from {code}",
        "give_up": "You give up your place in {code}.",
        "seat": "the first of the 2 learners on the waitlist",
        "withdrawn": "You have withdrawn from {code}.",
        "cancel_link": "Cancel the class…",
        "cancel_button": "Cancel the class",
        "cancelled_learner": "1 confirmed learner loses their place",
        "revoke_link": "Revoke the certificate…",
        "revoke_button": "Revoke the certificate",
        "learner_told": "is told by e-mail, with your reason",
        "deactivate_link": "Deactivate…",
        "deactivate_button": "Deactivate {name}",
        "withdrawn_on_deactivation": "1 enrolment in a class that has not started is withdrawn",
    },
    "zh": {
        "what": "將會發生甚麼",
        "withdraw": "退出 {code}",
        "give_up": "你會放棄在 {code} 的學位。",
        "seat": "共 2 位候補",
        "withdrawn": "{code}",
        "cancel_link": "取消班別…",
        "cancel_button": "取消班別",
        "cancelled_learner": "1 位已確認的學員會失去學位",
        "revoke_link": "撤銷證書…",
        "revoke_button": "撤銷證書",
        "learner_told": "並附上你的理由",
        "deactivate_link": "停用…",
        "deactivate_button": "停用 {name}",
        "withdrawn_on_deactivation": "1 個未開課班別的報名會被撤回",
    },
}

SHOTS = (
    Path(os.environ.get("SKILLSUP_CONFIRM_SHOTS", ""))
    if os.environ.get("SKILLSUP_CONFIRM_SHOTS")
    else None
)


@contextmanager
def speaking(live_server: LiveServer, email: str, language: str) -> Iterator[None]:
    """``email``'s pages in ``language`` for the test, as they were afterwards."""
    with live_server.app_context():
        before = scenes.preferred_language(email)
        scenes.set_preferred_language(email, PREFERRED[language])
    try:
        yield
    finally:
        with live_server.app_context():
            scenes.set_preferred_language(email, before)


def sign_in(page: Any, email: str) -> None:
    """Log in through the form in whatever language it speaks (no JavaScript needed)."""
    page.goto("/login")
    page.locator("main [name=email]").fill(email)
    with page.expect_navigation():
        page.locator("main form [type=submit]").first.click()
    page.locator("main [name=password]").fill(scenes.SCENE_PASSWORD)
    with page.expect_navigation():
        page.locator("main form [type=submit]").first.click()


def confirmation_shown(page: Any, words: dict[str, str]) -> None:
    expect(page.get_by_role("heading", level=2, name=words["what"])).to_be_visible()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_learner_withdraws_through_the_confirmation_without_javascript(
    open_context: Callable[..., Any], live_server: LiveServer, language: str
) -> None:
    words = WORDS[language]
    with live_server.app_context():
        scene = scenes.full_class(
            scenes.user(HR_A).company.code, ["Chloe Wong", "Derek Lam", "Erin Yip"]
        )
        learner = scenes.user(scene.holder)
        learner.preferred_language = PREFERRED[language]
        scenes.db.session.commit()
    context = open_context(locale=LOCALES[language], java_script_enabled=False)
    page = context.new_page()
    sign_in(page, scene.holder)
    page.goto("/my-learning")
    page.get_by_role("link", name=words["withdraw"].format(code=scene.code)).click()

    confirmation_shown(page, words)
    main = page.locator("main")
    expect(main).to_contain_text(words["give_up"].format(code=scene.code))
    expect(main).to_contain_text(words["seat"])
    with live_server.app_context():
        assert scenes.enrolment_status(scene.holder, scene.code) == EnrolmentStatus.CONFIRMED
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size(DESKTOP["viewport"])
        page.screenshot(path=str(SHOTS / f"withdraw-desktop-{language}.png"), full_page=True)
        phone = open_context(locale=LOCALES[language], java_script_enabled=False, **PHONE)
        phone_page = phone.new_page()
        sign_in(phone_page, scene.holder)
        phone_page.goto(page.url)
        phone_page.screenshot(path=str(SHOTS / f"withdraw-phone-{language}.png"), full_page=True)

    page.get_by_role("button", name=words["withdraw"].format(code=scene.code)).click()
    expect(page.locator(".flashes")).to_contain_text(words["withdrawn"].format(code=scene.code))
    with live_server.app_context():
        assert scenes.enrolment_status(scene.holder, scene.code) == EnrolmentStatus.WITHDRAWN
        # As the page said: the seat went to the first in line.
        assert scenes.enrolment_status(scene.waiting[0], scene.code) == EnrolmentStatus.CONFIRMED


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_admin_cancels_a_class_through_the_confirmation(
    open_page: Callable[..., Any], live_server: LiveServer, language: str
) -> None:
    words = WORDS[language]
    with live_server.app_context():
        scene = scenes.full_class(scenes.user(HR_A).company.code, ["Fiona Chan", "George Ho"])
    with speaking(live_server, ADMIN, language):
        page = open_page(as_user=ADMIN, locale=LOCALES[language])
        page.goto(f"/admin/classes/{scene.id}")
        page.get_by_role("link", name=words["cancel_link"]).click()
        confirmation_shown(page, words)
        expect(page.locator("main")).to_contain_text(words["cancelled_learner"])
        with live_server.app_context():
            assert scenes.class_status(scene.id) == ClassStatus.OPEN
        page.locator("[name=cancel-reason]").fill("Too few learners")
        page.get_by_role("button", name=words["cancel_button"], exact=True).click()
        expect(page).to_have_url(f"{live_server.url}/admin/classes/{scene.id}")
        with live_server.app_context():
            assert scenes.class_status(scene.id) == ClassStatus.CANCELLED
            assert scenes.enrolment_status(scene.holder, scene.code) == EnrolmentStatus.CANCELLED


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_admin_revokes_a_certificate_through_the_confirmation(
    open_page: Callable[..., Any], live_server: LiveServer, language: str
) -> None:
    words = WORDS[language]
    with live_server.app_context():
        certificate_id, _serial, code = scenes.valid_certificate()
    with speaking(live_server, ADMIN, language):
        page = open_page(as_user=ADMIN, locale=LOCALES[language])
        page.goto(f"/verify/{code}")
        page.get_by_role("link", name=words["revoke_link"]).click()
        confirmation_shown(page, words)
        expect(page.locator("main")).to_contain_text(words["learner_told"])
        with live_server.app_context():
            assert not scenes.certificate_revoked(certificate_id)
        page.locator("[name=reason]").fill("Issued in error")
        page.get_by_role("button", name=words["revoke_button"], exact=True).click()
        expect(page).to_have_url(f"{live_server.url}/verify/{code}")
        with live_server.app_context():
            assert scenes.certificate_revoked(certificate_id)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_hr_deactivates_an_employee_through_the_confirmation(
    open_page: Callable[..., Any], live_server: LiveServer, language: str
) -> None:
    words = WORDS[language]
    with live_server.app_context():
        scene = scenes.full_class(scenes.user(HR_A).company.code, ["Hannah Li", "Ivan Mok"])
        holder = scenes.user(scene.holder)
        holder_id, name = holder.id, holder.name
    with speaking(live_server, HR_A, language):
        page = open_page(as_user=HR_A, locale=LOCALES[language])
        page.goto(f"/hr/staff/{holder_id}")
        page.get_by_role("link", name=words["deactivate_link"]).click()
        confirmation_shown(page, words)
        expect(page.locator("main")).to_contain_text(words["withdrawn_on_deactivation"])
        with live_server.app_context():
            assert scenes.is_active(scene.holder)
        page.locator("[name=reason]").fill("Left the company")
        page.get_by_role("button", name=words["deactivate_button"].format(name=name)).click()
        expect(page).to_have_url(f"{live_server.url}/hr/staff/{holder_id}")
        with live_server.app_context():
            assert not scenes.is_active(scene.holder)
            assert scenes.enrolment_status(scene.holder, scene.code) == EnrolmentStatus.WITHDRAWN
            assert (
                scenes.enrolment_status(scene.waiting[0], scene.code) == EnrolmentStatus.CONFIRMED
            )
