"""Text search helpers shared by the lists."""

from __future__ import annotations

#: The escape character every LIKE built from :func:`contains_pattern` must declare.
LIKE_ESCAPE = "\\"


def contains_pattern(term: str) -> str:
    """A LIKE pattern for text containing ``term`` literally: ``%`` and ``_`` in what the
    user typed are plain characters, not wildcards."""
    escaped = term.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
