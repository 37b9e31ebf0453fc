"""Programme administration: partner companies, their quotas and HR officers."""

from __future__ import annotations

from .views import bp  # noqa: F401
