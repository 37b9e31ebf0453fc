"""The browser suite's own switches: skipped without Chromium, failed when it is required.

These run without a browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import conftest, support


def test_missing_browser_names_the_install_command(tmp_path: Path) -> None:
    reason = support.browser_missing_reason(str(tmp_path / "no-chromium-here"))
    assert reason is not None
    assert "apt-get install chromium fonts-noto-cjk" in reason


def test_a_file_that_cannot_run_is_no_browser(tmp_path: Path) -> None:
    not_executable = tmp_path / "chromium"
    not_executable.write_text("#!/bin/sh\n")
    assert support.browser_missing_reason(str(not_executable)) is not None


@pytest.mark.parametrize(
    ("value", "required"),
    [("1", True), ("true", True), ("yes", True), ("", False), ("0", False), ("no", False)],
)
def test_require_browser_variable(value: str, required: bool) -> None:
    assert support.browser_required({"SKILLSUP_REQUIRE_BROWSER": value}) is required


def test_not_required_when_unset() -> None:
    assert support.browser_required({}) is False


class _Item:
    """Just enough of a pytest item for the collection hook."""

    def __init__(self, browser: bool) -> None:
        self.browser = browser
        self.markers: list[Any] = []

    def get_closest_marker(self, name: str) -> Any:
        return object() if name == "browser" and self.browser else None

    def add_marker(self, marker: Any) -> None:
        self.markers.append(marker)


def _collect(monkeypatch: pytest.MonkeyPatch, *, missing: str | None, required: str) -> list[_Item]:
    monkeypatch.setattr(conftest, "browser_missing_reason", lambda: missing)
    monkeypatch.setenv("SKILLSUP_REQUIRE_BROWSER", required)
    items = [_Item(browser=True), _Item(browser=False)]
    conftest.pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]
    return items


def test_without_browser_the_browser_tests_are_skipped_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    browser_test, other_test = _collect(monkeypatch, missing="install it", required="")
    (marker,) = browser_test.markers
    assert marker.name == "skip"
    assert marker.kwargs["reason"] == "install it"
    assert other_test.markers == []


def test_when_required_a_missing_browser_is_not_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    browser_test, _ = _collect(monkeypatch, missing="install it", required="1")
    assert browser_test.markers == []


def test_when_required_the_browser_fixture_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "browser_missing_reason", lambda: "install it")
    monkeypatch.setenv("SKILLSUP_REQUIRE_BROWSER", "1")
    check = conftest.browser_available.__wrapped__  # type: ignore[attr-defined]
    with pytest.raises(pytest.fail.Exception, match="install it"):
        check()


def test_with_a_browser_nothing_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    browser_test, _ = _collect(monkeypatch, missing=None, required="")
    assert browser_test.markers == []


def test_when_not_required_the_browser_fixture_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "browser_missing_reason", lambda: "install it")
    monkeypatch.delenv("SKILLSUP_REQUIRE_BROWSER", raising=False)
    check = conftest.browser_available.__wrapped__  # type: ignore[attr-defined]
    with pytest.raises(pytest.skip.Exception, match="install it"):
        check()
