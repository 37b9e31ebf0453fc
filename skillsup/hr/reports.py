"""HR pages: reports."""

from __future__ import annotations

from .views import bp  # noqa: F401
