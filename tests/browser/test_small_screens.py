"""On a phone, no main page scrolls sideways: wide tables scroll inside their own box.

The pages are surveyed once per module with a phone-sized screen (see test_accessibility);
each page is then a test of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from . import scenes  # noqa: E402
from .pages import PAGES, PageSpec, upload_csv  # noqa: E402
from .scenes import DemoPages  # noqa: E402
from .support import PHONE, PHONE_FIT, Browsing, Finding, LiveServer, survey  # noqa: E402

# A browser and a live server: seconds, not milliseconds.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Pages known not to fit a phone -> what is wrong and the fix (strict xfail); none now.
KNOWN_PROBLEMS: dict[str, str] = {}


def _cases() -> Iterator[Any]:
    for spec in PAGES:
        reason = KNOWN_PROBLEMS.get(spec.key)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(spec, id=spec.key, marks=marks)


def _visit(page: Any, spec: PageSpec, demo: DemoPages) -> None:
    response = page.goto(spec.url(demo))
    assert response is not None and response.ok, f"{spec.url(demo)} answered {response}"
    if spec.upload:
        upload_csv(page, demo, spec.upload)


@pytest.fixture(scope="module")
def findings(live_server: LiveServer, browsing: Browsing) -> dict[str, Finding]:
    with live_server.app_context():
        demo = scenes.demo_pages()
    return survey(
        browsing,
        [(spec.key, spec.account, spec) for spec in PAGES],
        lambda page, spec: _visit(page, spec, demo),
        lambda page, _spec: page.evaluate(PHONE_FIT),
        **PHONE,
    )


@pytest.mark.parametrize("spec", list(_cases()))
def test_page_fits_a_phone_screen(spec: PageSpec, findings: dict[str, Finding]) -> None:
    finding = findings[spec.key]
    assert finding.error is None, f"{spec.path}: {finding.error}"
    assert not finding.problems, f"{finding.url}: " + "; ".join(finding.problems)
    found = finding.result
    assert not found["escaping"], (
        f"{finding.url}: {found['escapingCount']} elements positioned inside a table's "
        f"scrolling box escape it, for example {', '.join(found['escaping'])}"
    )
    assert found["page"] <= found["screen"], (
        f"{finding.url} is {found['page']}px wide on a {found['screen']}px screen; "
        f"too wide: {found['wide']}"
    )
