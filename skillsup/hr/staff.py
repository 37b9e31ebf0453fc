"""HR pages: staff."""

from __future__ import annotations

from .views import bp  # noqa: F401
