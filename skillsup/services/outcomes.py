"""An enrolment's outcome when its class closes: completed, or not completed and why.

The rule: a confirmed learner completes the class when their attendance rate for completion
(:mod:`.attendance_rate`: contact hours, excused sessions left out, a session never marked
counting as missed) reaches the class's minimum and, where the class requires an assessment,
they passed it. Otherwise they do not complete, for every reason that applies.

The reasons are kept as codes with their figures (:mod:`skillsup.reasons`): closing records
them as the enrolment's status reasons and in its history (:func:`recorded_reasons`), and
every page, e-mail and export words them in its reader's language (:func:`reasons_text`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..models import CourseClass, Enrolment
from ..reasons import (
    ASSESSMENT_FAILED,
    ATTENDANCE_BELOW_MINIMUM,
    NO_ASSESSMENT_RESULT,
    NO_ATTENDANCE_COUNTED,
    Reason,
    percent,
    reason,
    render,
)
from .progress import AttendanceStanding, standings
from .rosters import LearnerRow


def outcome_reasons(
    course_class: CourseClass, enrolment: Enrolment, standing: AttendanceStanding
) -> list[Reason]:
    """Why the learner does not complete the class, as reasons (codes with their figures);
    empty when they complete it."""
    reasons: list[Reason] = []
    if not standing.meets_minimum:
        minimum = course_class.min_attendance_pct / 100
        if standing.rate is None:
            reasons.append(reason(NO_ATTENDANCE_COUNTED, minimum=minimum))
        else:
            reasons.append(
                reason(ATTENDANCE_BELOW_MINIMUM, rate=round(standing.rate, 4), minimum=minimum)
            )
    if course_class.assessment_required:
        if enrolment.result_passed is None:
            reasons.append(reason(NO_ASSESSMENT_RESULT))
        elif enrolment.result_passed is False:
            reasons.append(reason(ASSESSMENT_FAILED))
    return reasons


def reasons_text(reasons: Iterable[Reason] | None) -> str:
    """Reasons (as kept on an enrolment, or as :func:`outcome_reasons` gives them) as one
    text in the reader's language, sentence after sentence; ``""`` for none."""
    return render(list(reasons or ()))


@dataclass(frozen=True)
class Outcome(LearnerRow):
    """What closing the class records for one learner, and why."""

    enrolment: Enrolment
    standing: AttendanceStanding
    completes: bool
    reasons: tuple[Reason, ...]

    @property
    def attendance_text(self) -> str:
        """The attendance rate as the reasons give it (one decimal), or a dash."""
        rate = self.standing.rate
        return "—" if rate is None else percent(rate)

    @property
    def why(self) -> str:
        """Why the learner does not complete, in the reader's language; empty if they do."""
        return reasons_text(self.reasons)


def outcome_of(
    course_class: CourseClass, enrolment: Enrolment, standing: AttendanceStanding
) -> Outcome:
    """The outcome of one confirmed enrolment of the class, given its attendance standing."""
    reasons = outcome_reasons(course_class, enrolment, standing)
    return Outcome(enrolment, standing, not reasons, tuple(reasons))


def class_outcomes(course_class: CourseClass, enrolments: list[Enrolment]) -> list[Outcome]:
    """The outcome of each of the class's confirmed ``enrolments``, in their order; three
    queries whatever their number."""
    standing_of = standings([e.id for e in enrolments])
    return [
        outcome_of(course_class, enrolment, standing_of.get(enrolment.id, AttendanceStanding()))
        for enrolment in enrolments
    ]


def recorded_reasons(outcome: Outcome) -> list[Reason]:
    """The reasons closing records for a learner who does not complete (codes with their
    figures, worded by each reader in their language)."""
    return list(outcome.reasons)
