"""Recording assessment results: a score from 0 to 100 and a pass or fail per learner.

Rules kept here, whatever the path: results are recorded only for a class that requires an
assessment and is not completed or cancelled, by its trainers or an admin, and only for
learners confirmed in it. A score has at most two decimals and needs a pass or fail; a pass or
fail alone is allowed; one invalid entry saves nothing; every change is in the audit log.

Functions flush but never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from .. import permissions
from ..extensions import db
from ..models import CourseClass, Enrolment, User
from . import audit
from . import enrolment as enrolment_service
from .errors import PermissionDenied
from .rosters import ClassFinished, NotOnRoster, RosterRefused, roster_enrolments, roster_members

MAX_SCORE = Decimal("100")
_CENTS = Decimal("0.01")


class NoAssessment(RosterRefused):
    default_message = _l("This class has no assessment, so there are no results to record.")


class InvalidResults(RosterRefused):
    """One or more results are invalid; ``errors`` maps form field names to messages."""

    default_message = _l("Some results are not valid: correct the fields marked below.")

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__()
        self.errors = errors


@dataclass(frozen=True)
class ResultEntry:
    """What was entered for one learner: a score (text as typed, or a number) and whether
    they passed; ``None`` for nothing entered. Anything but ``True``, ``False`` or ``None``
    for ``passed`` is refused."""

    score: str | Decimal | int | float | None = None
    passed: bool | str | None = None


@dataclass(frozen=True)
class ResultChange:
    enrolment_id: int
    learner_id: int
    old_score: Decimal | None
    old_passed: bool | None
    new_score: Decimal | None
    new_passed: bool | None


def score_field(enrolment_id: int) -> str:
    """The name of the results form's score input for an enrolment."""
    return f"score-{enrolment_id}"


def passed_field(enrolment_id: int) -> str:
    """The name of the results form's pass-or-fail input for an enrolment."""
    return f"passed-{enrolment_id}"


def parse_score(value: str | Decimal | int | float | None) -> Decimal | None:
    """A score from 0 to 100 with at most two decimals, or ``None`` for nothing entered.

    Raises ``ValueError`` with a message for the user.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(_l("Enter the score as a number from 0 to 100, such as 72.5."))
    text = str(value).strip()
    if not text:
        return None
    try:
        score = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(_l("Enter the score as a number from 0 to 100, such as 72.5.")) from error
    if not score.is_finite():
        raise ValueError(_l("Enter the score as a number from 0 to 100, such as 72.5."))
    if score < 0 or score > MAX_SCORE:
        raise ValueError(_l("The score must be from 0 to 100."))
    if score != score.quantize(_CENTS):
        raise ValueError(_l("Give the score with at most two decimal places."))
    return score.quantize(_CENTS)


def result_refusal(course_class: CourseClass) -> RosterRefused | None:
    """Why results cannot be recorded for the class now, or ``None`` when they can."""
    if not course_class.assessment_required:
        return NoAssessment()
    if course_class.is_finished:
        return ClassFinished()
    return None


def result_rows(course_class: CourseClass) -> list[Enrolment]:
    """The learners on the roster, by name, for the results page; in one query."""
    return roster_enrolments(course_class)


def record_results(
    actor: User,
    course_class: CourseClass,
    results: Mapping[int, ResultEntry],
    *,
    now: datetime | None = None,
) -> list[ResultChange]:
    """Record assessment results: ``results`` maps enrolment ids to a score from 0 to 100
    (two decimals at most; empty for none) and pass or fail.

    A score needs a pass or fail; a pass or fail alone (an assessment without a score) is
    allowed, and an entry with neither clears the result. Only for a class that requires an
    assessment and is not completed or cancelled, by its trainers or an admin, and only for
    learners confirmed in it. One invalid entry saves nothing. Each change is audited.

    Returns the changes. Raises :class:`PermissionDenied`, :class:`NoAssessment`,
    :class:`ClassFinished`, :class:`NotOnRoster`, or :class:`InvalidResults` whose
    ``errors`` name the fields (``score-<id>``, ``passed-<id>``) at fault.
    """
    if not permissions.can_manage_class(actor, course_class):
        raise PermissionDenied()
    locked = enrolment_service.lock_class(course_class.id)
    refusal = result_refusal(locked)
    if refusal is not None:
        raise refusal
    ids = {int(enrolment_id) for enrolment_id in results}
    members = roster_members(locked, ids)
    if ids - set(members):
        raise NotOnRoster()
    errors: dict[str, Any] = {}
    parsed: dict[int, tuple[Decimal | None, bool | None]] = {}
    for enrolment_id, entry in results.items():
        enrolment_id = int(enrolment_id)
        try:
            score = parse_score(entry.score)
        except ValueError as error:
            errors[score_field(enrolment_id)] = error.args[0]
            continue
        if entry.passed not in (None, True, False):
            errors[passed_field(enrolment_id)] = _l("Choose pass or fail.")
            continue
        if score is not None and entry.passed is None:
            errors[passed_field(enrolment_id)] = _l("Choose pass or fail for this score.")
            continue
        parsed[enrolment_id] = (score, bool(entry.passed) if entry.passed is not None else None)
    if errors:
        raise InvalidResults(errors)

    changes: list[ResultChange] = []
    for enrolment_id, (score, passed) in sorted(parsed.items()):
        enrolment = members[enrolment_id]
        if enrolment.result_score == score and enrolment.result_passed is passed:
            continue
        change = ResultChange(
            enrolment_id,
            enrolment.learner_id,
            enrolment.result_score,
            enrolment.result_passed,
            score,
            passed,
        )
        enrolment.result_score = score
        enrolment.result_passed = passed
        changes.append(change)
        audit.record(
            actor,
            "enrolment.result_recorded",
            enrolment,
            f"result in {locked.code}: {_describe_result(change.old_score, change.old_passed)}"
            f" -> {_describe_result(score, passed)}",
            {
                "class_id": locked.id,
                "learner_id": enrolment.learner_id,
                "from": {"score": change.old_score, "passed": change.old_passed},
                "to": {"score": score, "passed": passed},
            },
        )
    db.session.flush()
    return changes


def _describe_result(score: Decimal | None, passed: bool | None) -> str:
    if score is None and passed is None:
        return "none"
    verdict = "" if passed is None else ("pass" if passed else "fail")
    return " ".join(part for part in (str(score) if score is not None else "", verdict) if part)
