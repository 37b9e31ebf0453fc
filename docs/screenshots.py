"""``make screenshots``: the README's pictures of the portal, taken in Debian's Chromium.

A fresh copy of the portal is served on a free local port over a temporary SQLite database
seeded with the demo data, with its clock stopped at :data:`MOMENT` so that the same code
draws the same pictures on any day. Each role's main page (and the public front page and
catalogue) is photographed in English and Traditional Chinese, at a desktop's and a phone's
size, into ``docs/screenshots/<page>-<language>-<size>.png``. The language is chosen with the
header's language button, as a person would (a signed-in person's choice is saved as their
preference).

Run as ``python -m docs.screenshots`` from the project folder; ``--help`` lists the options
that take a subset (``--page learner --language zh --size phone``) or write elsewhere.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from skillsup.timeutil import HONG_KONG
from tests.browser.support import (
    ADMIN,
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    HR_B,
    INSTALL_HINT,
    LEARNER_A,
    PHONE,
    TRAINER,
    Browsing,
    serve_demo,
    switch_language,
)

#: Where the README's pictures live.
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

TRANSLATIONS = Path(__file__).resolve().parent.parent / "skillsup" / "translations"

#: The portal's clock while the pictures are taken: a Tuesday morning in term time, Hong Kong.
#: The demo's history and timetable are laid out around it, so every date on the pages follows.
MOMENT = datetime(2026, 3, 10, 10, 0, tzinfo=HONG_KONG)

#: The server's clock stands still in the past while the browser's does not: its sessions
#: must outlast the gap, or the browser would drop the login cookie as expired on arrival.
SERVER_CONFIG: dict[str, Any] = {"PERMANENT_SESSION_LIFETIME": timedelta(days=3650)}


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    path: str
    account: str | None = None


@dataclass(frozen=True)
class Language:
    key: str
    title: str
    #: The label of the header's button that switches to it.
    button: str
    #: The page's ``<html lang>`` in it.
    html_lang: str


@dataclass(frozen=True)
class Size:
    key: str
    title: str
    #: Playwright's options of a browser context.
    options: dict[str, Any] = field(hash=False)
    #: The picture is the top of the page, at most this many CSS pixels tall.
    max_height: int = 0


#: In the order they are taken: the admin's first, so that their page's recent changes show
#: the demo's history rather than the other accounts signing in for their pictures.
PAGES = (
    Page("home", "The front page", "/"),
    Page("catalogue", "The course catalogue", "/courses"),
    Page("admin", "An admin's programme overview", "/admin/", ADMIN),
    Page("trainer", "A trainer's classes", "/trainer/", TRAINER),
    Page("hr", "An HR officer's company dashboard", "/hr/", HR_B),
    Page("learner", "A learner's My learning", "/my-learning", LEARNER_A),
)
LANGUAGES = (
    Language("en", "English", "English", "en"),
    Language("zh", "Traditional Chinese", "繁體中文", "zh-Hant-HK"),
)
SIZES = (
    Size(
        "desktop",
        "desktop (1280×800)",
        {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1},
        max_height=800,
    ),
    Size("phone", "phone (390×844)", dict(PHONE), max_height=844),
)


_Item = TypeVar("_Item", Page, Language, Size)


@dataclass(frozen=True)
class Shot:
    page: Page
    language: Language
    size: Size

    @property
    def filename(self) -> str:
        return f"{self.page.key}-{self.language.key}-{self.size.key}.png"


@dataclass(frozen=True)
class Taken:
    shot: Shot
    path: Path
    #: The page's ``<html lang>`` when it was photographed.
    html_lang: str


def plan(
    pages: Iterable[str] = (), languages: Iterable[str] = (), sizes: Iterable[str] = ()
) -> list[Shot]:
    """Every shot, or those of the pages, languages and sizes named (each empty: all)."""
    chosen_pages = _chosen(PAGES, pages)
    chosen_languages = _chosen(LANGUAGES, languages)
    chosen_sizes = _chosen(SIZES, sizes)
    return [
        Shot(page, language, size)
        for page in chosen_pages
        for language in chosen_languages
        for size in chosen_sizes
    ]


def _chosen(known: Sequence[_Item], names: Iterable[str]) -> list[_Item]:
    wanted = set(names)
    unknown = wanted - {item.key for item in known}
    if unknown:
        raise ValueError(
            f"unknown: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(item.key for item in known)})"
        )
    return [item for item in known if not wanted or item.key in wanted]


def missing_browser() -> str | None:
    """Why no picture can be taken here, or ``None``."""
    if not Path(CHROMIUM_PATH).is_file():
        return f"Chromium is not installed at {CHROMIUM_PATH}: install it with `{INSTALL_HINT}`"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is missing: install the development tools (`make install-dev`)"
    return None


def stale_catalogues() -> list[Path]:
    """The translation catalogues whose compiled form is missing or older than they are: the
    pictures would show English where Chinese belongs."""
    stale = []
    for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            stale.append(po_path)
    return stale


def take(shots: Sequence[Shot], folder: Path, browser: Any = None) -> list[Taken]:
    """Serve the demo at :data:`MOMENT` and write each shot's PNG into ``folder``.

    ``browser`` is a Chromium that Playwright already drives (one process has one Playwright
    at a time); without it, one is started for the pictures and closed after them."""
    import time_machine
    from playwright.sync_api import sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="skillsup-screenshots-") as scratch,
        time_machine.travel(MOMENT, tick=False),
    ):
        server = serve_demo(Path(scratch) / "skillsup.sqlite3", SERVER_CONFIG, MOMENT.date())
        try:
            if browser is not None:
                return _take_all(Browsing(browser, server), shots, folder)
            with sync_playwright() as driver:
                launched = driver.chromium.launch(
                    executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True
                )
                try:
                    return _take_all(Browsing(launched, server), shots, folder)
                finally:
                    launched.close()
        finally:
            server.stop()


def _take_all(browsing: Browsing, shots: Sequence[Shot], folder: Path) -> list[Taken]:
    taken: list[Taken] = []
    errors = browsing.server.errors
    for (page_spec, size), group in _by_context(shots).items():
        problems: list[str] = []
        errors_before = len(errors)
        context = browsing.new_context(problems, as_user=page_spec.account, **size.options)
        try:
            page = context.new_page()
            for shot in group:
                taken.append(_photograph(page, shot, folder))
        finally:
            context.close()
        problems.extend(f"the server raised: {error}" for error in errors[errors_before:])
        if problems:
            raise RuntimeError(f"{page_spec.path}: " + "; ".join(problems))
    return taken


def _by_context(shots: Sequence[Shot]) -> dict[tuple[Page, Size], list[Shot]]:
    """The shots of one page at one size share a browser context (one login)."""
    groups: dict[tuple[Page, Size], list[Shot]] = {}
    for shot in shots:
        groups.setdefault((shot.page, shot.size), []).append(shot)
    return groups


def _photograph(page: Any, shot: Shot, folder: Path) -> Taken:
    response = page.goto(shot.page.path)
    if response is None or not response.ok:
        raise RuntimeError(f"{shot.page.path} answered {response and response.status}")
    if page.evaluate("document.documentElement.lang") != shot.language.html_lang:
        switch_language(page, shot.language.button)
        page.mouse.move(0, 0)
    # Always a second time: a context's first page can differ from later ones by a few
    # pixels of text, which would change the picture with every run.
    page.goto(shot.page.path)
    html_lang = page.evaluate("document.documentElement.lang")
    if html_lang != shot.language.html_lang:
        raise RuntimeError(f"{shot.page.path} is in {html_lang!r}, not {shot.language.title}")
    page.evaluate("document.fonts.ready")
    width = page.viewport_size["width"]
    height = min(page.evaluate("document.documentElement.scrollHeight"), shot.size.max_height)
    path = folder / shot.filename
    page.screenshot(
        path=str(path),
        full_page=True,
        clip={"x": 0, "y": 0, "width": width, "height": height},
        animations="disabled",
        caret="hide",
    )
    optimise(path)
    return Taken(shot, path, html_lang)


def optimise(path: Path) -> None:
    """Make the PNG smaller: 256 colours (a page's flat colours and anti-aliased text keep
    well), then a lossless squeeze by ``oxipng`` or ``optipng`` where one is installed."""
    from PIL import Image

    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    reduced.save(path, optimize=True)
    for command in (["oxipng", "-q", "-o", "4", "--strip", "safe"], ["optipng", "-quiet", "-o2"]):
        if shutil.which(command[0]):
            subprocess.run([*command, str(path)], check=True)  # noqa: S603
            break


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docs.screenshots", description=__doc__)
    parser.add_argument("--page", action="append", default=[], choices=[p.key for p in PAGES])
    parser.add_argument(
        "--language", action="append", default=[], choices=[lang.key for lang in LANGUAGES]
    )
    parser.add_argument("--size", action="append", default=[], choices=[s.key for s in SIZES])
    parser.add_argument("--out", type=Path, default=SCREENSHOTS, help="default: %(default)s")
    options = parser.parse_args(argv)
    reason = missing_browser()
    if reason is not None:
        sys.stderr.write(f"make screenshots: {reason}\n")
        return 1
    stale = stale_catalogues()
    if stale:
        sys.stderr.write(
            f"make screenshots: {stale[0]} is not compiled: run `make translations` first\n"
        )
        return 1
    shots = plan(options.page, options.language, options.size)
    taken = take(shots, options.out)
    total = sum(item.path.stat().st_size for item in taken)
    for item in taken:
        sys.stdout.write(f"{item.path} ({item.path.stat().st_size // 1024} KB)\n")
    sys.stdout.write(f"{len(taken)} screenshots, {total / 1_000_000:.1f} MB\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
