"""The README's screenshots (docs/screenshots.py): what is taken, under which names, and that
the README shows every one of them. Taking them is tests/browser/test_screenshots.py."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from docs import screenshots
from docs.screenshots import LANGUAGES, PAGES, SCREENSHOTS, SIZES, plan

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: Each role's main page, and who is signed in to see it.
MAIN_PAGES = {
    "home": ("/", None),
    "catalogue": ("/courses", None),
    "learner": ("/my-learning", "learner@partner-a.test"),
    "hr": ("/hr/", "hr@partner-b.test"),
    "trainer": ("/trainer/", "trainer@skillsup.test"),
    "admin": ("/admin/", "admin@skillsup.test"),
}


def _readme_images() -> list[str]:
    return re.findall(r"""(?:src=["']|\]\()(docs/screenshots/[^"')\s]+)""", README.read_text())


def test_the_plan_covers_every_main_page_in_both_languages_at_both_sizes():
    shots = plan()
    assert {(s.page.key, s.language.key, s.size.key) for s in shots} == {
        (page, language, size)
        for page in MAIN_PAGES
        for language in ("en", "zh")
        for size in ("desktop", "phone")
    }
    assert len(shots) == len(MAIN_PAGES) * 2 * 2
    assert {page.key: (page.path, page.account) for page in PAGES} == MAIN_PAGES


def test_the_hr_officer_photographed_approves_requests():
    """Partner B's HR officer approves their staff's requests, so their page shows that part."""
    from skillsup.devdata.demo.people import COMPANIES

    (partner_b,) = [company for company in COMPANIES if company.domain == "partner-b.test"]
    assert partner_b.requires_approval


def test_names_are_stable_and_unique():
    names = [shot.filename for shot in plan()]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z]+-(en|zh)-(desktop|phone)\.png", name) for name in names)
    assert "learner-en-desktop.png" in names
    assert "admin-zh-phone.png" in names


def test_sizes_and_languages():
    desktop, phone = SIZES
    assert desktop.options["viewport"] == {"width": 1280, "height": 800}
    assert phone.options["viewport"] == {"width": 390, "height": 844}
    assert phone.options["is_mobile"]
    assert [(lang.button, lang.html_lang) for lang in LANGUAGES] == [
        ("English", "en"),
        ("繁體中文", "zh-Hant-HK"),
    ]


def test_a_subset_is_taken_by_naming_it():
    shots = plan(pages=["learner"], languages=["zh"])
    assert [shot.filename for shot in shots] == ["learner-zh-desktop.png", "learner-zh-phone.png"]
    assert plan(sizes=["phone"]) == [shot for shot in plan() if shot.size.key == "phone"]


def test_an_unknown_name_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown: tutor \(known: home, catalogue"):
        plan(pages=["tutor"])


def test_the_command_line_refuses_an_unknown_page(capsys):
    with pytest.raises(SystemExit):
        screenshots.main(["--page", "tutor"])
    assert "invalid choice: 'tutor'" in capsys.readouterr().err


def test_the_readme_shows_every_screenshot_and_only_existing_ones():
    referenced = _readme_images()
    expected = [f"docs/screenshots/{shot.filename}" for shot in plan()]
    assert sorted(referenced) == sorted(expected)
    missing = [name for name in referenced if not (ROOT / name).is_file()]
    assert not missing, f"the README shows pictures that are not there: {missing}"


def test_no_stray_pictures_are_kept():
    kept = sorted(path.name for path in SCREENSHOTS.glob("*.png"))
    assert kept == sorted(shot.filename for shot in plan())


def test_the_pictures_are_small():
    total = sum(path.stat().st_size for path in SCREENSHOTS.glob("*.png"))
    assert total < 4_000_000


def test_the_readme_says_how_to_retake_them():
    text = README.read_text()
    assert "make screenshots" in text
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^screenshots: .*installed-dev", makefile, re.MULTILINE)
    assert "python -m docs.screenshots" in makefile


def test_without_chromium_the_command_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(screenshots, "CHROMIUM_PATH", str(tmp_path / "chromium"))
    assert screenshots.main([]) == 1
    assert "apt-get install chromium fonts-noto-cjk" in capsys.readouterr().err


def test_uncompiled_translations_are_named(monkeypatch, tmp_path, capsys):
    folder = tmp_path / "zh_Hant_HK" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po_path = folder / "messages.po"
    po_path.write_text("")
    monkeypatch.setattr(screenshots, "TRANSLATIONS", tmp_path)
    monkeypatch.setattr(screenshots, "missing_browser", lambda: None)
    assert screenshots.stale_catalogues() == [po_path]
    assert screenshots.main([]) == 1
    assert "run `make translations` first" in capsys.readouterr().err

    mo_path = po_path.with_suffix(".mo")
    mo_path.write_bytes(b"")
    assert screenshots.stale_catalogues() == []
    os.utime(mo_path, (0, 0))
    assert screenshots.stale_catalogues() == [po_path]
