"""The demo's clock: the moment its history has reached.

The services are told the moment of each change (their ``now``), which is all the rules need.
Rows also stamp when they were made and last changed (``created_at``, ``updated_at``, an audit
entry's ``occurred_at``), by default with the wall clock. While the demo is seeded, those are
stamped with the demo's moment instead, so that the change history of a course, a class or an
employee reads as it happened rather than as the minute the demo was loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

# What rows stamp on creation; ``updated_at`` on every change too.
_CREATION_STAMPS = ("created_at", "updated_at", "occurred_at")


class DemoClock:
    """The moment the demo's history has reached (``None`` before it starts)."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    @contextmanager
    def stamping(self, session: Session) -> Iterator[None]:
        """Within the block, rows added to or changed in ``session`` are stamped with
        :attr:`now` where they would take the wall clock."""
        event.listen(session, "transient_to_pending", self._stamp_new)
        event.listen(session, "before_flush", self._stamp_changed)
        try:
            yield
        finally:
            event.remove(session, "before_flush", self._stamp_changed)
            event.remove(session, "transient_to_pending", self._stamp_new)

    def _stamp_new(self, _session: Session, instance: Any) -> None:
        if self.now is None:
            return
        columns = inspect(instance).mapper.columns
        for name in _CREATION_STAMPS:
            if name in columns and getattr(instance, name) is None:
                setattr(instance, name, self.now)

    def _stamp_changed(self, session: Session, _context: Any, _instances: Any) -> None:
        if self.now is None:
            return
        for instance in session.dirty:
            if "updated_at" in inspect(instance).mapper.columns and session.is_modified(
                instance, include_collections=False
            ):
                instance.updated_at = self.now
