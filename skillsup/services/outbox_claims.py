"""Claims on the rows of an outbox: which run of ``flask send-mail`` or ``flask send-webhooks``
(or of the delivery right after a request) has an e-mail or a webhook delivery, and until when.

Each outbox is a :class:`ClaimedTable`: a table whose rows wait (pending) until they are due,
are claimed (sending) by one run, and end with an outcome. A run claims one row at a time, in a
short transaction of its own, with a token of its own. The claim lasts :data:`CLAIM_TIME` from
the moment it is taken, and the run renews it while it works on the row (:class:`ClaimKeeper`),
however long the SMTP server or the receiver takes: only the claim of a run that has died runs
out, and the next run takes its row over. A run checks by its token that the claim is still its
own before it sends and when it records the outcome (:func:`renew`, :func:`finish`), so that a
run that stalled past its claim neither sends what another run has taken over nor records over
that run.
"""

from __future__ import annotations

import enum
import logging
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from ..models import utcnow

log = logging.getLogger(__name__)

#: How long a claim lasts unless its run renews it, which it does every third of this while it
#: works on the row.
CLAIM_TIME = timedelta(minutes=10)


@dataclass(frozen=True)
class ClaimedTable:
    """An outbox whose rows runs claim one at a time.

    ``model`` has the columns ``id``, ``status``, ``attempts``, ``next_attempt_at``,
    ``claim_token``, ``claimed_until`` and ``last_error``; a row waits in the status
    ``pending`` and is ``sending`` while claimed. A claim returns the ``returning`` columns of
    the row as it was claimed (its ``id`` and ``attempts`` among them). ``what`` names a row in
    the log.
    """

    model: Any
    pending: enum.Enum
    sending: enum.Enum
    returning: Sequence[Any]
    what: str

    def due(self, due_at: datetime, moment: datetime) -> ColumnElement[bool]:
        """Rows waiting for an attempt at ``due_at``, and those whose claim has run out at
        ``moment`` (their run died)."""
        model = self.model
        return or_(
            (model.status == self.pending) & (model.next_attempt_at <= due_at),
            (model.status == self.sending) & (model.claimed_until < moment),
        )

    def claim_next(
        self,
        connection: Connection,
        *,
        after: int,
        due_at: datetime | None,
        ids: list[int] | None,
    ) -> Claim | None:
        """Claim the first row after the id ``after`` (among ``ids`` when given) that is due
        at ``due_at`` (by default now), for :data:`CLAIM_TIME` from now; commits the claim."""
        model = self.model
        moment = utcnow()
        is_due = self.due(due_at or moment, moment)
        first = select(model.id).where(is_due, model.id > after)
        if ids is not None:
            first = first.where(model.id.in_(ids))
        # On PostgreSQL the row stays locked until the claim is committed, and a run at the
        # same moment takes the next one instead of waiting for it. SQLite has one writer at a
        # time (every transaction begins IMMEDIATE) and leaves out the FOR UPDATE.
        first = first.order_by(model.id).limit(1).with_for_update(skip_locked=True)
        token = secrets.token_hex(16)
        row = connection.execute(
            update(model)
            .where(model.id == first.scalar_subquery(), is_due)
            .values(
                status=self.sending,
                attempts=model.attempts + 1,
                claim_token=token,
                claimed_until=moment + CLAIM_TIME,
            )
            .returning(*self.returning)
        ).first()
        connection.commit()
        return None if row is None else Claim(token, row, self)

    def claims_in_turn(
        self,
        connection: Connection,
        keeper: ClaimKeeper,
        *,
        limit: int,
        due_at: datetime | None,
        ids: Iterable[int] | None,
    ) -> Iterator[Claim]:
        """The rows that are due (of ``ids`` when given), at most ``limit``, each claimed
        (:meth:`claim_next`) in the order of their ids after the one before, and kept by
        ``keeper`` while the caller works on it: a run ends, and never comes back to a row it
        has dealt with."""
        wanted = sorted(set(ids)) if ids is not None else None
        last_id = 0
        for _ in range(limit):
            if wanted is not None and (not wanted or last_id >= wanted[-1]):
                return
            claim = self.claim_next(connection, after=last_id, due_at=due_at, ids=wanted)
            if claim is None:
                return
            last_id = claim.id
            with keeper.keeping(claim):
                yield claim


@dataclass(frozen=True)
class Claim:
    """A run's claim on one row: the row as it was claimed, the token that tells whether the
    claim is still the run's, and the outbox it is of."""

    token: str
    row: Any
    table: ClaimedTable

    @property
    def id(self) -> int:
        return int(self.row.id)


def _held(claim: Claim) -> ColumnElement[bool]:
    """The claimed row, while the claim on it is still ``claim``."""
    table = claim.table
    model = table.model
    held: ColumnElement[bool] = (
        (model.id == claim.id)
        & (model.claim_token == claim.token)
        & (model.status == table.sending)
    )
    return held


def renew(connection: Connection, claim: Claim, **values: Any) -> bool:
    """Make ``claim`` last :data:`CLAIM_TIME` from now, saving ``values`` on the row with it,
    if the claim is still the run's; commits. Whether it was."""
    renewed = connection.execute(
        update(claim.table.model)
        .where(_held(claim))
        .values(claimed_until=utcnow() + CLAIM_TIME, **values)
    )
    connection.commit()
    return renewed.rowcount == 1


def finish(
    connection: Connection,
    claim: Claim,
    status: enum.Enum,
    error: str | None,
    **values: Any,
) -> bool:
    """Record the outcome of the claimed row (its ``status``, ``error`` and ``values``) and
    end the claim, if the claim is still the run's; commits, with whatever else the run wrote
    on ``connection`` since its last commit. Whether it was: if not, the outcome is the
    business of the run that took the row over."""
    finished = connection.execute(
        update(claim.table.model)
        .where(_held(claim))
        .values(status=status, claimed_until=None, last_error=error, **values)
    )
    connection.commit()
    return finished.rowcount == 1


class ClaimKeeper:
    """Renews the claim of the row its run works on, every third of :data:`CLAIM_TIME`, from a
    thread of its own: a slow SMTP server or receiver keeps the run waiting, not its claim
    running out. The thread starts at the first claim kept and stops when the keeper's block
    ends.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._period = CLAIM_TIME.total_seconds() / 3
        self._kept: Claim | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ClaimKeeper:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    @contextmanager
    def keeping(self, claim: Claim) -> Iterator[None]:
        """Keep ``claim`` for the block."""
        with self._lock:
            self._kept = claim
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-claims", daemon=True)
            self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._kept = None

    def _run(self) -> None:
        while not self._stopping.wait(self._period):
            with self._lock:
                claim = self._kept
            if claim is None:
                continue
            try:
                # A connection of its own: the run's is busy, and not made for two threads.
                with self._engine.connect() as connection:
                    renew(connection, claim)
            except Exception:
                # The next round tries again. A claim that runs out meanwhile is checked
                # before the row is sent and when its outcome is recorded.
                log.exception("could not renew the claim on %s %s", claim.table.what, claim.id)
