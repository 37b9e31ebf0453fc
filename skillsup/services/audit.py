"""Recording changes in the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AuditEntry, PartnerCompany, User

#: The key in the session's ``info`` under which the API layer puts the id of the token a
#: request came with: every entry the request records names it.
API_TOKEN_KEY = "skillsup.api_token_id"  # noqa: S105 (a key name, not a secret)


def record(
    actor: User | None,
    action: str,
    obj: Any = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    company: PartnerCompany | None = None,
) -> AuditEntry:
    """Add an audit entry for ``action`` on ``obj`` by ``actor`` (``None`` for the system).

    The entry joins the caller's transaction, so it is saved exactly when the change is. An
    entry about a person records the company they belong to at this moment (after the change,
    for a move to another company): the part of the log their company's HR officers see.
    For an entry about anything else, ``company`` is the company whose part it is (that of
    the HR officer who nominated staff into a class, say). A change made through the API
    names the token it came with (:data:`API_TOKEN_KEY`).
    """
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type or "system",
        object_id=object_id,
        summary=summary,
        details=_jsonable(details or {}),
        api_token_id=db.session.info.get(API_TOKEN_KEY),
    )
    # The relationship, not the id: a company (or a move) not flushed yet is recorded too.
    entry.company = obj.company if isinstance(obj, User) else company
    db.session.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def entries_for(object_type: str, object_id: int, *, limit: int = 200) -> list[AuditEntry]:
    """The audit entries of one object, newest first, with their actors and the API tokens
    they came through loaded."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
            .options(joinedload(AuditEntry.actor), joinedload(AuditEntry.api_token))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )
