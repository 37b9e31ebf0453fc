"""Choosing the language of a request, and formatting in Hong Kong time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import NullTranslations
from flask import current_app, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import Environment, pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from .timeutil import HONG_KONG

#: Locales the portal is written in, with the name each is offered under.
LANGUAGE_NAMES = {"en": "English", "zh_Hant_HK": "繁體中文"}

#: The blueprints under ``/api/`` whose pages are for people (the API's reference): they
#: choose their language as every page does.
PAGES_UNDER_API = frozenset({"api_reference"})

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
    if request.path.startswith("/api/") and request.blueprint not in PAGES_UNDER_API:
        # Another system calling the API: its Accept-Language alone (it has no session).
        from_caller = locale_from_accept_language(list(request.accept_languages))
        return from_caller or current_app.config["BABEL_DEFAULT_LOCALE"]
    preferred = getattr(current_user, "preferred_language", None)
    if getattr(current_user, "is_authenticated", False) and preferred in available:
        return str(preferred)
    chosen = session.get("lang")
    if chosen in available:
        return str(chosen)
    from_browser = locale_from_accept_language(list(request.accept_languages))
    return from_browser or current_app.config["BABEL_DEFAULT_LOCALE"]


# The reader's locale and translations, looked up once per request --------------------------
#
# Flask-Babel finds the locale and its translations through several context look-ups and turns
# the locale into its name on every call, which costs more than the translation itself when a
# page asks for a few hundred strings, dates and numbers. The request keeps them together,
# checked against the locale Flask-Babel holds (``force_locale`` and ``refresh`` replace that
# object, so an e-mail rendered in its recipient's language inside a request gets its own).

_REQUEST_KEY = "_skillsup_locale"


class ReaderLocale:
    """The current locale, its name ("en", "zh_Hant_HK") and its translations."""

    __slots__ = ("locale", "name", "template_texts", "translations")

    def __init__(self, locale: Locale | None) -> None:
        self.locale = locale
        self.name = str(locale or "en")
        self.translations: NullTranslations = get_translations()
        #: The templates' words without values, as written into a page (or a plain-text
        #: e-mail): a table repeats its column labels on every row for phones.
        self.template_texts: dict[tuple[str, bool], str] = {}


def reader_locale() -> ReaderLocale:
    """The locale of the text being written now, kept for the request (or a command's
    application context) while Flask-Babel's stays the same object."""
    # The application context straight from its context variable: a page asks hundreds of
    # times, and has_app_context() and g's proxy would look it up twice more each time.
    app_context = _cv_app.get(None)
    if app_context is None:
        return ReaderLocale(get_locale())
    state = app_context.g.__dict__
    babel_state = state.get("_flask_babel")
    held = getattr(babel_state, "babel_locale", None)
    kept: ReaderLocale | None = state.get(_REQUEST_KEY)
    if kept is not None and held is not None and kept.locale is held:
        return kept
    fresh = ReaderLocale(get_locale())
    state[_REQUEST_KEY] = fresh
    return fresh


def gettext(string: str) -> str:
    return reader_locale().translations.ugettext(string)


def ngettext(singular: str, plural: str, number: int) -> str:
    return reader_locale().translations.ungettext(singular, plural, number)


def pgettext(context: str, string: str) -> str:
    return reader_locale().translations.upgettext(context, string)


def npgettext(context: str, singular: str, plural: str, number: int) -> str:
    return reader_locale().translations.unpgettext(context, singular, plural, number)


def _as_template_text(context: EvalContext, text: str, variables: dict[str, Any]) -> str:
    # Jinja's new-style rule: the translation is a format string for its named values, marked
    # safe where the template escapes (the values are escaped as they go in). A text without
    # "%" needs no formatting at all: ``text % {}`` would give it back unchanged.
    if context.autoescape:
        text = Markup(text)  # noqa: S704 (the catalogue is ours, as Jinja trusts it)
    return text % variables if "%" in text else text


@pass_eval_context
def template_gettext(context: EvalContext, string: str, **variables: Any) -> str:
    reader = reader_locale()
    if variables:
        return _as_template_text(context, reader.translations.ugettext(string), variables)
    key = (string, context.autoescape)
    text = reader.template_texts.get(key)
    if text is None:
        text = reader.template_texts[key] = _as_template_text(
            context, reader.translations.ugettext(string), variables
        )
    return text


@pass_eval_context
def template_ngettext(
    context: EvalContext, singular: str, plural: str, num: int, **variables: Any
) -> str:
    variables.setdefault("num", num)
    text = reader_locale().translations.ungettext(singular, plural, num)
    return _as_template_text(context, text, variables)


