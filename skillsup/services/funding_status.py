"""Each enrolment's live status under its funding schemes: met, on track, at risk or lost.

Worked out from the attendance and results recorded so far and the sessions still to come,
never stored: a mark, a result, a session added or cancelled shows at once. The rule, per
enrolment and per scheme its class runs under (:func:`.funding_schemes.class_funding`):

- **Which enrolments.** Confirmed ones, and those of a closed class (completed or not
  completed). Pending, waitlisted, rejected, withdrawn and cancelled enrolments have no
  status; nor has a class under a scheme it starts before the first version of.
- **The minimum** is the version's minimum attendance, or the class's own minimum when that
  is higher and the version says the class's rules apply. A minimum of 0 sets no attendance
  condition.
- **The assessment** is needed when the version requires one, or when the class has one and
  the version says the class's rules apply. It is passed when the score reaches the version's
  pass mark (where a score is recorded and the version has a pass mark), otherwise when the
  trainer recorded a pass; failed when a result is recorded that does not pass.
- **Attendance** is the one rule of :mod:`.attendance_rate`, through :mod:`.progress`: contact
  hours, present and late attended, absent counted against, excused and cancelled sessions
  left out. The *remaining* sessions are the class's sessions not cancelled that the learner
  has no mark for yet, in order of start, while the class is not completed or cancelled; once
  it is, nothing remains and a session never marked counts as missed.

The states, the first that applies:

- **LOST**: the minimum cannot be reached even by attending every remaining session (for a
  finished class: the rate for completion fell short of it, or no hour could be counted); or
  the assessment is needed and was failed (as recorded: a re-mark that records a pass changes
  the status back), or the class finished without a result, or the class has no assessment.
- **MET**: the rate for completion (over all the class's countable hours, a session not yet
  marked counting as missed) reaches the minimum, and the assessment, if needed, is passed.
- **AT_RISK**: missing the next remaining session would leave less than one session of slack.
  The slack is the hours of remaining sessions the learner may still miss and reach the
  minimum: attended hours + remaining hours − minimum × counted hours. At risk when the slack
  less the next session's hours is below the hours of the session after it (0 when there is
  none). The learner is told the next N sessions still to begin, in order, whose hours with
  those attended (and those held but not yet marked, which count as possible) reach the
  minimum: attending them meets the attendance condition. When the sessions held but not yet
  marked could reach it alone, none is named and the reason says the status waits for marks.
- **ON_TRACK**: otherwise, an assessment still to come included.

Each status carries its reasons as codes with figures (:mod:`skillsup.reasons`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select

from ..extensions import db
from ..models import (
    FINISHED_STATUSES,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    FundingScheme,
    FundingSchemeVersion,
    FundingState,
)
from ..models.types import utcnow
from ..reasons import (
    ASSESSMENT_FAILED,
    ATTENDANCE_BELOW_MINIMUM,
    ATTENDANCE_OUT_OF_REACH,
    AWAITING_MARKS,
    CLASS_HAS_NO_ASSESSMENT,
    MUST_ATTEND_NEXT_SESSIONS,
    NO_ASSESSMENT_RESULT,
    NO_ATTENDANCE_COUNTED,
    SCORE_BELOW_MARK_NEEDED,
    Reason,
    reason,
)
from .attendance_rate import attendance_rate
from .funding_schemes import ClassScheme, class_funding, loaded_class_funding
from .progress import AttendanceStanding, UnmarkedSession, standings

#: The enrolments that have a status under their schemes.
WITH_STATUS = (EnrolmentStatus.CONFIRMED, EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)
# Hours and rates are floats: a hair's tolerance, as in :mod:`.progress`.
_EPSILON = 1e-9


@dataclass(frozen=True)
class SessionToAttend:
    """A session the learner is told to attend to keep a scheme's minimum."""

    id: int
    starts_at: datetime


@dataclass(frozen=True)
class ClassRules:
    """What of a class its enrolments' statuses depend on."""

    min_attendance_pct: int
    assessment_required: bool
    finished: bool


@dataclass(frozen=True)
class SchemeStatus:
    """One enrolment's status under one scheme, and why.

    ``minimum_pct`` is the minimum attendance that applies; ``standing`` the enrolment's
    attendance against it (its ``minimum_pct`` set to it); ``must_attend`` the sessions to
    attend, when at risk; ``reasons`` why it is lost or at risk, or what it still waits for.
    """

    enrolment_id: int
    scheme: FundingScheme
    version: FundingSchemeVersion
    state: FundingState
    minimum_pct: int
    assessment_needed: bool
    standing: AttendanceStanding
    must_attend: tuple[SessionToAttend, ...] = ()
    reasons: tuple[Reason, ...] = ()


