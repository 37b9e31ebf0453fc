"""Every message of the portal has a Traditional Chinese translation that keeps its placeholders.

The messages are extracted from the code and templates as they are now, so a new string
without a translation fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO_FILE = ROOT / "skillsup" / "translations" / "zh_Hant_HK" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%%")


def _extracted() -> set[str]:
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = dict(DEFAULT_KEYWORDS, _l=None, lazy_gettext=None)

    def wanted(path: str) -> bool:
        name = Path(path).name
        return not name.startswith(".") and name not in {"tests", "bench", "node_modules"}

    ids: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords, directory_filter=wanted
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


@pytest.fixture(scope="module")
def catalog():
    with open(PO_FILE, "rb") as po:
        return read_po(po, locale="zh_Hant_HK")


def _translation(message) -> str:
    return message.string if isinstance(message.string, str) else message.string[0]


def test_every_message_in_the_code_is_translated(catalog):
    missing = sorted(
        msgid
        for msgid in _extracted()
        if msgid and (catalog.get(msgid) is None or not _translation(catalog.get(msgid)).strip())
    )
    assert missing == [], f"{len(missing)} messages need a translation: {missing[:20]}"


def test_translations_keep_every_placeholder(catalog):
    problems = []
    for message in catalog:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[-1]
        wanted = sorted(PLACEHOLDER.findall(source))
        got = sorted(PLACEHOLDER.findall(_translation(message)))
        if _translation(message) and wanted != got:
            problems.append((source, _translation(message)))
    assert problems == []
    assert [error for _message, errors in catalog.check() for error in errors] == []


def test_chinese_pages_are_in_chinese(client):
    page = client.get("/login", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    assert "登入" in page
    assert "Log in" not in page
