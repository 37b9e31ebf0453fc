"""Choosing the language of a request, and formatting in Hong Kong time."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_skeleton
from flask import current_app, has_request_context, request, session
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
)
from flask_babel import format_time as babel_format_time
from flask_login import current_user

#: Locales the portal is written in, with the name each is offered under.
LANGUAGE_NAMES = {"en": "English", "zh_Hant_HK": "繁體中文"}

# Browser language tags that mean Traditional Chinese as read in Hong Kong.
_TRADITIONAL_CHINESE_TAGS = ("zh-hk", "zh-tw", "zh-mo", "zh-hant")


def locale_from_accept_language(header_values: list[tuple[str, float]]) -> str | None:
    for tag, _quality in header_values:
        tag = tag.lower().replace("_", "-")
        if tag.startswith(_TRADITIONAL_CHINESE_TAGS):
            return "zh_Hant_HK"
        if tag == "en" or tag.startswith("en-"):
            return "en"
    return None


def select_locale() -> str:
    """The user's saved preference, else the session's choice, else the browser's, else English."""
    available = current_app.config["LANGUAGES"]
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    preferred = getattr(current_user, "preferred_language", None)
    if getattr(current_user, "is_authenticated", False) and preferred in available:
        return str(preferred)
    chosen = session.get("lang")
    if chosen in available:
        return str(chosen)
    from_browser = locale_from_accept_language(list(request.accept_languages))
    return from_browser or current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    return "zh-Hant-HK" if locale.startswith("zh") else "en"


def fmt_datetime(value: datetime | None, style: str = "medium") -> str:
    return "" if value is None else format_datetime(value, style)


def fmt_date(value: date | datetime | None, style: str = "medium") -> str:
    return "" if value is None else format_date(value, style)


def fmt_time(value: datetime | None, style: str = "HH:mm") -> str:
    """Times of day on the 24-hour clock, as timetables in Hong Kong show them."""
    return "" if value is None else babel_format_time(value, style)


def fmt_money(value: Decimal | float | None, currency: str = "HKD") -> str:
    return "" if value is None else format_currency(value, currency)


def fmt_number(value: Any) -> str:
    return "" if value is None else format_decimal(value)


def fmt_hours(value: float) -> str:
    """Hours to one decimal place at most, in the reader's language: "1,115.5", "12"."""
    return format_decimal(round(value, 1), format="#,##0.#")


def fmt_month(value: date) -> str:
    """A month of a year, each language ordering it its own way: "Mar 2025", "2025年3月"."""
    return format_skeleton("yMMM", value, locale=get_locale() or "en")


def ordinal(number: int) -> str:
    """'3rd' in English, '第3位' in Chinese: a place in a queue."""
    locale = str(get_locale() or "en")
    if locale.startswith("zh"):
        return f"第{number}位"
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def percent(value: float | None) -> str:
    return "" if value is None else format_percent(value)
