"""Signed-in pages kept rendered in the shared cache while what they show is unchanged.

A view serves :func:`kept_page` when there is one, else works the page out and renders it
through :func:`render_kept`. A page is kept whole (its frame too: the menu and the name shown
are the visitor's) under a key made of the page (endpoint, path and query string), the visitor
and their language. With it are kept the tokens of the *scopes* of data the page shows (see
:mod:`skillsup.services.changes`) and of the visitor: the page is served again only while every
one of those tokens is unchanged, so a committed change to anything it shows makes it render
afresh on the next visit. The visitor's form token is put back into the page for their session;
a page with messages waiting to be shown is rendered afresh.

What changes with the clock alone is not kept past the moment it changes: a page names those
moments (a session starting, a withdrawal deadline), and Hong Kong's midnight ends every kept
page (what "today" is). ``PAGE_CACHE_SECONDS`` is the longest a page is kept.

Pages are kept only with a cache that every worker shares (``CACHE_URL``): with one cache per
process, a change made through one worker would not reach the pages kept by another.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .models import utcnow
from .services import caching, changes
from .timeutil import start_of_hk_day_utc, today_hk

#: Stands for the visitor's form token in a kept page; never part of a page's own text.
FORM_TOKEN_MARK = "__skillsup_form_token__"  # noqa: S105 (a mark, not a secret)


@dataclass(frozen=True)
class KeptPage:
    tokens: dict[str, str]
    #: The page, compressed: its markup shrinks to a tenth, and a kept page crosses from the
    #: cache on every visit.
    compressed_html: bytes

    @classmethod
    def of(cls, tokens: dict[str, str], html: str) -> KeptPage:
        return cls(tokens, zlib.compress(html.encode(), 1))

    @property
    def html(self) -> str:
        return zlib.decompress(self.compressed_html).decode()


def page_keeping_seconds() -> int:
    """How long signed-in pages are kept: 0 (never) without a cache shared by every worker.
    Tests run one process and may keep pages in its memory."""
    seconds = int(current_app.config.get("PAGE_CACHE_SECONDS") or 0)
    if seconds <= 0:
        return 0
    if current_app.config.get("CACHE_URL") or current_app.testing:
        return seconds
    return 0


def _page_key() -> str:
    query = sorted(request.args.items(multi=True))
    where = hashlib.sha256(repr((request.path, query)).encode()).hexdigest()
    user = f"{current_user.id}:{current_user.session_version}"
    return f"page:{request.endpoint}:{get_locale()}:{user}:{where}"


def _with_form_token(html: str) -> str:
    return html.replace(FORM_TOKEN_MARK, generate_csrf())


def _without_form_token(html: str) -> str:
    return html.replace(generate_csrf(), FORM_TOKEN_MARK)


def _has_messages() -> bool:
    """Whether messages wait to be shown: a page with them is neither served kept nor kept
    (they show once, and they follow a change, which makes the kept page stale anyway)."""
    return bool(session.get("_flashes"))


def _still_current(entry: KeptPage) -> bool:
    return changes.tokens(entry.tokens) == entry.tokens


def kept_page() -> str | None:
    """The visitor's kept copy of the page asked for while all it shows is unchanged;
    ``None`` when there is none, so the view works the page out.

    A view asks before it loads anything, its permission checks included: a copy is kept only
    for a visitor who passed them, and every fact they rest on (the visitor's role, a class's
    trainers, a course's status) is in the scopes of the copy, so that a change to any of them
    makes the copy stale.
    """
    if not page_keeping_seconds() or _has_messages():
        return None
    entry = caching.cached(_page_key())
    if isinstance(entry, KeptPage) and _still_current(entry):
        return _with_form_token(entry.html)
    return None


def render_kept(
    template: str,
    *,
    scopes: Iterable[str],
    build: Callable[[], Mapping[str, Any]],
    found_scopes: Callable[[Mapping[str, Any]], Iterable[str]] | None = None,
    turns_at: Callable[[Mapping[str, Any]], Iterable[datetime | None]] | None = None,
) -> str:
    """The page ``template`` rendered with the context that ``build`` works out, and kept for
    :func:`kept_page` to serve again while it is current.

    ``scopes`` are what the page shows, known before its data is read, and what its
    permission checks rest on; the visitor's own scope is added. ``found_scopes`` gives the
    scopes found in the data (the classes on a learner's waitlist). A scope's token is read
    before the data, so that a change committed while the page renders makes it stale.
    ``turns_at`` gives the moments at which the page would read differently with no change to
    its data: it is kept until the first of them at the latest.
    """
    seconds = page_keeping_seconds()
    if not seconds or _has_messages():
        return render_template(template, **build())
    tokens = changes.tokens([*scopes, changes.user_scope(current_user.id)])
    context = build()
    html = render_template(template, **context)
    if tokens is not None and found_scopes is not None:
        found = set(found_scopes(context)) - set(tokens)
        found_tokens = changes.tokens(found) if found else {}
        tokens = None if found_tokens is None else tokens | found_tokens
    moments = [*(turns_at(context) if turns_at is not None else ()), _next_hong_kong_midnight()]
    seconds = _seconds_until_first(moments, seconds)
    if tokens is not None and seconds > 0:
        caching.keep(_page_key(), KeptPage.of(tokens, _without_form_token(html)), seconds)
    return html


def _next_hong_kong_midnight() -> datetime:
    return start_of_hk_day_utc(today_hk() + timedelta(days=1))


def _seconds_until_first(moments: Iterable[datetime | None], longest: int) -> int:
    """Whole seconds from now until the first moment still to come, at most ``longest``."""
    now = utcnow()
    ahead = [moment for moment in moments if moment is not None and moment > now]
    if not ahead:
        return longest
    return min(longest, int((min(ahead) - now).total_seconds()))
