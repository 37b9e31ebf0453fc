"""Chinese pages: chosen by the browser's language, and drawn with real glyphs, not boxes.

Without a CJK font (Debian's fonts-noto-cjk) Chromium draws every Chinese character as the
same empty box ("tofu"), which neither the page's text nor axe-core would notice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from playwright.sync_api import expect  # noqa: E402

# A browser and a live server: seconds, not milliseconds.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE_ZH = "雲端運算基礎"  # SU-CLD-101 in the demo catalogue
MIN_SCREENSHOT_BYTES = 20_000

# Draws each character on a canvas in the heading's own font and returns the pixels of each.
GLYPH_PIXELS = """(characters) => {
  const family = getComputedStyle(document.querySelector('h1')).fontFamily;
  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 64;
  const context = canvas.getContext('2d', {willReadFrequently: true});
  context.font = `48px ${family}`;
  return characters.map((character) => {
    context.clearRect(0, 0, 64, 64);
    context.fillText(character, 4, 52);
    const data = context.getImageData(0, 0, 64, 64).data;
    let ink = 0;
    let digest = 0;
    for (let i = 3; i < data.length; i += 4) {
      ink += data[i] > 0 ? 1 : 0;
      digest = (digest * 31 + data[i]) % 1000000007;
    }
    return {character, ink, digest};
  });
}"""


def _platform_fonts(page: Any, selector: str) -> list[dict[str, Any]]:
    """The fonts Chromium really used to draw an element's text (DevTools protocol)."""
    session = page.context.new_cdp_session(page)
    try:
        session.send("DOM.enable")
        session.send("CSS.enable")
        root = session.send("DOM.getDocument")["root"]["nodeId"]
        node = session.send("DOM.querySelector", {"nodeId": root, "selector": selector})
        return session.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]  # type: ignore[no-any-return]
    finally:
        session.detach()


def test_chinese_course_page_renders_chinese_glyphs(
    open_page: Callable[..., Any], screenshot_dir: Path
) -> None:
    page = open_page(locale="zh-HK")
    page.goto("/courses/SU-CLD-101")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant-HK")
    expect(page.locator("h1")).to_have_text(TITLE_ZH)

    fonts = _platform_fonts(page, "h1")
    cjk = [f for f in fonts if "CJK" in f["familyName"]]
    assert cjk, f"the Chinese title is drawn without a CJK font: {fonts}"
    assert sum(f["glyphCount"] for f in cjk) >= len(TITLE_ZH)

    glyphs = page.evaluate(GLYPH_PIXELS, list(TITLE_ZH[:4]))
    assert all(g["ink"] > 50 for g in glyphs), f"some characters draw nothing: {glyphs}"
    digests = {g["digest"] for g in glyphs}
    assert len(digests) == len(glyphs), f"different characters draw the same box: {glyphs}"

    path = screenshot_dir / "chinese-course-page.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > MIN_SCREENSHOT_BYTES