@pass_eval_context
def template_pgettext(
    context: EvalContext, message_context: str, string: str, **variables: Any
) -> str:
    text = reader_locale().translations.upgettext(message_context, string)
    return _as_template_text(context, text, variables)


@pass_eval_context
def template_npgettext(
    context: EvalContext,
    message_context: str,
    singular: str,
    plural: str,
    num: int,
    **variables: Any,
) -> str:
    variables.setdefault("num", num)
    text = reader_locale().translations.unpgettext(message_context, singular, plural, num)
    return _as_template_text(context, text, variables)


def install_template_translations(environment: Environment) -> None:
    """The templates' ``_``, ``gettext``, ``ngettext`` and ``{% trans %}`` through
    :func:`reader_locale`, with Jinja's new-style behaviour (the text formatted with its
    named values, and marked safe where the template escapes). Jinja's own new-style
    callables reach the translation through two more context calls per string, which a page
    of a few hundred strings notices."""
    # Added to the environment by Jinja's i18n extension, which Flask-Babel has installed.
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )
    environment.globals.update(
        _=template_gettext,
        gettext=template_gettext,
        ngettext=template_ngettext,
        pgettext=template_pgettext,
        npgettext=template_npgettext,
    )


#: The elements bilingual text is written in: the reader's language, and English marked so.
_LOCALIZED_IN = {
    "span": (Markup("<span>{}</span>"), Markup('<span lang="en">{}</span>')),
    "p": (Markup("<p>{}</p>"), Markup('<p lang="en">{}</p>')),
    "ul": (Markup("<ul>{}</ul>"), Markup('<ul lang="en">{}</ul>')),
    "div": (Markup("<div>{}</div>"), Markup('<div lang="en">{}</div>')),
}


def _reader_text(record: Any, name: str) -> tuple[str, bool]:
    """The one rule of bilingual text: a record's ``name`` (``name_en``, ``name_zh``) in the
    reader's language when the record has it, else the English; and whether it is English
    given to a Chinese reader (to be marked as English, so that screen readers read it so)."""
    english = getattr(record, f"{name}_en") or ""
    if reader_locale().name == "en":
        return english, False
    chinese = getattr(record, f"{name}_zh", None)
    return (chinese, False) if chinese else (english, True)


def localized(record: Any, name: str, tag: str = "span") -> Markup:
    """A record's bilingual text ``name`` in a ``tag`` ("span" or "p"), by
    :func:`_reader_text`'s rule."""
    text, english_instead = _reader_text(record, name)
    as_is, as_english = _LOCALIZED_IN[tag]
    return (as_english if english_instead else as_is).format(text)


def localized_lines(record: Any, name: str) -> Markup:
    """A record's bilingual text ``name`` as a list, an item per line that is not blank."""
    text, english_instead = _reader_text(record, name)
    items = Markup("").join(
        Markup("<li>{}</li>").format(line.strip()) for line in text.splitlines() if line.strip()
    )
    as_is, as_english = _LOCALIZED_IN["ul"]
    return (as_english if english_instead else as_is).format(items)


def localized_paragraphs(record: Any, name: str) -> Markup:
    """A record's bilingual text ``name`` as paragraphs, split at blank lines."""
    text, english_instead = _reader_text(record, name)
    paragraphs = Markup("").join(
        Markup("<p>{}</p>").format(part.strip()) for part in text.split("\n\n") if part.strip()
    )
    as_is, as_english = _LOCALIZED_IN["div"]
    return (as_english if english_instead else as_is).format(paragraphs)


def html_lang(locale: str) -> str:
    return "zh-Hant-HK" if locale.startswith("zh") else "en"


# The one home of the portal's date and time formats, as read in Hong Kong: the day before
# the month in English ("7 Dec 2026", "07/12/2026"), the Chinese forms ("2026年12月7日"), and
# one 24-hour clock everywhere ("19:00", never "7:00 PM" or "下午7:00"). Babel's own styles
# follow US English and switch clocks between locales, so each style is an explicit pattern.
TIME_PATTERN = "HH:mm"
DATE_PATTERNS: dict[str, dict[str, str]] = {
    "en": {
        "short": "dd/MM/y",
        "medium": "d MMM y",
        "long": "d MMMM y",
        "full": "EEEE, d MMMM y",
        "month": "MMM y",
        "long_month": "MMMM y",
    },
    "zh": {
        "short": "y年M月d日",
        "medium": "y年M月d日",
        "long": "y年M月d日",
        "full": "y年M月d日EEEE",
        "month": "y年M月",
        "long_month": "y年M月",
    },
}


