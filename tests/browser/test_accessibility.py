"""axe-core on the main pages of every role, in English and in Chinese: nothing serious.

Chinese is chosen as a person would, with the language button in the header (which posts to
/language and, for a signed-in person, saves the preference; the survey puts it back).

The pages are surveyed once per module, a few at a time in separate browser processes so
that axe-core runs on several at once; each page and language is then a test of its own,
which reports what the survey found there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from playwright.sync_api import expect  # noqa: E402

from . import scenes  # noqa: E402
from .pages import PAGES, PageSpec, upload_csv  # noqa: E402
from .scenes import DemoPages  # noqa: E402
from .support import (  # noqa: E402
    Browsing,
    Finding,
    LiveServer,
    axe_result,
    describe_violations,
    start_axe,
    survey,
    switch_language,
)

# A browser and a live server: seconds, not milliseconds.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHINESE = "繁體中文"
HTML_LANG = {"en": "en", "zh": "zh-Hant-HK"}

#: Pages with a known serious problem: (page, language or "*") -> what is wrong and the fix.
KNOWN_PROBLEMS: dict[tuple[str, str], str] = {}


def _key(spec: PageSpec, language: str) -> str:
    return f"{spec.key}-{language}"


def _cases() -> Iterator[Any]:
    for spec in PAGES:
        for language in HTML_LANG:
            reason = KNOWN_PROBLEMS.get((spec.key, language)) or KNOWN_PROBLEMS.get((spec.key, "*"))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(spec, language, id=_key(spec, language), marks=marks)


def _open(page: Any, spec: PageSpec, language: str, demo: DemoPages) -> None:
    """Go to the page as its person would, in the language, and start axe-core on it."""
    response = page.goto(spec.url(demo))
    assert response is not None and response.ok, f"{spec.url(demo)} answered {response}"
    # Once an account has chosen Chinese, its pages come in Chinese without asking again.
    if language == "zh" and page.locator("html").get_attribute("lang") != HTML_LANG["zh"]:
        switch_language(page, CHINESE)
    if language == "zh":
        expect(page.locator("form.language-switch")).to_contain_text("English")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[language])
    if spec.upload:
        upload_csv(page, demo, spec.upload)
    start_axe(page)


@pytest.fixture(scope="module")
def findings(live_server: LiveServer, browsing: Browsing) -> dict[str, Finding]:
    with live_server.app_context():
        demo = scenes.demo_pages()
        accounts = {spec.account for spec in PAGES if spec.account}
        saved = {email: scenes.preferred_language(email) for email in accounts}
    found: dict[str, Finding] = {}
    try:
        # Every English page first: switching to Chinese saves the choice for the account.
        for language in HTML_LANG:
            found |= survey(
                browsing,
                [(_key(spec, language), spec.account, spec) for spec in PAGES],
                lambda page, spec, language=language: _open(page, spec, language, demo),
                lambda page, _spec: axe_result(page),
                axe=True,
            )
    finally:
        with live_server.app_context():
            for email, preference in saved.items():
                scenes.set_preferred_language(email, preference)
    return found


@pytest.mark.parametrize(("spec", "language"), list(_cases()))
def test_page_has_no_serious_accessibility_problem(
    spec: PageSpec, language: str, findings: dict[str, Finding]
) -> None:
    finding = findings[_key(spec, language)]
    assert finding.error is None, f"{spec.path} in {language}: {finding.error}"
    assert not finding.problems, f"{finding.url}: " + "; ".join(finding.problems)
    assert not finding.result, f"{finding.url}\n{describe_violations(finding.result)}"
