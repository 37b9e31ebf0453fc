"""What the admin's funding pages show: each scheme with the figures in force, and a scheme's
versions as a timeline with the classes that ran (or will run) under each.

Reading only; the changes are :mod:`.funding_schemes`'s. A fixed number of queries whatever
the number of schemes, versions or classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    CourseClass,
    FundingScheme,
    FundingSchemeVersion,
    class_funding_schemes,
    course_funding_schemes,
)
from .funding_figures import SchemeFigures
from .funding_schemes import scheme_list, version_in_force

#: The most classes listed under one version on a scheme's page; the rest are counted.
CLASSES_SHOWN = 50


@dataclass(frozen=True)
class SchemeRow:
    """A scheme on the list: the version in force today and the next one planned, if any."""

    scheme: FundingScheme
    in_force: FundingSchemeVersion | None
    planned: FundingSchemeVersion | None


def scheme_rows(today: date) -> list[SchemeRow]:
    """Every scheme by code, with the version in force on ``today`` and the first one planned
    after it: two queries."""
    rows = []
    for scheme in scheme_list():
        later = [v for v in scheme.versions if v.effective_from > today]
        in_force = version_in_force(scheme.versions, today)
        rows.append(SchemeRow(scheme, in_force, later[0] if later else None))
    return rows


@dataclass
class VersionClasses:
    """One version of a scheme on its timeline: whether it is the one in force, or planned;
    the classes that run under it (the first :data:`CLASSES_SHOWN`, by start date) and how
    many there are in all."""

    version: FundingSchemeVersion
    in_force: bool
    planned: bool
    classes: list[CourseClass] = field(default_factory=list)
    count: int = 0


@dataclass
class SchemeTimeline:
    """A scheme's versions, newest first, and the classes under it that start before its first
    version (which no version's figures cover)."""

    versions: list[VersionClasses]
    before_first: list[CourseClass] = field(default_factory=list)


def scheme_classes_statement(scheme: FundingScheme):  # type: ignore[no-untyped-def]
    """The classes under ``scheme``, through their course's list or their own."""
    by_course = select(course_funding_schemes.c.course_id).where(
        course_funding_schemes.c.scheme_id == scheme.id
    )
    by_class = select(class_funding_schemes.c.class_id).where(
        class_funding_schemes.c.scheme_id == scheme.id
    )
    return select(CourseClass).where(
        (CourseClass.funding_override.is_(False) & CourseClass.course_id.in_(by_course))
        | (CourseClass.funding_override.is_(True) & CourseClass.id.in_(by_class))
    )


def scheme_timeline(scheme: FundingScheme, today: date) -> SchemeTimeline:
    """The versions of ``scheme`` (newest first), each with the classes whose start date puts
    them under it: three queries."""
    versions = list(
        db.session.scalars(
            select(FundingSchemeVersion)
            .where(FundingSchemeVersion.scheme_id == scheme.id)
            .order_by(FundingSchemeVersion.effective_from)
        )
    )
    current = version_in_force(versions, today)
    entries = {
        v.id: VersionClasses(v, in_force=v is current, planned=v.effective_from > today)
        for v in versions
    }
    timeline = SchemeTimeline(versions=[entries[v.id] for v in reversed(versions)])
    statement = (
        scheme_classes_statement(scheme)
        .options(selectinload(CourseClass.course))
        .order_by(CourseClass.starts_on, CourseClass.code)
    )
    for course_class in db.session.scalars(statement):
        version = version_in_force(versions, course_class.starts_on)
        if version is None:
            timeline.before_first.append(course_class)
            continue
        entry = entries[version.id]
        entry.count += 1
        if len(entry.classes) < CLASSES_SHOWN:
            entry.classes.append(course_class)
    return timeline


def changed_figures(before: SchemeFigures | None, after: SchemeFigures) -> list[str]:
    """The names of the figures that differ between ``before`` and ``after`` (every one when
    there is no ``before``)."""
    return [
        f.name
        for f in fields(SchemeFigures)
        if before is None or _normal(getattr(before, f.name)) != _normal(getattr(after, f.name))
    ]


def _normal(value: object) -> object:
    if isinstance(value, str):
        return value.strip() or None
    return value
