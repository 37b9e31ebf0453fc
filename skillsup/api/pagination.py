"""Cursor pagination: a list answers a page of ``limit`` items and, when there are more, an
opaque ``next_cursor`` to ask for the next page (also as a ``Link: <...>; rel="next"``
header). A cursor is the position after the last item (its id), not a page number, so items
added or changed between two requests are neither skipped nor repeated; it is bound to the
list's filters, and one from another list or other filters is refused (400).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from ..extensions import db
from .problems import ApiProblem
from .schemas import Text

Item = TypeVar("Item")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageArguments(ma.Schema):
    """The query parameters of every list."""

    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(
            min=1, max=MAX_LIMIT, error=_l("Enter a number from {min} to {max}.")
        ),
        metadata={"description": f"How many items a page holds (1 to {MAX_LIMIT})."},
    )
    cursor = Text(
        max_length=500,
        load_default=None,
        metadata={"description": "The `next_cursor` of the previous page."},
    )


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The schema of a page of ``item_schema`` items, named ``name`` in the document."""
    return type(
        name,
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "next_cursor": ma.fields.String(
                required=True,
                allow_none=True,
                metadata={"description": "Ask for the next page with this; null on the last."},
            ),
        },
    )


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: Sequence[Item]
    next_cursor: str | None


def _filters_digest(filters: Mapping[str, Any]) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.endpoint}|{canonical}".encode()).hexdigest()[:16]


def encode_cursor(after_id: int, filters: Mapping[str, Any]) -> str:
    raw = json.dumps({"after": after_id, "f": _filters_digest(filters)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, filters: Mapping[str, Any]) -> int:
    """The id a cursor continues after; 400 for one that is not a cursor of this list."""
    refused = ApiProblem(
        400,
        _l("This cursor is not valid for this list. Start again without a cursor."),
        code="invalid_cursor",
        errors=[{"parameter": "cursor", "detail": str(_l("This cursor is not valid."))}],
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as error:
        raise refused from error
    if not isinstance(data, dict):
        raise refused
    after = data.get("after")
    if (
        not isinstance(after, int)
        or isinstance(after, bool)
        or not 0 <= after < 2**63
        or data.get("f") != _filters_digest(filters)
    ):
        raise refused
    return after


def paginate(
    statement: Select[Any],
    id_column: InstrumentedAttribute[int],
    *,
    limit: int,
    cursor: str | None,
    filters: Mapping[str, Any],
    scalars: bool = True,
) -> Page[Any]:
    """One page of ``statement`` in the order of ``id_column``, after the cursor's item.

    ``filters`` are the list's other query parameters, which a cursor is bound to."""
    if cursor:
        statement = statement.where(id_column > decode_cursor(cursor, filters))
    statement = statement.order_by(None).order_by(id_column).limit(limit + 1)
    rows = list(db.session.scalars(statement) if scalars else db.session.execute(statement))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        last = rows[-1]
        last_id = getattr(last, id_column.key) if scalars else last._mapping[id_column.key]
        next_cursor = encode_cursor(last_id, filters)
    return Page(rows, next_cursor)


def link_header(page: Page[Any]) -> dict[str, str]:
    """The ``Link`` header to the next page, when there is one."""
    if page.next_cursor is None:
        return {}
    arguments = [
        (name, value) for name, value in request.args.items(multi=True) if name != "cursor"
    ]
    arguments.append(("cursor", page.next_cursor))
    return {"Link": f'<{request.base_url}?{urlencode(arguments)}>; rel="next"'}
