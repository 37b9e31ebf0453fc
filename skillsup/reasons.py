"""Reasons: why an enrolment, a class or a certificate is where it is.

A reason is kept as a code with its figures, never as a sentence, so that each reader sees it
in their own language: ``{"code": "attendance_below_minimum", "args": {"rate": 0.5,
"minimum": 0.8}}``. A record keeps a list of them (a learner may miss the attendance minimum
and fail the assessment), in the order they are told. What a person typed (an admin's reason
for cancelling a class, an HR officer's for a rejection) is kept as it was typed, under the
code :data:`FREE_TEXT`.

This module is the one home of their wording: :func:`render` words a list of reasons in the
current locale (figures such as percentages and times formatted for it). Services build
reasons with the helpers below; pages, e-mails and exports word them with :func:`render`
(the ``reasons`` template filter).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import lazy_gettext as _l

from .i18n import fmt_datetime

#: One reason as it is stored: ``{"code": ..., "args": {...}}``.
Reason = dict[str, Any]

#: What a person typed, kept as typed: ``text``.
FREE_TEXT = "free_text"
#: The attendance rate fell short of the class's minimum: ``rate`` and ``minimum``, fractions.
ATTENDANCE_BELOW_MINIMUM = "attendance_below_minimum"
#: No session could be counted, so no rate reaches the ``minimum`` (a fraction).
NO_ATTENDANCE_COUNTED = "no_attendance_counted"
#: The class requires an assessment and none was recorded.
NO_ASSESSMENT_RESULT = "no_assessment_result"
#: The class requires an assessment and the learner failed it.
ASSESSMENT_FAILED = "assessment_failed"
#: An admin placed a learner whose company approves enrolments without that approval.
PLACED_WITHOUT_APPROVAL = "placed_without_approval"
#: An admin enrolled a learner after the class's last session ended (``ended_at``, UTC ISO).
ENROLLED_AFTER_END = "enrolled_after_end"
#: A seat became free and the learner moved up from the waitlist.
PROMOTED_FROM_WAITLIST = "promoted_from_waitlist"
#: The class was closed while the learner was still waiting (pending or waitlisted).
CLASS_COMPLETED = "class_completed"
#: A certificate withdrawn because its class was reopened.
CLASS_REOPENED = "class_reopened"

#: Under a funding scheme: even attending every remaining session, attendance can reach at
#: most ``best`` of the ``minimum`` (fractions).
ATTENDANCE_OUT_OF_REACH = "attendance_out_of_reach"
#: Under a funding scheme: the minimum (a fraction) is reached only by attending the next
#: ``count`` sessions.
MUST_ATTEND_NEXT_SESSIONS = "must_attend_next_sessions"
#: Under a funding scheme: the minimum (a fraction) is reached only if the sessions held but
#: not yet marked are marked attended.
AWAITING_MARKS = "awaiting_marks"
#: Under a funding scheme: the assessment ``score`` is below the scheme's ``pass_mark`` (both
#: out of 100, as text).
SCORE_BELOW_MARK_NEEDED = "score_below_mark_needed"
#: The funding scheme requires a passed assessment, and the class has none.
CLASS_HAS_NO_ASSESSMENT = "class_has_no_assessment"

_WORDING: dict[str, Any] = {
    ATTENDANCE_BELOW_MINIMUM: _l("Attendance %(rate)s is below the %(minimum)s minimum."),
    NO_ATTENDANCE_COUNTED: _l("No attendance can be counted against the %(minimum)s minimum."),
    NO_ASSESSMENT_RESULT: _l("No assessment result recorded."),
    ASSESSMENT_FAILED: _l("Assessment failed."),
    PLACED_WITHOUT_APPROVAL: _l("Placed by an admin without the company's HR approval."),
    ENROLLED_AFTER_END: _l("Enrolled after the last session ended (%(ended)s)."),
    PROMOTED_FROM_WAITLIST: _l("A seat became free: moved up from the waitlist."),
    CLASS_COMPLETED: _l("The class has been closed."),
    CLASS_REOPENED: _l("Withdrawn: the class was reopened."),
    ATTENDANCE_OUT_OF_REACH: _l(
        "Even attending every remaining session, attendance can reach at most %(best)s, below"
        " the %(minimum)s minimum."
    ),
    MUST_ATTEND_NEXT_SESSIONS: (
        _l("To reach the %(minimum)s minimum, attend the next session."),
        _l("To reach the %(minimum)s minimum, attend each of the next %(count)s sessions."),
    ),
    AWAITING_MARKS: _l(
        "The %(minimum)s minimum is reached only if the sessions held but not yet marked are"
        " marked attended."
    ),
    SCORE_BELOW_MARK_NEEDED: _l(
        "The assessment score %(score)s is below the pass mark of %(pass_mark)s."
    ),
    CLASS_HAS_NO_ASSESSMENT: _l("The scheme needs a passed assessment, and this class has none."),
}

#: Every code that :func:`render` words (free text included).
CODES = frozenset(_WORDING) | {FREE_TEXT}


def reason(code: str, **args: Any) -> Reason:
    """One reason: ``code`` (one of :data:`CODES`) with its figures, JSON values only."""
    if code not in CODES:
        raise ValueError(f"unknown reason code {code!r}")
    return {"code": code, "args": args}


def free_text(text: str | None) -> list[Reason]:
    """What a person typed, as a list of reasons: empty when they typed nothing."""
    cleaned = (text or "").strip()
    return [reason(FREE_TEXT, text=cleaned)] if cleaned else []


def enrolled_after_end(ended_at: datetime) -> Reason:
    """The reason an admin's enrolment after the last session (which ended at ``ended_at``)
    is kept with."""
    return reason(ENROLLED_AFTER_END, ended_at=ended_at.astimezone(UTC).isoformat())


def or_none(reasons: Iterable[Reason]) -> list[Reason] | None:
    """The reasons as a record keeps them: ``None`` rather than an empty list."""
    kept = list(reasons)
    return kept or None


def free_text_of(reasons: Sequence[Mapping[str, Any]] | None) -> str:
    """The typed part of ``reasons`` (for the audit log's plain details), or ``""``."""
    return " ".join(
        str(item.get("args", {}).get("text", ""))
        for item in reasons or ()
        if item.get("code") == FREE_TEXT
    )


# ---------------------------------------------------------------------------------------------
# Wording, in the reader's language


def percent(value: float) -> str:
    """A rate as reasons give it: one decimal at most, so that 79.5 % is not shown as the
    80 % it falls short of."""
    return str(format_percent(value, "#,##0.#%"))


def render_one(item: Mapping[str, Any]) -> str:
    """One stored reason in the current locale. An unknown code (from a newer release, or a
    damaged row) shows as its text, if it has one, rather than failing the page."""
    code = item.get("code")
    args = item.get("args") or {}
    if code == FREE_TEXT or code not in _WORDING:
        return str(args.get("text") or "")
    try:
        if code in (
            ATTENDANCE_BELOW_MINIMUM,
            NO_ATTENDANCE_COUNTED,
            ATTENDANCE_OUT_OF_REACH,
            AWAITING_MARKS,
        ):
            figures = {
                name: percent(float(args[name]))
                for name in ("rate", "minimum", "best")
                if name in args
            }
            return str(_WORDING[code] % figures)
        if code == MUST_ATTEND_NEXT_SESSIONS:
            count = int(args["count"])
            one, many = _WORDING[code]
            return str(
                (one if count == 1 else many)
                % {"minimum": percent(float(args["minimum"])), "count": count}
            )
        if code == SCORE_BELOW_MARK_NEEDED:
            return str(
                _WORDING[code]
                % {
                    "score": format_decimal(Decimal(str(args["score"]))),
                    "pass_mark": format_decimal(Decimal(str(args["pass_mark"]))),
                }
            )
        if code == ENROLLED_AFTER_END:
            # Formatted in Hong Kong time, the portal's zone.
            ended = datetime.fromisoformat(str(args["ended_at"]))
            return str(_WORDING[code] % {"ended": fmt_datetime(ended, "short")})
        return str(_WORDING[code])
    except (KeyError, TypeError, ValueError):
        return str(args.get("text") or "")


def render(reasons: Sequence[Mapping[str, Any]] | str | None) -> str:
    """A record's reasons as one text in the current locale, sentence after sentence; ``""``
    for none. A plain string (an audit entry written before reasons had codes) is shown as
    it is."""
    if not reasons:
        return ""
    if isinstance(reasons, str):
        return reasons
    parts = [text for text in (render_one(item) for item in reasons) if text]
    locale = str(get_locale() or "en")
    # Chinese sentences end with a full-width stop and run on without a space.
    separator = "" if locale.startswith("zh") else " "
    return separator.join(parts)
