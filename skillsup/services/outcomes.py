"""An enrolment's outcome when its class closes: completed, or not completed and why.

The rule: a confirmed learner completes the class when their attendance rate for completion
(:mod:`.attendance_rate`: contact hours, excused sessions left out, a session never marked
counting as missed) reaches the class's minimum and, where the class requires an assessment,
they passed it. Otherwise they do not complete, for every reason that applies.

This module is also the one place where those reasons are worded. The closing page shows them
in the reader's language (:attr:`Outcome.why`); closing keeps them in English as the
enrolment's status reason and in its history (:func:`recorded_reason`), which the roster, My
learning, the staff record and the admin's class page show as recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale, format_percent
from flask_babel import lazy_gettext as _l

from ..models import CourseClass, Enrolment
from .progress import AttendanceStanding, standings
from .rosters import LearnerRow


def _percent(value: float) -> str:
    # One decimal at most, so that 79.5 % is not shown as the 80 % it falls short of.
    return str(format_percent(value, "#,##0.#%"))


def outcome_reasons(
    course_class: CourseClass, enrolment: Enrolment, standing: AttendanceStanding
) -> tuple[Any, ...]:
    """Why the learner does not complete the class, in the reader's language (the rates are
    formatted now, the words when shown); empty when they complete it."""
    reasons: list[Any] = []
    if not standing.meets_minimum:
        rate = standing.rate
        minimum = _percent(course_class.min_attendance_pct / 100)
        if rate is None:
            reasons.append(
                _l("No attendance can be counted against the %(minimum)s minimum.", minimum=minimum)
            )
        else:
            reasons.append(
                _l(
                    "Attendance %(rate)s is below the %(minimum)s minimum.",
                    rate=_percent(rate),
                    minimum=minimum,
                )
            )
    if course_class.assessment_required:
        if enrolment.result_passed is None:
            reasons.append(_l("No assessment result recorded."))
        elif enrolment.result_passed is False:
            reasons.append(_l("Assessment failed."))
    return tuple(reasons)


def reasons_text(reasons: Iterable[Any]) -> str:
    """The reasons as one text, sentence after sentence."""
    return " ".join(str(reason) for reason in reasons)


@dataclass(frozen=True)
class Outcome(LearnerRow):
    """What closing the class records for one learner, and why."""

    enrolment: Enrolment
    standing: AttendanceStanding
    completes: bool
    reasons: tuple[Any, ...]

    @property
    def attendance_text(self) -> str:
        """The attendance rate as the reasons give it (one decimal), or a dash."""
        rate = self.standing.rate
        return "—" if rate is None else _percent(rate)

    @property
    def why(self) -> str:
        """Why the learner does not complete, in the reader's language; empty if they do."""
        return reasons_text(self.reasons)


def outcome_of(
    course_class: CourseClass, enrolment: Enrolment, standing: AttendanceStanding
) -> Outcome:
    """The outcome of one confirmed enrolment of the class, given its attendance standing."""
    reasons = outcome_reasons(course_class, enrolment, standing)
    return Outcome(enrolment, standing, not reasons, reasons)


def class_outcomes(course_class: CourseClass, enrolments: list[Enrolment]) -> list[Outcome]:
    """The outcome of each of the class's confirmed ``enrolments``, in their order; three
    queries whatever their number."""
    standing_of = standings([e.id for e in enrolments])
    return [
        outcome_of(course_class, enrolment, standing_of.get(enrolment.id, AttendanceStanding()))
        for enrolment in enrolments
    ]


def recorded_reason(course_class: CourseClass, outcome: Outcome) -> str:
    """The reasons as closing records them for a learner who does not complete: in English,
    like every reason in an enrolment's history (pages show their own words)."""
    with force_locale("en"):
        # Worded afresh: the rates in ``outcome.reasons`` are formatted in the reader's language.
        return reasons_text(outcome_reasons(course_class, outcome.enrolment, outcome.standing))
