"""How pages look in a real browser: tables that become cards on a phone, header rows that
stay in view on long tables, the sign-in sheet on paper, and buttons whose colours read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from playwright.sync_api import expect  # noqa: E402

from . import scenes  # noqa: E402
from .pages import upload_csv  # noqa: E402
from .scenes import DemoPages  # noqa: E402
from .support import ADMIN, HR_B, PHONE, TRAINER, LiveServer  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"viewport": {"width": 1280, "height": 800}}

#: What a card-shaped table looks like: for its first row, the display of the row and of its
#: header, and each value cell's label (drawn before it) beside its column's heading.
CARD_SHAPE = """(selector) => {
  const table = document.querySelector(selector);
  const head = table.querySelector('thead').getBoundingClientRect();
  const row = table.querySelector('tbody tr');
  const headings = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  const cells = [...row.querySelectorAll('td[data-label]')].map((td) => ({
    label: td.dataset.label,
    before: getComputedStyle(td, '::before').content,
  }));
  return {
    headWidth: head.width,
    rowDisplay: getComputedStyle(row).display,
    rowBorder: getComputedStyle(row).borderTopWidth,
    titleDisplay: getComputedStyle(row.querySelector('th')).display,
    headings,
    cells,
    pageWidth: document.documentElement.scrollWidth,
    screenWidth: window.innerWidth,
  };
}"""


@pytest.fixture(scope="module")
def demo(live_server: LiveServer) -> DemoPages:
    with live_server.app_context():
        return scenes.demo_pages()


@pytest.mark.parametrize(
    ("account", "path", "selector"),
    [
        (TRAINER, "/trainer/classes/{trainer_class_code}", "table.roster-table"),
        (HR_B, "/hr/staff", "table.staff-table"),
        (ADMIN, "/admin/users", "div.table-sticky table"),
    ],
    ids=["roster", "staff", "users"],
)
@pytest.mark.parametrize("locale", ["en-GB", "zh-HK"])
def test_a_table_reads_as_cards_on_a_phone(
    open_page: Callable[..., Any],
    demo: DemoPages,
    account: str,
    path: str,
    selector: str,
    locale: str,
) -> None:
    page = open_page(as_user=account, locale=locale, **PHONE)
    page.goto(path.format(**vars(demo)))
    shape = page.evaluate(CARD_SHAPE, selector)
    assert shape["pageWidth"] <= shape["screenWidth"], "the page scrolls sideways"
    assert shape["headWidth"] <= 1, "the heading row is still shown"
    assert shape["rowDisplay"] == "block"
    assert shape["rowBorder"] == "1px"
    assert shape["titleDisplay"] == "block"
    assert shape["cells"], "no cell has a label"
    for cell in shape["cells"]:
        assert cell["label"] in shape["headings"]
        assert cell["before"] == f'"{cell["label"]}"'


@pytest.mark.parametrize("kind", ["nominations", "staff"])
@pytest.mark.parametrize("locale", ["en-GB", "zh-HK"])
def test_an_import_preview_reads_as_cards_on_a_phone(
    open_page: Callable[..., Any], demo: DemoPages, kind: str, locale: str
) -> None:
    page = open_page(as_user=HR_B, locale=locale, **PHONE)
    page.goto("/hr/nominations/import" if kind == "nominations" else "/hr/staff/import")
    upload_csv(page, demo, kind)
    for heading in ("problems-heading", "rows-heading"):
        selector = f'table[aria-labelledby="{heading}"]'
        shape = page.evaluate(CARD_SHAPE, selector)
        assert shape["pageWidth"] <= shape["screenWidth"], "the page scrolls sideways"
        assert shape["rowDisplay"] == "block" and shape["titleDisplay"] == "block"
        assert shape["cells"] and all(c["before"] == f'"{c["label"]}"' for c in shape["cells"])
        # The card's title is the row's number, named: "Row 3".
        title = page.evaluate(
            "(s) => getComputedStyle(document.querySelector(s + ' tbody th'), '::before').content",
            selector,
        )
        assert title == f'"{shape["headings"][0]} "'


def test_a_table_is_a_table_on_a_wide_screen(open_page: Callable[..., Any], demo: DemoPages):
    page = open_page(as_user=TRAINER, **DESKTOP)
    page.goto("/trainer/classes/{trainer_class_code}".format(**vars(demo)))
    shape = page.evaluate(CARD_SHAPE, "table.roster-table")
    assert shape["headWidth"] > 600
    assert shape["rowDisplay"] == "table-row"
    assert not any(cell["before"] not in ("none", "normal") for cell in shape["cells"])


STICKY = """(wrapper) => {
  const box = document.querySelector(wrapper);
  const th = box.querySelector('thead th');
  const before = th.getBoundingClientRect().top - box.getBoundingClientRect().top;
  box.scrollTop = 600;
  const after = th.getBoundingClientRect().top - box.getBoundingClientRect().top;
  return {
    position: getComputedStyle(th).position,
    scrolled: box.scrollTop,
    before,
    after,
    background: getComputedStyle(th).backgroundColor,
  };
}"""


def test_a_long_tables_heading_row_stays_in_view(open_page: Callable[..., Any]) -> None:
    page = open_page(as_user=ADMIN, **DESKTOP)
    page.goto("/admin/users")
    page.locator("div.table-sticky").scroll_into_view_if_needed()
    found = page.evaluate(STICKY, "div.table-sticky")
    assert found["position"] == "sticky"
    assert found["scrolled"] > 0, "the table's box does not scroll"
    assert abs(found["after"] - found["before"]) <= 1, found
    # Opaque, so the rows scrolling under it do not show through.
    assert found["background"] not in ("rgba(0, 0, 0, 0)", "transparent")


def test_the_sign_in_sheet_prints_without_the_site_around_it(
    open_page: Callable[..., Any], demo: DemoPages
) -> None:
    page = open_page(as_user=TRAINER, **DESKTOP)
    page.goto(
        "/trainer/classes/{trainer_class_code}/sessions/{trainer_session_id}/sign-in".format(
            **vars(demo)
        )
    )
    print_button = page.get_by_role("button", name="Print this sheet")
    expect(print_button).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-footer")).to_be_hidden()
    expect(page.locator("form.language-switch")).to_be_hidden()
    expect(print_button).to_be_hidden()
    expect(page.get_by_role("link", name="Back to the roster")).to_be_hidden()
    expect(page.locator(".sign-in-facts")).to_be_visible()
    expect(page.locator("table.sign-in-table")).to_be_visible()
    found = page.evaluate(
        """() => {
          const cell = document.querySelector('.sign-in-table tbody td.signature-column');
          const style = getComputedStyle(cell);
          const facts = document.querySelector('.sign-in-facts').getBoundingClientRect();
          const table = document.querySelector('.sign-in-table').getBoundingClientRect();
          return {
            border: style.borderTopStyle + ' ' + style.borderTopColor,
            height: cell.getBoundingClientRect().height,
            headGroup: getComputedStyle(document.querySelector('.sign-in-table thead')).display,
            rowBreak: getComputedStyle(cell.parentElement).breakInside,
            color: getComputedStyle(document.querySelector('.sign-in-sheet')).color,
            factsAbove: facts.bottom <= table.top,
          };
        }"""
    )
    assert found["border"] == "solid rgb(0, 0, 0)"
    assert found["height"] >= 40, "too little room to sign"
    assert found["headGroup"] == "table-header-group"
    assert found["rowBreak"] == "avoid"
    assert found["color"] == "rgb(0, 0, 0)"
    assert found["factsAbove"]


def test_the_print_button_needs_javascript(open_page: Callable[..., Any], demo: DemoPages):
    page = open_page(as_user=TRAINER, java_script_enabled=False, **DESKTOP)
    page.goto(
        "/trainer/classes/{trainer_class_code}/sessions/{trainer_session_id}/sign-in".format(
            **vars(demo)
        )
    )
    expect(page.locator("table.sign-in-table")).to_be_visible()
    expect(page.locator("button[data-print]")).to_be_hidden()


CONTRAST = """async () => {
  const results = await axe.run(document, {runOnly: ['color-contrast']});
  return {
    violations: results.violations.flatMap((v) => v.nodes.map((n) => n.target.join(' '))),
    checked: results.passes.flatMap((p) => p.nodes.map((n) => n.target.join(' '))),
  };
}"""


@pytest.mark.parametrize(
    ("account", "path", "buttons"),
    [
        (HR_B, "/hr/approvals", [".button-primary", ".button-danger", ".button"]),
        (ADMIN, "/admin/users", [".button-primary", ".button-small.button-danger"]),
        (ADMIN, "/admin/classes/{admin_class_id}", [".button-danger", ".badge-ok"]),
    ],
    ids=["approvals", "users", "class"],
)
def test_buttons_and_badges_meet_the_contrast_minimum(
    open_page: Callable[..., Any], demo: DemoPages, account: str, path: str, buttons: list[str]
) -> None:
    page = open_page(as_user=account, axe=True, **DESKTOP)
    page.goto(path.format(**vars(demo)))
    for selector in buttons:
        expect(page.locator(selector).first).to_be_visible()
    found = page.evaluate(CONTRAST)
    assert found["violations"] == []
    assert any("button" in target or "badge" in target for target in found["checked"])
