"""Finding users for the admin's lists."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from ..models import PartnerCompany, Role, User
from .search import LIKE_ESCAPE, contains_pattern


def user_search(query: str | None = None, role: Role | None = None) -> Select[User]:
    """Users matching a name, e-mail or staff number fragment and a role, by name."""
    statement = select(User).options(joinedload(User.company)).order_by(User.name, User.id)
    if query:
        pattern = contains_pattern(query.lower())
        statement = statement.where(
            or_(
                User.email.like(pattern, escape=LIKE_ESCAPE),
                User.name.ilike(pattern, escape=LIKE_ESCAPE),
                User.staff_number.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
    if role is not None:
        statement = statement.where(User.role == role)
    return statement


def company_choices() -> Select[int, str]:
    return select(PartnerCompany.id, PartnerCompany.name).order_by(PartnerCompany.name)
