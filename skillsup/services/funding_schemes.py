"""Funding schemes: which schemes a class runs under, and the figures of each, by version.

The rules kept here, whatever the path (admin pages, the demo, the CLI):

- A scheme's figures are kept in **versions**. The version a class runs under is the one with
  the latest ``effective_from`` on or before the class's start date (``starts_on``); a class
  that starts before a scheme's first version has none (no status, no estimate).
- Changing a scheme's figures (:func:`change_figures`) makes a new version from a date, by
  default today in Hong Kong, never earlier: a class that has started keeps the figures it
  started under. Changing them again for the same date corrects that version in place.
  :func:`classes_taking_version` lists the classes a new version would apply to.
- A course names its schemes (:func:`set_course_schemes`); a class takes its course's unless
  it has its own list, possibly empty for none (:func:`set_class_schemes`).
  :func:`class_funding` gives the schemes and versions of many classes in a fixed number of
  queries.
- Only admins change schemes and choose them; every change is in the audit log.

The figures each scheme publishes are :data:`.funding_figures.PUBLISHED_SCHEMES`; the
migration that created the schemes installed them, and :func:`ensure_published_schemes`
installs them in a database built without migrations (tests, a fresh demo).

Functions flush but never commit.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from .. import permissions
from ..extensions import db
from ..models import (
    Course,
    CourseClass,
    FundingPayee,
    FundingScheme,
    FundingSchemeVersion,
    SubsidyKind,
    User,
    class_funding_schemes,
    course_funding_schemes,
)
from ..timeutil import today_hk
from . import audit
from .errors import PermissionDenied, ValidationFailed
from .funding_figures import (
    CODE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PUBLISHED_SCHEMES,
    SchemeFigures,
    choice,
    clean_figures,
)

# Reading ------------------------------------------------------------------------------------


def scheme_list(*, active_only: bool = False) -> list[FundingScheme]:
    """Every scheme (or only the active ones, which may be chosen for courses and classes),
    by code, with their versions: two queries."""
    statement = select(FundingScheme).order_by(FundingScheme.code)
    if active_only:
        statement = statement.where(FundingScheme.is_active.is_(True))
    schemes = list(db.session.scalars(statement))
    _load_versions(schemes)
    return schemes


def scheme_by_code(code: str) -> FundingScheme | None:
    return db.session.scalar(select(FundingScheme).where(FundingScheme.code == code.upper()))


def version_in_force(
    versions: Iterable[FundingSchemeVersion], day: date
) -> FundingSchemeVersion | None:
    """Of a scheme's ``versions``, the one with the latest ``effective_from`` on or before
    ``day``; ``None`` when every one is later."""
    best: FundingSchemeVersion | None = None
    for version in versions:
        if version.effective_from <= day and (
            best is None or version.effective_from > best.effective_from
        ):
            best = version
    return best


def version_for_class(
    scheme: FundingScheme, course_class: CourseClass
) -> FundingSchemeVersion | None:
    """The version of ``scheme`` that ``course_class`` runs under: the latest in force on its
    start date."""
    return version_in_force(scheme.versions, course_class.starts_on)


@dataclass(frozen=True)
class ClassScheme:
    """A scheme a class runs under, with the version of its figures for that class (``None``
    when the class starts before the scheme's first version)."""

    scheme: FundingScheme
    version: FundingSchemeVersion | None


def class_funding(class_ids: Iterable[int]) -> dict[int, list[ClassScheme]]:
    """The schemes each class runs under (its own when it overrides its course's, else its
    course's), by code, each with its version for the class; a class under none maps to an
    empty list. Four queries whatever the number of classes."""
    ids = set(class_ids)
    if not ids:
        return {}
    rows = db.session.execute(_classes_statement(), {"ids": sorted(ids)}).all()
    return {class_id: [] for class_id in ids} | _class_funding(
        [(row.id, row.course_id, row.funding_override, row.starts_on) for row in rows]
    )


@functools.cache
def _classes_statement() -> Select[int, int, bool, date]:
    return select(
        CourseClass.id,
        CourseClass.course_id,
        CourseClass.funding_override,
        CourseClass.starts_on,
    ).where(CourseClass.id.in_(bindparam("ids", expanding=True)))


def loaded_class_funding(classes: Iterable[CourseClass]) -> dict[int, list[ClassScheme]]:
    """As :func:`class_funding`, for classes loaded already: three queries."""
    return _class_funding(
        [
            (c.id, c.course_id, c.funding_override, c.starts_on)
            for c in {c.id: c for c in classes}.values()
        ]
    )


@functools.cache
def _class_schemes_statement() -> Select[int, FundingScheme]:
    # Built once, as the next: every page that shows places' funding runs them.
    return (
        select(class_funding_schemes.c.class_id, FundingScheme)
        .join(FundingScheme, FundingScheme.id == class_funding_schemes.c.scheme_id)
        .where(class_funding_schemes.c.class_id.in_(bindparam("ids", expanding=True)))
    )


@functools.cache
def _course_schemes_statement() -> Select[int, FundingScheme]:
    return (
        select(course_funding_schemes.c.course_id, FundingScheme)
        .join(FundingScheme, FundingScheme.id == course_funding_schemes.c.scheme_id)
        .where(course_funding_schemes.c.course_id.in_(bindparam("ids", expanding=True)))
    )


def _class_funding(rows: list[tuple[int, int, bool, date]]) -> dict[int, list[ClassScheme]]:
    """The schemes of the classes ``rows`` give as (id, course id, whether they override
    their course's schemes, first day)."""
    result: dict[int, list[ClassScheme]] = {}
    if not rows:
        return result
    own = [class_id for class_id, _course, override, _start in rows if override]
    course_ids = {course_id for _id, course_id, override, _start in rows if not override}
    schemes_of_class: dict[int, list[FundingScheme]] = defaultdict(list)
    if own:
        for class_id, scheme in db.session.execute(_class_schemes_statement(), {"ids": own}):
            schemes_of_class[class_id].append(scheme)
    schemes_of_course: dict[int, list[FundingScheme]] = defaultdict(list)
    if course_ids:
        for course_id, scheme in db.session.execute(
            _course_schemes_statement(), {"ids": sorted(course_ids)}
        ):
            schemes_of_course[course_id].append(scheme)
    every_scheme = {
        scheme.id: scheme
        for schemes in (*schemes_of_class.values(), *schemes_of_course.values())
        for scheme in schemes
    }
    versions = _versions_by_scheme(every_scheme)
    for class_id, course_id, override, starts_on in rows:
        schemes = schemes_of_class[class_id] if override else schemes_of_course[course_id]
        result[class_id] = [
            ClassScheme(scheme, version_in_force(versions[scheme.id], starts_on))
            for scheme in sorted(schemes, key=lambda s: s.code)
        ]
    return result


def classes_taking_version(scheme: FundingScheme, effective_from: date) -> list[CourseClass]:
    """The classes under ``scheme`` (through their course or their own list) that a version
    from ``effective_from`` would apply to: those starting on or after that date and before
    the scheme's next version, if any; by start date and code."""
    later = [v.effective_from for v in scheme.versions if v.effective_from > effective_from]
    by_course = select(course_funding_schemes.c.course_id).where(
        course_funding_schemes.c.scheme_id == scheme.id
    )
    by_class = select(class_funding_schemes.c.class_id).where(
        class_funding_schemes.c.scheme_id == scheme.id
    )
    statement = (
        select(CourseClass)
        .where(
            CourseClass.starts_on >= effective_from,
            (
                (CourseClass.funding_override.is_(False) & CourseClass.course_id.in_(by_course))
                | (CourseClass.funding_override.is_(True) & CourseClass.id.in_(by_class))
            ),
        )
        .order_by(CourseClass.starts_on, CourseClass.code)
    )
    if later:
        statement = statement.where(CourseClass.starts_on < min(later))
    return list(db.session.scalars(statement))


# Changes ------------------------------------------------------------------------------------


def ensure_published_schemes(actor: User | None = None) -> dict[str, FundingScheme]:
    """The schemes of :data:`PUBLISHED_SCHEMES` by code, each created with its first version
    where the database has no scheme of that code yet (one built without the migrations);
    existing schemes are left as they are."""
    existing = {scheme.code: scheme for scheme in db.session.scalars(select(FundingScheme))}
    for published in PUBLISHED_SCHEMES:
        if published.code in existing:
            continue
        scheme = FundingScheme(
            code=published.code,
            name_en=published.name_en,
            name_zh=published.name_zh,
            paid_to=published.paid_to,
            is_active=True,
        )
        scheme.versions.append(
            FundingSchemeVersion(
                effective_from=published.effective_from,
                created_by_id=actor.id if actor is not None else None,
                **clean_figures(published.figures),
            )
        )
        db.session.add(scheme)
        existing[published.code] = scheme
    db.session.flush()
    return existing


@dataclass(frozen=True)
class SchemeDetails:
    """What names a scheme and says whom it pays; ``paid_to`` is set when it is created."""

    code: str
    name_en: str
    name_zh: str | None = None
    paid_to: FundingPayee | str = FundingPayee.NONE
    is_active: bool = True


def create_scheme(
    actor: User,
    details: SchemeDetails,
    figures: SchemeFigures,
    effective_from: date,
) -> FundingScheme:
    """A new scheme with its first version of figures from ``effective_from`` (any date: no
    class runs under the scheme yet).

    The code is 1 to 20 capital letters, digits and hyphens, unused; the English name is
    required. Raises :class:`PermissionDenied` for anyone but an admin and
    :class:`ValidationFailed` naming the field at fault.
    """
    _check_actor(actor)
    code = (details.code or "").strip().upper()
    if not code or len(code) > CODE_MAX_LENGTH or not all(c.isalnum() or c == "-" for c in code):
        raise ValidationFailed(_l("Use 1 to 20 capital letters, digits and hyphens."), field="code")
    if scheme_by_code(code) is not None:
        raise ValidationFailed(_l("Another scheme has this code."), field="code")
    names = _clean_names(details)
    paid_to = choice(FundingPayee, details.paid_to, "paid_to")
    values = clean_figures(figures)
    scheme = FundingScheme(code=code, paid_to=paid_to, is_active=bool(details.is_active), **names)
    scheme.versions.append(
        FundingSchemeVersion(effective_from=effective_from, created_by_id=actor.id, **values)
    )
    db.session.add(scheme)
    db.session.flush()
    audit.record(
        actor,
        "funding_scheme.created",
        scheme,
        f"created funding scheme {code}",
        {"code": code, **names, "paid_to": paid_to.value, "effective_from": effective_from},
    )
    return scheme


def update_scheme(actor: User, scheme: FundingScheme, details: SchemeDetails) -> FundingScheme:
    """Change a scheme's names and whether it may be chosen for courses and classes (an
    inactive scheme still applies where it was chosen). Its code and whom it pays stay.

    Raises :class:`PermissionDenied` for anyone but an admin and :class:`ValidationFailed`
    naming the field at fault. Records the changes, if any, in the audit log.
    """
    _check_actor(actor)
    values: dict[str, Any] = {**_clean_names(details), "is_active": bool(details.is_active)}
    changes = {
        name: f"{_show(getattr(scheme, name))} → {_show(value)}"
        for name, value in values.items()
        if getattr(scheme, name) != value
    }
    if not changes:
        return scheme
    for name, value in values.items():
        setattr(scheme, name, value)
    db.session.flush()
    audit.record(
        actor, "funding_scheme.updated", scheme, f"updated funding scheme {scheme.code}", changes
    )
    return scheme


def change_figures(
    actor: User,
    scheme: FundingScheme,
    figures: SchemeFigures,
    effective_from: date | None = None,
    *,
    today: date | None = None,
) -> FundingSchemeVersion:
    """New figures for ``scheme`` from ``effective_from`` (default: today in Hong Kong): a new
    version for the classes starting on or after that date (until a later version's date).

    The date may not be before today, so that no class that has started changes figures.
    For a date that already has a version (today's, or one planned), that version is
    corrected in place. Figures the same as the version in force on that date change
    nothing. Records the changed figures in the audit log.

    Raises :class:`PermissionDenied` for anyone but an admin, and :class:`ValidationFailed`
    naming the field at fault (``effective_from`` for a date in the past).
    """
    _check_actor(actor)
    today = today or today_hk()
    effective_from = effective_from or today
    if effective_from < today:
        raise ValidationFailed(
            _l(
                "New figures apply from today or a later date: classes that have started keep"
                " the figures they started under."
            ),
            field="effective_from",
        )
    values = clean_figures(figures)
    db.session.refresh(scheme, with_for_update=True)
    _load_versions([scheme])
    current = version_in_force(scheme.versions, effective_from)
    changes = {
        name: f"{_show(getattr(current, name) if current else None)} → {_show(value)}"
        for name, value in values.items()
        if current is None or _differs(getattr(current, name), value)
    }
    if current is not None and not changes:
        return current
    if current is not None and current.effective_from == effective_from:
        version = current
        for name, value in values.items():
            setattr(version, name, value)
    else:
        version = FundingSchemeVersion(
            scheme=scheme, effective_from=effective_from, created_by_id=actor.id, **values
        )
        db.session.add(version)
    db.session.flush()
    audit.record(
        actor,
        "funding_scheme.figures_changed",
        scheme,
        f"changed the figures of {scheme.code} from {effective_from.isoformat()}",
        {"effective_from": effective_from, **changes},
    )
    return version


def set_course_schemes(actor: User, course: Course, scheme_ids: Iterable[int]) -> bool:
    """Offer ``course`` under exactly the schemes ``scheme_ids`` (none for an empty list); its
    classes take them unless they have their own. A scheme newly chosen must be active.

    Returns whether anything changed (recorded in the audit log). Raises
    :class:`PermissionDenied` for anyone but an admin and :class:`ValidationFailed` (field
    ``funding_schemes``) for an unknown or inactive scheme.
    """
    _check_actor(actor)
    chosen = _chosen_schemes(scheme_ids, already=course.funding_schemes)
    before = list(course.funding_schemes)
    if {s.id for s in before} == {s.id for s in chosen}:
        return False
    course.funding_schemes = chosen
    db.session.flush()
    audit.record(
        actor,
        "course.funding_changed",
        course,
        f"funding schemes of {course.code}: {_codes(before)} → {_codes(chosen)}",
        {"funding_schemes": f"{_codes(before)} → {_codes(chosen)}"},
    )
    return True


def set_class_schemes(
    actor: User, course_class: CourseClass, scheme_ids: Iterable[int] | None
) -> bool:
    """Give ``course_class`` its own schemes ``scheme_ids`` (an empty list: none at all), or
    with ``None`` let it take its course's again. A scheme newly chosen must be active; a
    completed or cancelled class keeps the schemes it ran under.

    Returns whether anything changed (recorded in the audit log). Raises
    :class:`PermissionDenied` for anyone but an admin, :class:`ValidationFailed` (field
    ``funding_schemes``) for an unknown or inactive scheme, and
    :class:`~skillsup.services.classes.ClassLocked` for a finished class.
    """
    from .classes import check_not_finished

    _check_actor(actor)
    check_not_finished(course_class)
    before = _class_codes(course_class)
    if scheme_ids is None:
        override, chosen = False, []
    else:
        override = True
        chosen = _chosen_schemes(scheme_ids, already=course_class.funding_schemes)
    if override == course_class.funding_override and {s.id for s in chosen} == {
        s.id for s in course_class.funding_schemes
    }:
        return False
    course_class.funding_override = override
    course_class.funding_schemes = chosen
    db.session.flush()
    after = _class_codes(course_class)
    audit.record(
        actor,
        "class.funding_changed",
        course_class,
        f"funding schemes of {course_class.code}: {before} → {after}",
        {"funding_schemes": f"{before} → {after}"},
    )
    return True


# Rules ------------------------------------------------------------------------------------


def _check_actor(actor: User | None) -> None:
    if not permissions.can_manage_catalogue(actor):
        raise PermissionDenied()


def _load_versions(schemes: Sequence[FundingScheme]) -> None:
    """Load the versions of ``schemes`` in one query (instead of one per scheme)."""
    versions = _versions_by_scheme({scheme.id: scheme for scheme in schemes})
    for scheme in schemes:
        set_committed_value(scheme, "versions", versions[scheme.id])


def _versions_by_scheme(schemes: dict[int, FundingScheme]) -> dict[int, list[FundingSchemeVersion]]:
    versions: dict[int, list[FundingSchemeVersion]] = defaultdict(list)
    if schemes:
        for version in db.session.scalars(_versions_statement(), {"ids": sorted(schemes)}):
            versions[version.scheme_id].append(version)
    return versions


@functools.cache
def _versions_statement() -> Select[FundingSchemeVersion]:
    return (
        select(FundingSchemeVersion)
        .where(FundingSchemeVersion.scheme_id.in_(bindparam("ids", expanding=True)))
        .order_by(FundingSchemeVersion.effective_from)
    )


def _chosen_schemes(
    scheme_ids: Iterable[int], *, already: Sequence[FundingScheme]
) -> list[FundingScheme]:
    try:
        ids = {int(scheme_id) for scheme_id in scheme_ids}
    except (TypeError, ValueError) as error:
        raise ValidationFailed(_l("Choose schemes from the list."), field="funding_schemes") from (
            error
        )
    found = list(db.session.scalars(select(FundingScheme).where(FundingScheme.id.in_(ids))))
    if len(found) != len(ids):
        raise ValidationFailed(_l("Choose schemes from the list."), field="funding_schemes")
    kept = {scheme.id for scheme in already}
    inactive = [s.code for s in found if not s.is_active and s.id not in kept]
    if inactive:
        raise ValidationFailed(
            _l("%(codes)s is no longer offered.", codes=", ".join(sorted(inactive))),
            field="funding_schemes",
        )
    return sorted(found, key=lambda s: s.code)


def _clean_names(details: SchemeDetails) -> dict[str, Any]:
    name_en = (details.name_en or "").strip()
    if not name_en:
        raise ValidationFailed(_l("Enter the English name."), field="name_en")
    name_zh = (details.name_zh or "").strip() or None
    for name, value in (("name_en", name_en), ("name_zh", name_zh)):
        if value and len(value) > NAME_MAX_LENGTH:
            raise ValidationFailed(
                _l("Use at most %(num)d characters.", num=NAME_MAX_LENGTH), field=name
            )
    return {"name_en": name_en, "name_zh": name_zh}


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return (Decimal(old) if old is not None else None) != (
            Decimal(new) if new is not None else None
        )
    return bool(old != new)


def _show(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, SubsidyKind | FundingPayee):
        return value.value
    return str(value)


def _codes(schemes: Iterable[FundingScheme]) -> str:
    return ", ".join(sorted(s.code for s in schemes)) or "—"


def _class_codes(course_class: CourseClass) -> str:
    if not course_class.funding_override:
        return f"course ({_codes(course_class.course.funding_schemes)})"
    return _codes(course_class.funding_schemes)
