"""The interface's shared pieces: icons from the vendored sprite, status badges drawn by one
macro in one colour per meaning, a button hierarchy, and pages that load nothing from
elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import render_template_string
from flask_babel import force_locale

from skillsup.badges import STATUS_TONES, TONE_ICONS, status_tone
from skillsup.labels import LABELS
from skillsup.models import (
    ApiTokenState,
    ClassStatus,
    CompanyStatus,
    CourseStatus,
    EnrolmentStatus,
    FundingState,
    StaffStatus,
    WebhookDeliveryStatus,
)
from skillsup.web import CATALOGUE_ENTRY, MENUS

from .conftest import login

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
SPRITE = ROOT / "static" / "icons" / "lucide-sprite.svg"
STYLESHEET = ROOT / "static" / "css" / "skillsup.css"
UI_MACROS = TEMPLATES / "macros" / "ui.html"

#: Every enumeration whose values are shown as status badges.
BADGED_ENUMS = [
    EnrolmentStatus,
    ClassStatus,
    CourseStatus,
    CompanyStatus,
    StaffStatus,
    FundingState,
    WebhookDeliveryStatus,
    ApiTokenState,
]


def _templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def _sprite_icons() -> set[str]:
    return set(re.findall(r'<symbol id="([a-z0-9-]+)"', SPRITE.read_text()))


def test_the_sprite_comes_with_its_licence_and_how_to_refresh_it():
    readme = (SPRITE.parent / "README.md").read_text()
    assert "lucide-static" in readme
    assert re.search(r"\d+\.\d+\.\d+", readme)
    assert "tools/icon_sprite.py" in readme
    assert "ISC License" in (SPRITE.parent / "LICENSE").read_text()


def test_every_icon_a_template_names_is_in_the_sprite():
    icons = _sprite_icons()
    named: dict[str, str] = {}
    for path in _templates():
        for name in re.findall(r"""\bicon\(\s*["']([^"']+)["']""", path.read_text()):
            named[name] = str(path.relative_to(TEMPLATES))
    assert named, "no template names an icon"
    missing = {name: where for name, where in named.items() if name not in icons}
    assert missing == {}, "icons named but not in static/icons/lucide-sprite.svg"


def test_every_icon_the_code_names_is_in_the_sprite():
    icons = _sprite_icons()
    menu = [CATALOGUE_ENTRY, *(entry for entries in MENUS.values() for entry in entries)]
    assert {entry.icon for entry in menu} <= icons
    assert set(TONE_ICONS.values()) <= icons


def test_a_template_naming_an_unknown_icon_is_caught(tmp_path):
    """The check above reads names the way templates write them."""
    sample = '{{ icon("no-such-icon") }} {{ icon(\'download\', label=_("Download")) }}'
    assert re.findall(r"""\bicon\(\s*["']([^"']+)["']""", sample) == ["no-such-icon", "download"]
    assert "no-such-icon" not in _sprite_icons()


def test_the_icon_macro_hides_decoration_and_names_meaningful_icons(app):
    with app.test_request_context():
        decorative = render_template_string(
            '{% from "macros/ui.html" import icon %}{{ icon("download") }}'
        )
        named = render_template_string(
            '{% from "macros/ui.html" import icon %}{{ icon("printer", label="Print") }}'
        )
    assert 'aria-hidden="true"' in decorative
    assert 'href="/static/icons/lucide-sprite.svg#download"' in decorative
    assert 'role="img" aria-label="Print"' in named
    assert "aria-hidden" not in named


def test_badges_drawn_again_in_a_request_escape_as_the_first_time(app):
    from markupsafe import Markup

    from skillsup.badges import badge, icon

    with app.test_request_context():
        drawn = [badge("A & B", "ok"), badge(Markup("A &amp; B"), "ok"), badge("A & B", "ok")]
        assert all("<span>A &amp; B</span>" in str(one) for one in drawn)
        assert "<span><b>x</b></span>" in badge(Markup("<b>x</b>"), "ok")
        assert "<span>&lt;b&gt;x&lt;/b&gt;</span>" in badge("<b>x</b>", "ok")
        assert 'aria-label="&lt;Print&gt;"' in icon("printer", label="<Print>")
        assert 'aria-hidden="true"' in icon("printer")


def test_kept_badges_follow_the_words_kind_and_the_sprites_address(app):
    """The markup is kept for the process by what it is made of: a lazy translation stays
    markup as escaping treats it, text with the same letters is escaped, an unknown tone is
    refused, and an application served under a prefix names its own sprite."""
    from flask_babel import lazy_gettext

    from skillsup.badges import badge, icon

    with app.test_request_context():
        assert "<span>Tom's</span>" in badge(lazy_gettext("Tom's"), "ok")
        assert "<span>Tom&#39;s</span>" in badge("Tom's", "ok")
        with pytest.raises(KeyError):
            badge("A", "purple")
    with app.test_request_context(base_url="http://portal.test/learning/"):
        under_prefix = icon("download")
        assert 'href="/learning/static/icons/lucide-sprite.svg#download"' in under_prefix
        assert 'href="/learning/static/' in badge("A", "ok")
    with app.test_request_context():
        assert 'href="/static/icons/lucide-sprite.svg#download"' in icon("download")


def test_no_template_writes_badge_markup_by_hand():
    """Badges come from macros/ui.html (badge, status_badge) alone."""
    by_hand = [
        str(path.relative_to(TEMPLATES))
        for path in _templates()
        if path != UI_MACROS and re.search(r"""class=["'][^"']*\bbadge\b""", path.read_text())
    ]
    assert by_hand == []


@pytest.mark.parametrize("enum_class", BADGED_ENUMS, ids=lambda e: e.__name__)
def test_every_status_has_a_label_a_meaning_and_a_style(enum_class):
    css = STYLESHEET.read_text()
    for status in enum_class:
        assert status in LABELS, f"{status!r} has no label in skillsup/labels.py"
        tone = status_tone(status)
        assert tone in TONE_ICONS, f"{status!r} has the unknown meaning {tone!r}"
    for tone in TONE_ICONS:
        assert re.search(rf"\.badge-{tone} \{{[^}}]*color:[^}}]*background:", css), tone


def test_statuses_of_one_meaning_share_their_badge():
    assert set(STATUS_TONES) == set(BADGED_ENUMS)
    assert status_tone(EnrolmentStatus.CONFIRMED) == status_tone(CourseStatus.PUBLISHED) == "ok"
    assert status_tone(EnrolmentStatus.CANCELLED) == status_tone(ClassStatus.CANCELLED) == "bad"
    assert status_tone(StaffStatus.DEACTIVATED) == status_tone(CompanyStatus.INACTIVE) == "ended"


def test_a_status_badge_shows_the_label_in_the_readers_language(app):
    template = '{% from "macros/ui.html" import status_badge %}{{ status_badge(status) }}'
    with app.test_request_context():
        english = render_template_string(template, status=EnrolmentStatus.WAITLISTED)
        with force_locale("zh_Hant_HK"):
            chinese = render_template_string(template, status=EnrolmentStatus.WAITLISTED)
    assert re.fullmatch(
        r'<span class="badge badge-waiting"><svg [^>]*aria-hidden="true">.*</svg>'
        r"<span>On the waitlist</span></span>",
        english,
    )
    assert "<span>候補中</span>" in chinese
    assert 'class="badge badge-waiting"' in chinese


# Buttons -----------------------------------------------------------------------------------

#: A link or button whose words start with a verb that cannot be taken back.
DESTRUCTIVE = re.compile(
    r"<(?:a|button)\b(?P<attrs>[^>]*)>\s*(?:\{\{ icon\([^)]*\) \}\})?\{\{\s*_\(\"(?P<text>"
    r"(?:Withdraw|Remove|Revoke|Deactivate|Reject|Cancel the class)\b[^\"]*)"
)


def test_destructive_actions_are_danger_buttons():
    found = []
    for path in _templates():
        for match in DESTRUCTIVE.finditer(path.read_text()):
            found.append(match["text"])
            classes = re.search(r'class="([^"]*)"', match["attrs"])
            assert classes and "button-danger" in classes[1].split(), (
                f"{path.relative_to(TEMPLATES)}: {match['text']!r} is not a danger button"
            )
    assert len(found) >= 5


def test_a_form_has_at_most_one_primary_button():
    for path in _templates():
        for form in re.findall(r"<form\b.*?</form>", path.read_text(), re.S):
            assert form.count("button-primary") <= 1, f"{path.relative_to(TEMPLATES)}: {form[:80]}"


def test_the_buttons_have_a_primary_secondary_danger_and_small_style():
    css = STYLESHEET.read_text()
    for name in ("button-primary", "button-secondary", "button-danger", "button-small"):
        assert re.search(rf"\.{name} \{{", css), name


# Nothing from elsewhere -------------------------------------------------------------------

#: The attributes through which a page loads something: style sheets, scripts, images, icons.
RESOURCE = re.compile(
    r"<(?:link|script|img|use|source|iframe|embed|object)\b[^>]*?\b(?:href|src|data)=\"([^\"]*)\""
)


def _loads_from_elsewhere(page: str) -> list[str]:
    return [
        url
        for url in RESOURCE.findall(page)
        if not url.startswith(("/", "#")) or url.startswith("//")
    ]


def test_the_check_for_resources_from_elsewhere_finds_them():
    page = (
        '<link rel="stylesheet" href="https://cdn.example/x.css">'
        '<script src="//cdn.example/x.js"></script><img src="/static/img/logo.svg" alt="">'
        '<svg><use href="/static/icons/lucide-sprite.svg#clock"></use></svg>'
    )
    assert _loads_from_elsewhere(page) == ["https://cdn.example/x.css", "//cdn.example/x.js"]


def test_no_page_loads_anything_from_another_site(app, admin, hr_officer, learner, trainer):
    pages = {None: ["/", "/courses", "/login", "/register"]}
    pages.update(
        {
            admin: ["/admin/", "/admin/users", "/admin/classes", "/admin/courses"],
            hr_officer: ["/hr/", "/hr/staff", "/hr/approvals", "/hr/progress"],
            learner: ["/my-learning", "/account"],
            trainer: ["/trainer/"],
        }
    )
    checked = 0
    for user, paths in pages.items():
        client = app.test_client()
        if user is not None:
            login(client, user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            page = response.get_data(as_text=True)
            assert _loads_from_elsewhere(page) == [], path
            assert RESOURCE.search(page), path
            checked += 1
    assert checked == 15


def test_the_stylesheet_imports_nothing_from_elsewhere():
    css = STYLESHEET.read_text()
    assert "@import" not in css
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", css)