def _locale_name(locale: object | None = None) -> str:
    return str(locale) if locale else reader_locale().name


def _patterns(locale: str) -> dict[str, str]:
    return DATE_PATTERNS["zh" if locale.startswith("zh") else "en"]


def _in_hong_kong(value: datetime) -> datetime:
    """A stored instant (UTC, naive meaning UTC) as Hong Kong's wall clock shows it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(HONG_KONG)


def fmt_date(
    value: date | datetime | None, style: str = "medium", locale: object | None = None
) -> str:
    """A date (or an instant's Hong Kong date) in one of the styles of ``DATE_PATTERNS``:
    "07/12/2026", "7 Dec 2026", "7 December 2026", "Monday, 7 December 2026"; in Chinese
    "2026年12月7日" (and "2026年12月7日星期一" in full)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _in_hong_kong(value).date()
    name = _locale_name(locale)
    return _formatted_date(value, _patterns(name)[style], name)


@lru_cache(maxsize=8192)
def _formatted_date(value: date, pattern: str, locale: str) -> str:
    # A page shows the same few days many times over (a timetable, a list of classes), and
    # Babel works a pattern out field by field on every call: each day is written once.
    return babel_dates.format_date(value, pattern, locale=locale)


def fmt_time(value: datetime | time | None, locale: object | None = None) -> str:
    """A time of day on the 24-hour clock, as timetables in Hong Kong show it: "19:00"
    (``TIME_PATTERN`` in every language the portal speaks)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _in_hong_kong(value).time()
    return f"{value.hour:02d}:{value.minute:02d}"


def fmt_datetime(
    value: datetime | None, style: str = "medium", locale: object | None = None
) -> str:
    """An instant in Hong Kong: its date in ``style`` then its time, "07/12/2026 19:00",
    "7 Dec 2026 19:00", "2026年12月7日 19:00"."""
    if value is None:
        return ""
    return f"{fmt_date(value, style, locale)} {fmt_time(value, locale)}"


def fmt_timespan(
    starts_at: datetime, ends_at: datetime, style: str = "full", locale: object | None = None
) -> str:
    """A session's day and hours in Hong Kong: "Tuesday, 4 March 2031, 19:00–22:00";
    in Chinese "2031年3月4日星期二，19:00–22:00"."""
    hours = f"{fmt_time(starts_at, locale)}–{fmt_time(ends_at, locale)}"
    return f"{fmt_date(starts_at, style, locale)}{comma(locale)}{hours}"


def comma(locale: object | None = None) -> str:
    """What separates the parts of a phrase: ", " in English, "，" in Chinese."""
    return "，" if _locale_name(locale).startswith("zh") else ", "


def colon(locale: object | None = None) -> str:
    """What follows a label before its value: ": " in English, "：" in Chinese."""
    return "：" if _locale_name(locale).startswith("zh") else ": "


def fmt_month(value: date, style: str = "month", locale: object | None = None) -> str:
    """A month of a year, each language ordering it its own way: "Mar 2025", "2025年3月"
    (``long_month``: "March 2025")."""
    name = _locale_name(locale)
    return _formatted_date(value, _patterns(name)[style], name)


@lru_cache(maxsize=4096)
def _formatted_number(kind: str, value: Any, pattern: str | None, locale: str) -> str:
    # Figures repeat across a page and across requests (seats, hours, fees, counts).
    if kind == "currency":
        return babel_numbers.format_currency(value, pattern or "HKD", locale=locale)
    if kind == "percent":
        return babel_numbers.format_percent(value, locale=locale)
    return babel_numbers.format_decimal(value, format=pattern, locale=locale)


def fmt_money(value: Decimal | float | None, currency: str = "HKD") -> str:
    if value is None:
        return ""
    return _formatted_number("currency", value, currency, reader_locale().name)


def fmt_number(value: Any) -> str:
    return "" if value is None else _formatted_number("decimal", value, None, reader_locale().name)


def fmt_hours(value: float) -> str:
    """Hours to one decimal place at most, in the reader's language: "1,115.5", "12"."""
    return _formatted_number("decimal", round(value, 1), "#,##0.#", reader_locale().name)


def ordinal(number: int) -> str:
    """'3rd' in English, '第3位' in Chinese: a place in a queue."""
    if reader_locale().name.startswith("zh"):
        return f"第{number}位"
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def percent(value: float | None) -> str:
    return "" if value is None else _formatted_number("percent", value, None, reader_locale().name)
