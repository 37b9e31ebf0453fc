"""Keeping worked-out results for a while in the shared cache (Redis, or each process's memory).

The cache is a convenience: when it cannot be reached, callers work the result out again and
the page is served as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..extensions import cache

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
    if seconds <= 0:
        return make()
    name = key()
    text = cached(name)
    if not isinstance(text, str):
        text = make()
        keep(name, text, seconds)
    return text


def forget_everything() -> None:
    """Drop everything kept: after a bulk load that wrote past the unit of work (and restarted
    the ids), nothing kept before can be trusted."""
    try:
        cache.clear()
    except Exception:
        log.warning("cache unavailable, nothing forgotten", exc_info=True)
