"""Fixtures for the browser tests: one live server and one Chromium for the whole run.

The live server is the real application, served on localhost by a thread against a fresh
SQLite database seeded with the demo data, with CSRF protection on (a real browser posts
real forms). Each test opens browser contexts of its own, which are closed after it.

Without Chromium at /usr/bin/chromium (or without the Python packages that drive it) every
test marked ``browser`` is skipped with a message saying how to install it; with
``SKILLSUP_REQUIRE_BROWSER=1`` a missing browser fails them instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import (
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    REQUIRE_BROWSER_VARIABLE,
    Browsing,
    LiveServer,
    browser_missing_reason,
    browser_required,
    serve_demo,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: runs in a real browser (Chromium) against a live server"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = browser_missing_reason()
    if reason is None or browser_required():
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="package")
def browser_available() -> None:
    """Fail (when required) or skip when Chromium or its Python driver is missing."""
    reason = browser_missing_reason()
    if reason is None:
        return
    if browser_required():
        pytest.fail(f"{reason} ({REQUIRE_BROWSER_VARIABLE}=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def live_server(
    browser_available: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    server = serve_demo(tmp_path_factory.mktemp("live-server") / "skillsup.sqlite3")
    yield server
    server.stop()


@pytest.fixture(scope="package")
def chromium(browser_available: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    browser = driver.chromium.launch(
        executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()
    driver.stop()


@pytest.fixture(scope="package")
def browsing(chromium: Any, live_server: LiveServer) -> Browsing:
    return Browsing(chromium, live_server)


@pytest.fixture
def open_context(browsing: Browsing, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """Open a browser context (a separate browser profile) on the live server.

    ``as_user`` starts it logged in as that account; ``locale`` sets the browser's language
    (Accept-Language); ``axe`` loads axe-core into every page it opens; other keywords go to
    Playwright (viewport, is_mobile, ...). After the test, a request that raised, a response
    of 500 or more, a failed load of a style sheet, script or image, a Content Security
    Policy violation or a JavaScript error in any of its pages fails the test.
    """
    contexts: list[Any] = []
    problems: list[str] = []
    errors_before = len(live_server.errors)

    def open_one(**options: Any) -> Any:
        context = browsing.new_context(problems, **options)
        contexts.append(context)
        return context

    yield open_one
    for context in contexts:
        context.close()
    server_errors = live_server.errors[errors_before:]
    assert not server_errors, "the server raised: " + "; ".join(server_errors)
    assert not problems, "the browser saw problems: " + "; ".join(problems)


@pytest.fixture
def open_page(open_context: Callable[..., Any]) -> Callable[..., Any]:
    """A new page in a new context: ``open_page(as_user=..., locale=..., **options)``."""

    def open_one(**options: Any) -> Any:
        return open_context(**options).new_page()

    return open_one


@pytest.fixture(scope="package")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")
