"""`make screenshots` takes its pictures: two of them, into a folder of the test's own.

The script serves a demo of its own (its clock stopped) rather than the tests' live server,
in the tests' Chromium.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from PIL import Image  # noqa: E402

from docs.screenshots import plan, take  # noqa: E402

# A browser and a live server: seconds, not milliseconds.
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_script_writes_small_pictures_of_the_size_asked_in_the_language_asked(
    chromium: Any, tmp_path: Path
) -> None:
    shots = [
        *plan(pages=["learner"], languages=["en"], sizes=["desktop"]),
        *plan(pages=["learner"], languages=["zh"], sizes=["phone"]),
    ]
    taken = take(shots, tmp_path, chromium)

    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "learner-en-desktop.png",
        "learner-zh-phone.png",
    ]
    by_name = {item.path.name: item for item in taken}
    assert by_name["learner-en-desktop.png"].html_lang == "en"
    assert by_name["learner-zh-phone.png"].html_lang == "zh-Hant-HK"
    sizes = {}
    for item in taken:
        assert 5_000 < item.path.stat().st_size < 300_000, item.path.name
        with Image.open(item.path) as image:
            assert image.format == "PNG"
            sizes[item.path.name] = image.size
    assert sizes == {
        "learner-en-desktop.png": (1280, 800),
        # 390×844 CSS pixels, two device pixels to each.
        "learner-zh-phone.png": (780, 1688),
    }
