"""What a committed change touches, told to the pages that are kept rendered.

A kept page (see :mod:`skillsup.kept`) names the *scopes* of data it shows: one class and
everything in it, one user and their enrolments, one company's staff and their training, one
course. Each scope has a *token* in the shared cache; a kept page is served only while the
tokens of its scopes are those it was rendered with. This module gives a scope a new token
whenever a commit changes something in it:

- a listener notes, at every flush, the scopes of the rows written (:func:`scopes_of`), including
  the scopes the rows were in before an update moved them (a learner's old company);
- after the commit, and only then, every noted scope gets a new token, so a page rendered from
  the data before the commit can no longer be served, and one rendered after it reads the
  committed data. A transaction rolled back renews nothing.

Changes written without the unit of work (a plain ``UPDATE`` of a class's seat count) come with
an enrolment written through it in the same transaction, which notes the class.

Tokens are random, never counters: a token that the cache has lost is replaced by a new one,
never by a value an old page could have been kept with.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..extensions import cache
from ..models import (
    Attendance,
    Certificate,
    ClassSession,
    CompanyDomain,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatusChange,
    PartnerCompany,
    SeatQuota,
    User,
    class_trainers,
    course_prerequisites,
)

log = logging.getLogger(__name__)

_NOTED = "skillsup.changed_scopes"
_SCOPE_KEY_PREFIX = "scope:"

#: Every company's name: shown beside learners on class rosters, whatever their company.
COMPANY_NAMES = "company-names"

#: What the kept pages show of a user: a change to anything else (their last login, their
#: e-mail preferences) leaves those pages as they were. The password counts only as whether
#: there is one (an invited employee who has not yet accepted has none); a change of it is rare.
_SHOWN_USER_FIELDS = (
    "name",
    "email",
    "department",
    "job_title",
    "staff_number",
    "company_id",
    "company",
    "role",
    "is_active",
    "deactivated_at",
    "email_confirmed_at",
    "password_hash",
)


def class_scope(class_id: int) -> str:
    return f"class:{class_id}"


def user_scope(user_id: int) -> str:
    """A user as others see them (name, role, company) and, for a learner, their enrolments:
    every kept page has its visitor's, so a change to who they are renders it afresh."""
    return f"user:{user_id}"


def company_scope(company_id: int) -> str:
    return f"company:{company_id}"


def course_scope(course_id: int) -> str:
    return f"course:{course_id}"


def _values(obj: Any, name: str) -> set[Any]:
    """The attribute's value now and, for an update, the one it had before."""
    history = sa.inspect(obj).attrs[name].history
    values = {*history.added, *history.unchanged, *history.deleted}
    values.discard(None)
    if not values:
        value = getattr(obj, name, None)
        if value is not None:
            values.add(value)
    return values


def _ids(obj: Any, column: str, relationship: str) -> set[int]:
    """The ids a foreign key holds and held, whether it was set directly or through its
    relationship (which leaves the column's own history without the old value)."""
    related = sa.inspect(obj).attrs[relationship].history
    return _values(obj, column) | {
        other.id for other in (*related.added, *related.deleted) if other is not None
    }


def _enrolment_scopes(enrolment: Enrolment) -> set[str]:
    return (
        {class_scope(i) for i in _ids(enrolment, "class_id", "course_class")}
        | {user_scope(i) for i in _ids(enrolment, "learner_id", "learner")}
        | {company_scope(i) for i in _values(enrolment, "company_id")}
    )


def _scopes_of_enrolment_id(session: Session, enrolment_id: int | None) -> set[str]:
    if enrolment_id is None:
        return set()
    # Usually in the session already (the change loaded it); else one primary-key query.
    with session.no_autoflush:
        enrolment = session.get(Enrolment, enrolment_id)
    return set() if enrolment is None else _enrolment_scopes(enrolment)


def _class_ids_of_course(session: Session, course_id: int) -> set[int]:
    return set(session.scalars(select(CourseClass.id).where(CourseClass.course_id == course_id)))


def _courses_requiring(session: Session, course_id: int) -> set[int]:
    statement = select(course_prerequisites.c.course_id).where(
        course_prerequisites.c.prerequisite_id == course_id
    )
    return set(session.scalars(statement))


def _learners_of_classes(session: Session, class_ids: set[int]) -> set[int]:
    if not class_ids:
        return set()
    statement = select(Enrolment.learner_id).where(Enrolment.class_id.in_(sorted(class_ids)))
    return set(session.scalars(statement))


def _classes_of_user(session: Session, user_id: int) -> set[int]:
    as_learner = select(Enrolment.class_id).where(Enrolment.learner_id == user_id)
    as_trainer = select(class_trainers.c.class_id).where(class_trainers.c.trainer_id == user_id)
    return set(session.scalars(as_learner.union(as_trainer)))


def _shown_fields_changed(user: User, is_new_or_deleted: bool) -> bool:
    if is_new_or_deleted:
        return True
    attrs = sa.inspect(user).attrs
    return any(attrs[name].history.has_changes() for name in _SHOWN_USER_FIELDS)


class Reach(NamedTuple):
    """What a written row touches: ``scopes``, and the classes whose learners see it (their
    scopes are looked up once per flush, for all such rows together)."""

    scopes: set[str]
    learners_of_classes: set[int]


