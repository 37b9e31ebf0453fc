"""The Chinese interface is Traditional Chinese as written in Hong Kong, everywhere.

A character is Simplified-only when OpenCC's Simplified-to-Traditional table turns it into
other characters and none of them is written that way in Hong Kong either (OpenCC's Hong Kong
variants: 户 and 戶 are both Traditional). OpenCC's whole Simplified-to-Hong-Kong conversion
is not the test: it also rewrites shared characters by guess (只 "only" to 隻, 系列 to
係列), which would be mistakes. Checked: every translation of the portal's catalogue, WTForms'
and Flask-WTF's own messages, and every page, form error and flashed message of every role,
walked with hostile and empty input as the security fuzz test walks them, in Chinese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import opencc
import pytest
import wtforms
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from skillsup.extensions import db
from skillsup.models import OutboxMessage, User

from .security.test_fuzz import Walk, walk

CATALOGUE = Path(__file__).parents[1] / "skillsup/translations/zh_Hant_HK/LC_MESSAGES/messages.po"
_DICTIONARIES = Path(opencc.__file__).parent / "dictionary"
_HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")


def _table(name: str) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for line in (_DICTIONARIES / name).read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if key and values:
            table[key] = values.split()
    return table


@cache
def _simplified_only() -> frozenset[str]:
    hong_kong = _table("HKVariants.txt")
    found = set()
    for simplified, traditional in _table("STCharacters.txt").items():
        variants = {v for t in traditional for v in (t, *hong_kong.get(t, []))}
        if simplified not in variants:
            found.add(simplified)
    return frozenset(found)


def simplified_in(text: str) -> str:
    """The Simplified-only characters of ``text``, each once, in order."""
    table = _simplified_only()
    return "".join(dict.fromkeys(c for c in _HAN.findall(text) if c in table))


def test_the_check_finds_simplified_and_lets_hong_kong_writing_through() -> None:
    assert simplified_in("该字段是必填字段。") == "该"
    assert simplified_in("不是有效的选择。") == "选择"
    assert simplified_in("请登录以访问此页面。") == "请录访问页"
    hong_kong = "此欄必須填寫。只可選一項。課程系列。帳户、戶口、閲覽、閱讀、説明、說明、裏面、着數"
    assert simplified_in(hong_kong) == ""


def test_every_translation_in_the_catalogue_is_traditional() -> None:
    with CATALOGUE.open("rb") as po:
        catalogue = read_po(po)
    found = []
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            if string and simplified_in(string):
                found.append(f"{message.id!r}: {string} ({simplified_in(string)})")
    assert not found, "\n".join(found)


def test_every_message_of_wtforms_has_the_portals_own_translation() -> None:
    """WTForms' Chinese catalogue is Simplified: each of its messages is in the portal's
    catalogue, translated, so that none falls back to it."""
    with CATALOGUE.open("rb") as po:
        catalogue = read_po(po)
    mo = Path(wtforms.__file__).parent / "locale/zh/LC_MESSAGES/wtforms.mo"
    with mo.open("rb") as file:
        theirs = read_mo(file)
    missing = []
    for message in theirs:
        if not message.id:
            continue
        ours = catalogue.get(message.id)
        strings = () if ours is None else ours.string
        strings = strings if isinstance(strings, tuple) else (strings,)
        if ours is None or not all(strings) or ours.fuzzy:
            missing.append(repr(message.id))
    assert not missing, "\n".join(missing)


def _chinese_client(client: FlaskClient) -> FlaskClient:
    """A visitor who chose Chinese in a browser that asks for English first."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9"
    with client.session_transaction() as session:
        session["lang"] = "zh_Hant_HK"
    return client


def test_a_page_that_needs_signing_in_says_so_in_traditional_chinese(client: FlaskClient) -> None:
    page = _chinese_client(client).get("/my-learning", follow_redirects=True)
    body = page.get_data(as_text=True)
    assert "請登入以瀏覽此頁。" in body
    assert simplified_in(body) == ""


