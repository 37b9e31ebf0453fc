"""Keeping worked-out results for a while in the shared cache (Redis, or each process's memory).

The cache is a convenience: when it cannot be reached, callers work the result out again and
the page is served as usual.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..extensions import cache
from ..models import utcnow

log = logging.getLogger(__name__)


def cached(key: str) -> Any:
    """The value kept under ``key``, or ``None`` when there is none or the cache is away."""
    try:
        return cache.get(key)
    except Exception:  # the cache is a convenience: never fail a page for it
        log.warning("cache unavailable, reading %s afresh", key, exc_info=True)
        return None


def keep(key: str, value: Any, seconds: int) -> None:
    """Keep ``value`` under ``key`` for ``seconds``; a cache that is away is passed over."""
    try:
        cache.set(key, value, timeout=seconds)
    except Exception:
        log.warning("cache unavailable, %s not kept", key, exc_info=True)


def kept_text(key: Callable[[], str], seconds: int, make: Callable[[], str]) -> str:
    """The text kept under ``key()``, or ``make()``'s, then kept for ``seconds``. With
    ``seconds`` zero or less nothing is kept and the key (which may cost a query) is not
    worked out. For rendered parts of a page that every visitor shares: the key must name
    everything the text depends on."""
    return kept_text_until(key, seconds, lambda: (make(), None))


def kept_text_until(
    key: Callable[[], str],
    seconds: int,
    make: Callable[[], tuple[str, datetime | None]],
    *,
    now: datetime | None = None,
) -> str:
    """As :func:`kept_text`, for text that holds only until a moment as well (a class whose
    enrolment opens or closes at a given time): ``make()`` answers the text and the first
    moment from which it may no longer hold (``None``: it holds whatever the time). The
    text is served while ``now`` is before that moment, and kept no longer than it; text that
    no longer holds at ``now`` is not kept at all."""
    if seconds <= 0:
        return make()[0]
    now = now or utcnow()
    name = key()
    text = text_holding(name, now)
    if text is None:
        text, until = make()
        keep_text_until(name, text, until, seconds, now)
    return text


def text_holding(name: str, now: datetime) -> str | None:
    """The text :func:`keep_text_until` kept under ``name`` if it still holds at ``now``."""
    kept = cached(name)
    # Anything else under the name (text kept by an older release) is worked out afresh.
    if (
        isinstance(kept, tuple)
        and len(kept) == 2
        and isinstance(kept[0], str)
        and (kept[1] is None or now < kept[1])
    ):
        return kept[0]
    return None


def keep_text_until(
    name: str, text: str, until: datetime | None, seconds: int, now: datetime
) -> None:
    """Keep ``text`` under ``name`` for ``seconds``, and no longer than ``until`` (see
    :func:`kept_text_until`)."""
    if until is not None:
        seconds = min(seconds, math.ceil((until - now).total_seconds()))
    if seconds > 0:
        keep(name, (text, until), seconds)


def forget_everything() -> None:
    """Drop everything kept: after a bulk load that wrote past the unit of work (and restarted
    the ids), nothing kept before can be trusted."""
    try:
        cache.clear()
    except Exception:
        log.warning("cache unavailable, nothing forgotten", exc_info=True)