def scopes_of(session: Session, obj: Any, *, is_new_or_deleted: bool) -> Reach:
    """The scopes whose pages show ``obj``: what a write of it makes stale.

    A class, a session of it or a course shows on the pages of every learner in it (their
    timetable, their withdrawal deadline), so a change to one of these also reaches the
    learners' own scopes; such changes are rare (an administrator's edit), while the frequent
    ones (enrolments, attendance, results) touch one class, one learner and one company. A
    change to who a user is (their name, role or company) touches them, their classes and their
    companies.
    """
    with session.no_autoflush:
        if isinstance(obj, Enrolment):
            return Reach(_enrolment_scopes(obj), set())
        if isinstance(obj, Attendance | Certificate | EnrolmentStatusChange):
            scopes: set[str] = set()
            for enrolment_id in _values(obj, "enrolment_id"):
                scopes |= _scopes_of_enrolment_id(session, enrolment_id)
            return Reach(scopes, set())
        if isinstance(obj, ClassSession | CourseClass):
            class_ids = _values(obj, "class_id" if isinstance(obj, ClassSession) else "id")
            scopes = {class_scope(i) for i in class_ids}
            if isinstance(obj, CourseClass):
                scopes |= {course_scope(i) for i in _values(obj, "course_id")}
            return Reach(scopes, class_ids)
        if isinstance(obj, Course):
            class_ids = _class_ids_of_course(session, obj.id)
            scopes = {course_scope(obj.id)} | {class_scope(i) for i in class_ids}
            # The pages of the courses that name it as a prerequisite show its title.
            scopes |= {course_scope(i) for i in _courses_requiring(session, obj.id)}
            return Reach(scopes, class_ids)
        if isinstance(obj, User):
            if not _shown_fields_changed(obj, is_new_or_deleted):
                return Reach(set(), set())
            scopes = {user_scope(obj.id)}
            scopes |= {company_scope(i) for i in _ids(obj, "company_id", "company")}
            if obj not in session.new:
                scopes |= {class_scope(i) for i in _classes_of_user(session, obj.id)}
            return Reach(scopes, set())
        if isinstance(obj, PartnerCompany):
            return Reach({company_scope(obj.id), COMPANY_NAMES}, set())
        if isinstance(obj, SeatQuota | CompanyDomain):
            return Reach({company_scope(i) for i in _values(obj, "company_id")}, set())
    return Reach(set(), set())


def _note_flushed(session: Session, _flush_context: Any) -> None:
    noted: set[str] = session.info.setdefault(_NOTED, set())
    written = [(obj, True) for obj in (*session.new, *session.deleted)] + [
        (obj, False) for obj in session.dirty if session.is_modified(obj, include_collections=True)
    ]
    learners_of_classes: set[int] = set()
    for obj, is_new_or_deleted in written:
        reach = scopes_of(session, obj, is_new_or_deleted=is_new_or_deleted)
        noted |= reach.scopes
        learners_of_classes |= reach.learners_of_classes
    with session.no_autoflush:
        learners = _learners_of_classes(session, learners_of_classes)
    noted |= {user_scope(i) for i in learners}


def _renew_after_commit(session: Session) -> None:
    # Releasing a savepoint counts as a commit too; only the outermost commit is final.
    if session.get_nested_transaction() is not None:
        return
    noted = session.info.pop(_NOTED, None)
    if noted:
        renew(noted)


def _forget_after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_NOTED, None)


def renew(scopes: Iterable[str]) -> None:
    """Give each scope a new token: every page kept with the old one is stale.

    When the cache cannot be reached the pages kept in it cannot be served either (reading them
    fails the same way); a cache that comes back serves none of them for longer than they are
    kept (``PAGE_CACHE_SECONDS``).
    """
    tokens = {_SCOPE_KEY_PREFIX + scope: secrets.token_hex(8) for scope in scopes}
    if not tokens:
        return
    try:
        cache.set_many(tokens, timeout=0)
    except Exception:
        log.error("cache unavailable: kept pages of %s may be stale", sorted(scopes), exc_info=True)


def tokens(scopes: Iterable[str]) -> dict[str, str] | None:
    """The current token of each scope, giving one to a scope that has none; ``None`` when
    the cache cannot be reached."""
    names = sorted(set(scopes))
    keys = [_SCOPE_KEY_PREFIX + scope for scope in names]
    try:
        values = cache.get_many(*keys) if keys else []
        missing = [key for key, value in zip(keys, values, strict=True) if not value]
        if missing:
            # Another process may give one at the same moment: the token kept is the first.
            for key in missing:
                cache.add(key, secrets.token_hex(8), timeout=0)
            values = cache.get_many(*keys)
    except Exception:
        log.warning("cache unavailable, pages rendered afresh", exc_info=True)
        return None
    if any(not value for value in values):
        return None
    return dict(zip(names, values, strict=True))


def install(session_factory: Any) -> None:
    """Track the changes of every session that ``session_factory`` makes."""
    if not event.contains(session_factory, "after_flush", _note_flushed):
        event.listen(session_factory, "after_flush", _note_flushed)
        event.listen(session_factory, "after_commit", _renew_after_commit)
        event.listen(session_factory, "after_soft_rollback", _forget_after_rollback)