def enrolment_statuses(enrolment_ids: Iterable[int]) -> dict[int, list[SchemeStatus]]:
    """The status of each enrolment under each scheme its class runs under, by scheme code;
    an enrolment with no status (see the module's rule) maps to an empty list. Eight queries
    whatever the number of enrolments."""
    ids = set(enrolment_ids)
    result: dict[int, list[SchemeStatus]] = {enrolment_id: [] for enrolment_id in ids}
    if not ids:
        return result
    rows = db.session.execute(
        select(
            Enrolment.id,
            Enrolment.class_id,
            Enrolment.result_score,
            Enrolment.result_passed,
            CourseClass.min_attendance_pct,
            CourseClass.assessment_required,
            CourseClass.status,
        )
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .where(Enrolment.id.in_(ids), Enrolment.status.in_(WITH_STATUS))
    ).all()
    if not rows:
        return result
    places = [
        _Place(row.id, row.class_id, row.result_score, row.result_passed, _rules(row))
        for row in rows
    ]
    schemes_of = class_funding({place.class_id for place in places})
    return result | _statuses(places, schemes_of, standings([place.id for place in places]))


def loaded_enrolment_statuses(
    enrolments: Sequence[Enrolment], standing_of: Mapping[int, AttendanceStanding]
) -> dict[int, list[SchemeStatus]]:
    """As :func:`enrolment_statuses`, for enrolments loaded with their classes whose
    standings the caller has worked out (:func:`.progress.loaded_standings`): three queries.
    Only the enrolments with a status are listed."""
    with_status = [e for e in enrolments if e.status in WITH_STATUS]
    places = [
        _Place(e.id, e.class_id, e.result_score, e.result_passed, _rules(e.course_class))
        for e in with_status
    ]
    schemes_of = loaded_class_funding(e.course_class for e in with_status)
    return {e.id: [] for e in with_status} | _statuses(places, schemes_of, standing_of)


@dataclass(frozen=True)
class _Place:
    """What an enrolment's statuses are worked out from, beside its schemes and standing."""

    id: int
    class_id: int
    result_score: Decimal | None
    result_passed: bool | None
    rules: ClassRules


class _ClassFacts(Protocol):
    """What a class's rules are read from: a class, or a row with its columns by name."""

    @property
    def min_attendance_pct(self) -> int: ...

    @property
    def assessment_required(self) -> bool: ...

    @property
    def status(self) -> ClassStatus: ...


def _rules(course_class: _ClassFacts) -> ClassRules:
    """The class's own rules that its schemes may apply: the minimum attendance, whether an
    assessment is required, and whether the class is over (its results final)."""
    return ClassRules(
        int(course_class.min_attendance_pct),
        bool(course_class.assessment_required),
        course_class.status in FINISHED_STATUSES,
    )


def _statuses(
    places: list[_Place],
    schemes_of: Mapping[int, list[ClassScheme]],
    standing_of: Mapping[int, AttendanceStanding],
) -> dict[int, list[SchemeStatus]]:
    result: dict[int, list[SchemeStatus]] = {}
    for place in places:
        result[place.id] = [
            scheme_status(
                place.id,
                class_scheme.scheme,
                class_scheme.version,
                place.rules,
                standing_of.get(place.id, AttendanceStanding()),
                place.result_score,
                place.result_passed,
            )
            for class_scheme in schemes_of.get(place.class_id, [])
            if class_scheme.version is not None
        ]
    return result


def class_statuses(course_class: CourseClass) -> dict[int, list[SchemeStatus]]:
    """The statuses of every enrolment of the class that has one (see
    :func:`enrolment_statuses`), by enrolment id; nine queries."""
    ids = db.session.scalars(
        select(Enrolment.id).where(
            Enrolment.class_id == course_class.id, Enrolment.status.in_(WITH_STATUS)
        )
    )
    return enrolment_statuses(list(ids))


def scheme_status(
    enrolment_id: int,
    scheme: FundingScheme,
    version: FundingSchemeVersion,
    rules: ClassRules,
    standing: AttendanceStanding,
    result_score: Decimal | None,
    result_passed: bool | None,
) -> SchemeStatus:
    """One enrolment's status under one scheme's ``version``, from its class's ``rules``, its
    attendance ``standing`` and its assessment result (the rule is the module's)."""
    minimum = version.min_attendance_pct
    if version.class_rules_apply:
        minimum = max(minimum, rules.min_attendance_pct)
    needs_assessment = version.assessment_required or (
        version.class_rules_apply and rules.assessment_required
    )
    remaining: list[UnmarkedSession] = [] if rules.finished else list(standing.unmarked)
    standing = replace(
        standing,
        minimum_pct=minimum,
        unmarked=remaining,
        unmarked_hours=sum(s.hours for s in remaining),
    )
    status = SchemeStatus(
        enrolment_id, scheme, version, FundingState.ON_TRACK, minimum, needs_assessment, standing
    )

    lost: list[Reason] = []
    attendance_met = minimum == 0 or standing.meets_minimum
    if not attendance_met:
        lost += _attendance_lost(standing, minimum, rules.finished)
    pending: list[Reason] = []
    if needs_assessment:
        verdict, why = _assessment(version, rules, result_score, result_passed)
        if verdict is False:
            lost += why
        elif verdict is None:
            pending += why
    if lost:
        return replace(status, state=FundingState.LOST, reasons=tuple(lost))
    if attendance_met and not pending:
        return replace(status, state=FundingState.MET)
    if not attendance_met:
        must_attend = _sessions_to_attend(standing, minimum, remaining)
        if must_attend is not None:
            to_do = (
                reason(MUST_ATTEND_NEXT_SESSIONS, count=len(must_attend), minimum=minimum / 100)
                if must_attend
                else reason(AWAITING_MARKS, minimum=minimum / 100)
            )
            return replace(
                status,
                state=FundingState.AT_RISK,
                must_attend=must_attend,
                reasons=(to_do, *pending),
            )
    return replace(status, reasons=tuple(pending))