def test_logging_out_keeps_the_language(client: FlaskClient, login_as: Any, learner: Any) -> None:
    login_as(learner)
    page = _chinese_client(client).post("/logout", follow_redirects=True)
    body = page.get_data(as_text=True)
    assert '<html lang="zh-Hant-HK">' in body and "你已登出。" in body


@dataclass
class ChineseWalk(Walk):
    """The fuzz walk in Chinese: each answer in text, and the page a redirect leads to (where
    a flashed message shows), is checked for Simplified characters."""

    checked: int = 0
    english: list[str] = field(default_factory=list)
    simplified: list[str] = field(default_factory=list)
    _last: FlaskClient | None = None

    def __post_init__(self) -> None:
        self._speak_chinese()

    def _speak_chinese(self) -> None:
        db.session.execute(update(User).values(preferred_language="zh_Hant_HK"))
        db.session.commit()

    def _heal(self) -> None:
        super()._heal()
        self._speak_chinese()

    def client(self, persona: str) -> FlaskClient:
        client = _chinese_client(super().client(persona))
        self._last = client
        return client

    def send(
        self,
        persona: str,
        method: str,
        url: str,
        data: list[tuple[str, str]] | None = None,
    ) -> Any:
        response = super().send(persona, method, url, data)
        self._check(f"{persona} {method} {url[:120]}", response)
        location = response.headers.get("Location", "")
        if 300 <= response.status_code < 400 and location.startswith("/") and self._last:
            shown = self._last.get(location, buffered=True)
            shown.close()
            self._check(f"{persona} {method} {url[:120]} -> {location[:120]}", shown)
        return response

    def _check(self, what: str, response: Any) -> None:
        if not response.mimetype or not response.mimetype.startswith("text/"):
            return
        body = response.get_data(as_text=True)
        self.checked += 1
        # A redirect's body is Werkzeug's, never shown; a static file's errors are too.
        page = response.mimetype == "text/html" and not 300 <= response.status_code < 400
        page = page and "/static/" not in what
        if page and '<html lang="zh-Hant-HK">' not in body:
            self.english.append(what)
        found = simplified_in(body)
        if found:
            around = [
                m.group(0) for c in found for m in [re.search(f".{{0,20}}{c}.{{0,20}}", body)]
            ]
            self.simplified.append(f"{what}: {found} in {around}")


class TestAsInProduction:
    """With CSRF tokens checked, as in production and as the fuzz walk needs."""

    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        # As in production, and as the fuzz walk needs: CSRF tokens checked.
        return {"WTF_CSRF_ENABLED": True, "PROPAGATE_EXCEPTIONS": False}

    def test_a_form_sent_without_its_token_answers_in_traditional_chinese(
        self, app: Flask, client: FlaskClient
    ) -> None:
        for data in ({}, {"csrf_token": "forged"}):
            page = _chinese_client(client).post("/login", data=data)
            body = page.get_data(as_text=True)
            assert page.status_code == 400
            assert '<html lang="zh-Hant-HK">' in body and "表格" in body
            assert simplified_in(body) == ""

    def test_every_page_and_form_error_of_every_role_is_traditional_chinese(
        self, app: Flask
    ) -> None:
        run = walk(app, ChineseWalk)
        assert isinstance(run, ChineseWalk)
        assert not run.english, "pages not in Chinese:\n" + "\n".join(run.english[:20])
        assert not run.simplified, "Simplified characters:\n" + "\n".join(run.simplified[:40])
        assert run.checked > 1000
        mails = db.session.execute(
            select(OutboxMessage.subject, OutboxMessage.text, OutboxMessage.html)
        ).all()
        in_mails = [
            f"{subject}: {simplified_in(' '.join(filter(None, parts)))}"
            for subject, *parts in mails
            if simplified_in(" ".join(filter(None, (subject, *parts))))
        ]
        assert not in_mails, "\n".join(in_mails)
