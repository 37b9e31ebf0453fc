"""Programme administration: classes and their sessions."""

from __future__ import annotations

from .views import bp  # noqa: F401