def _attendance_lost(standing: AttendanceStanding, minimum: int, finished: bool) -> list[Reason]:
    """Why the attendance minimum is out of reach, or nothing while it can still be met."""
    best = standing.best_possible_rate
    if best is None:
        # No hour can be counted: only once the class is over is that final.
        return [reason(NO_ATTENDANCE_COUNTED, minimum=minimum / 100)] if finished else []
    if not standing.at_risk:  # progress's name for "the minimum can no longer be reached"
        return []
    if finished:
        return [reason(ATTENDANCE_BELOW_MINIMUM, rate=round(best, 4), minimum=minimum / 100)]
    return [reason(ATTENDANCE_OUT_OF_REACH, best=round(best, 4), minimum=minimum / 100)]


def _assessment(
    version: FundingSchemeVersion,
    rules: ClassRules,
    score: Decimal | None,
    passed: bool | None,
) -> tuple[bool | None, list[Reason]]:
    """Whether the assessment is passed (``True``), failed or out of reach (``False``) or
    still to come (``None``), with the reasons for the last two."""
    if not rules.assessment_required:
        return False, [reason(CLASS_HAS_NO_ASSESSMENT)]
    if score is not None and version.pass_mark_pct is not None:
        if score >= version.pass_mark_pct:
            return True, []
        return False, [
            reason(SCORE_BELOW_MARK_NEEDED, score=str(score), pass_mark=str(version.pass_mark_pct))
        ]
    if passed is True:
        return True, []
    if passed is False:
        return False, [reason(ASSESSMENT_FAILED)]
    if rules.finished:
        return False, [reason(NO_ASSESSMENT_RESULT)]
    return None, [reason(NO_ASSESSMENT_RESULT)]


def _has_begun(session: UnmarkedSession, now: datetime) -> bool:
    starts_at = session.starts_at
    return (starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=UTC)) <= now


def _sessions_to_attend(
    standing: AttendanceStanding, minimum: int, remaining: Sequence[UnmarkedSession]
) -> tuple[SessionToAttend, ...] | None:
    """The sessions still to begin that the learner must attend, when missing the next
    remaining session would leave less than one session of slack (the module's rule);
    ``None`` while there is more slack than that (not at risk).

    A session that has begun but has no mark yet cannot be attended any more: it waits for
    the trainer's mark and counts as possible, as in the rule; only sessions still to begin
    are named. When the marks still to come could reach the minimum alone, no session is
    named (an empty tuple): the status waits for those marks."""
    if not remaining:
        return None
    needed = minimum / 100 * standing.counted_hours
    slack = standing.attended_hours + standing.unmarked_hours - needed
    after_next = remaining[1].hours if len(remaining) > 1 else 0.0
    if slack - remaining[0].hours >= after_next - _EPSILON:
        return None
    now = utcnow()
    begun = [session for session in remaining if _has_begun(session, now)]
    sessions: list[SessionToAttend] = []
    attended = standing.attended_hours + sum(session.hours for session in begun)
    for session in remaining:
        if _has_begun(session, now):
            continue
        sessions.append(SessionToAttend(session.id, session.starts_at))
        attended += session.hours
        rate = attendance_rate(attended, standing.counted_hours)
        if rate is not None and rate * 100 + _EPSILON >= minimum:
            break
    return tuple(sessions)


def loaded_class_statuses(
    course_class: CourseClass,
    enrolments: Iterable[Enrolment],
    standing_of: Mapping[int, AttendanceStanding],
) -> dict[int, list[SchemeStatus]]:
    """The statuses of ``enrolments`` of ``course_class`` (those that have one), whose
    standings the caller has worked out already (:func:`.progress.class_standings`), by
    enrolment id: only :func:`.funding_schemes.loaded_class_funding`'s queries (at most
    three)."""
    chosen = [e for e in enrolments if e.status in WITH_STATUS]
    result: dict[int, list[SchemeStatus]] = {e.id: [] for e in chosen}
    if not chosen:
        return result
    schemes = loaded_class_funding([course_class]).get(course_class.id, [])
    rules = _rules(course_class)
    for enrolment in chosen:
        for class_scheme in schemes:
            if class_scheme.version is None:
                continue
            result[enrolment.id].append(
                scheme_status(
                    enrolment.id,
                    class_scheme.scheme,
                    class_scheme.version,
                    rules,
                    standing_of.get(enrolment.id, AttendanceStanding()),
                    enrolment.result_score,
                    enrolment.result_passed,
                )
            )
    return result
