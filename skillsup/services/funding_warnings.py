"""Warnings, by e-mail, when an enrolment's status under a funding scheme falls to at risk or
to lost (:mod:`.funding_status`), to the learner and their company's HR officers.

**When.** The periodic ``flask send-reminders`` run finds the falls, not the changes that
cause them. A status moves with an attendance mark, a result, a session added, moved or
cancelled, a class's minimum, a scheme's figures or a class's list of schemes: many places,
some of which change a whole class at once. The run compares every status with the one last
warned of, in one place and a fixed number of queries for all, and a trainer who corrects a
sheet minutes after saving it alarms nobody. The cost is a delay of one run (minutes).

**The rule.**

- *Which enrolments*: the confirmed ones of running classes (as the attendance warnings),
  under the schemes that pay someone (not "company-sponsored, without a scheme").
- *A fall* is to LOST, or to AT_RISK once the learner has missed some hours. A class so short
  that missing any one session would leave no session to spare is at risk from its start:
  the learner sees that on their page, and is not sent a warning of a risk they have not taken.
- *Once per fall*: the state warned of is recorded (:class:`~skillsup.models.FundingWarning`)
  with the number of falls so far, and each e-mail is claimed under that number
  (:class:`~skillsup.models.SentReminder`), so two runs at once send it once. From at risk to
  lost is a fall of its own, and so is lost back to at risk (a result corrected).
- *Recovery*: a status warned of that is no longer one (on track, met, or at risk with no hour
  missed, a mark corrected) is recorded as recovered (:func:`clear_recovered`), so that a
  later fall is warned of again.
- *Who*: the learner, and the active HR officers of the company the enrolment was made under
  (:mod:`.hr_scope`), never those of another company. At risk is optional: it follows each
  person's "attendance warnings" setting. Lost is always sent, like a decision: it changes
  what the learner or the company is paid.
- *One e-mail* per person and enrolment, with every scheme of it that fell in the run.
- *Money*: what the fall puts at stake (:mod:`.subsidy`): the Continuing Education Fund's
  estimate, in the learner's e-mail only (what they have had from the fund is theirs); a
  company's share of the fee, its claim within the cap, in every e-mail.
- *Attendance warnings*: an enrolment under a scheme that holds it to at least its class's
  minimum attendance is warned of by these warnings only (:func:`covers_class_minimum`): a
  class's completion cannot be at risk for attendance without the scheme being at risk too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    FundingPayee,
    FundingState,
    FundingWarning,
    Role,
    SentReminder,
    SubsidyKind,
    User,
)
from . import notify, subsidy
from .funding_status import SchemeStatus, SessionToAttend, enrolment_statuses

#: The kind of :class:`~skillsup.models.SentReminder` that claims each warning.
KIND = "funding"
#: The states warned of.
FALLS = (FundingState.AT_RISK, FundingState.LOST)


@dataclass(frozen=True)
class Fall:
    """An enrolment's status under one scheme, fallen to a state not yet warned of: the
    ``number``-th fall of that enrolment under that scheme."""

    status: SchemeStatus
    state: FundingState
    number: int

    @property
    def key(self) -> str:
        s = self.status
        return f"enrolment:{s.enrolment_id}:scheme:{s.scheme.id}:{self.state.value}:{self.number}"


@dataclass(frozen=True)
class WarnedScheme:
    """One scheme of a warning, as the e-mail shows it."""

    name: str
    state: FundingState
    reasons: tuple[dict[str, object], ...]
    must_attend: tuple[SessionToAttend, ...]
    #: What the fall puts at stake, and whether it is the fund's estimate for the learner.
    amount: Decimal | None
    estimate: bool


class Links(Protocol):
    """The links a warning carries (:class:`skillsup.links.PortalLinks`)."""

    def my_learning(self) -> str: ...

    def staff_member(self, user_id: int) -> str: ...


def warned_state(status: SchemeStatus | None) -> FundingState | None:
    """The state of ``status`` that is warned of (the module's rule), or ``None``."""
    if status is None or status.scheme.paid_to is FundingPayee.NONE:
        return None
    if status.state is FundingState.LOST:
        return FundingState.LOST
    if status.state is FundingState.AT_RISK and status.standing.absent_hours > 0:
        return FundingState.AT_RISK
    return None


def covers_class_minimum(statuses: Sequence[SchemeStatus], min_attendance_pct: int) -> bool:
    """Whether one of an enrolment's schemes holds it to at least its class's minimum
    attendance, so that its warnings tell of the class's attendance too."""
    return any(
        status.scheme.paid_to is not FundingPayee.NONE and status.minimum_pct >= min_attendance_pct
        for status in statuses
    )


def running_enrolments() -> list[Enrolment]:
    """The enrolments that are warned of: confirmed, in running classes, with their learner,
    class and course."""
    return list(
        db.session.scalars(
            select(Enrolment)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .where(
                CourseClass.status == ClassStatus.RUNNING,
                Enrolment.status == EnrolmentStatus.CONFIRMED,
            )
            .options(
                joinedload(Enrolment.learner),
                joinedload(Enrolment.course_class).joinedload(CourseClass.course),
            )
        )
    )


def _records(enrolment_ids: Iterable[int]) -> dict[tuple[int, int], FundingWarning]:
    ids = list(enrolment_ids)
    if not ids:
        return {}
    return {
        (row.enrolment_id, row.scheme_id): row
        for row in db.session.scalars(
            select(FundingWarning).where(FundingWarning.enrolment_id.in_(ids))
        )
    }


def falls(statuses: dict[int, list[SchemeStatus]]) -> dict[int, list[Fall]]:
    """The falls not yet warned of among ``statuses`` (by enrolment id), by enrolment id."""
    records = _records(enrolment_id for enrolment_id, found in statuses.items() if found)
    found: dict[int, list[Fall]] = defaultdict(list)
    for enrolment_id, its_statuses in statuses.items():
        for status in its_statuses:
            state = warned_state(status)
            record = records.get((enrolment_id, status.scheme.id))
            if state is None or (record is not None and record.state is state):
                continue
            number = (record.warnings if record is not None else 0) + 1
            found[enrolment_id].append(Fall(status, state, number))
    return dict(found)


def clear_recovered() -> int:
    """Record as recovered every enrolment of a running class warned of under a scheme whose
    status is no longer warned of (the module's rule), so that a later fall is warned of
    again; how many. The caller commits."""
    records = db.session.scalars(
        select(FundingWarning)
        .join(Enrolment, FundingWarning.enrolment_id == Enrolment.id)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .where(
            FundingWarning.state.is_not(None),
            CourseClass.status == ClassStatus.RUNNING,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
        )
    ).all()
    if not records:
        return 0
    statuses = enrolment_statuses({record.enrolment_id for record in records})
    cleared = 0
    for record in records:
        status = next(
            (s for s in statuses[record.enrolment_id] if s.scheme.id == record.scheme_id), None
        )
        if warned_state(status) is None:
            record.state = None
            cleared += 1
    db.session.flush()
    return cleared


def due_warnings(
    enrolments: Sequence[Enrolment],
    statuses: dict[int, list[SchemeStatus]],
    links: Links,
) -> Iterator[tuple[User, list[str], Callable[[], None]]]:
    """Each warning due for the falls among ``enrolments`` (their ``statuses`` by enrolment
    id), not sent yet: its recipient, the keys it is claimed under and what sends it."""
    falls_of = falls({e.id: statuses.get(e.id, []) for e in enrolments})
    if not falls_of:
        return
    fallen = [e for e in enrolments if e.id in falls_of]
    companies = {e.company_id for e in fallen if e.company_id is not None}
    officers_of: dict[int, list[User]] = defaultdict(list)
    if companies:
        for officer in db.session.scalars(
            select(User)
            .where(
                User.role == Role.HR,
                User.is_active.is_(True),
                User.company_id.in_(companies),
            )
            .order_by(User.id)
        ):
            assert officer.company_id is not None  # an officer of one of those companies
            officers_of[officer.company_id].append(officer)
    sent = _already_sent([fall.key for e in fallen for fall in falls_of[e.id]])
    money = _Money()
    for enrolment in fallen:
        learner = enrolment.learner
        recipients = [learner] if learner.is_active else []
        recipients += officers_of.get(enrolment.company_id or 0, [])
        for recipient in recipients:
            told = [
                fall
                for fall in falls_of[enrolment.id]
                if (fall.state is FundingState.LOST or recipient.wants_attendance_warnings)
                and (fall.key, recipient.id) not in sent
            ]
            if not told:
                continue

            def send(
                recipient: User = recipient,
                enrolment: Enrolment = enrolment,
                told: list[Fall] = told,
            ) -> None:
                for fall in told:
                    _record(fall)
                _send(recipient, enrolment, told, links, money)

            yield recipient, [fall.key for fall in told], send


def _already_sent(keys: list[str]) -> set[tuple[str, int]]:
    if not keys:
        return set()
    return {
        (key, recipient_id)
        for key, recipient_id in db.session.execute(
            select(SentReminder.subject_key, SentReminder.recipient_id).where(
                SentReminder.kind == KIND, SentReminder.subject_key.in_(keys)
            )
        )
    }


def _record(fall: Fall) -> None:
    """Record that ``fall`` has been warned of (another run may be recording it at once: both
    record the same)."""
    status = fall.status
    where = (FundingWarning.enrolment_id == status.enrolment_id) & (
        FundingWarning.scheme_id == status.scheme.id
    )
    record = db.session.scalar(select(FundingWarning).where(where))
    if record is None:
        savepoint = db.session.begin_nested()
        try:
            db.session.add(
                FundingWarning(
                    enrolment_id=status.enrolment_id,
                    scheme_id=status.scheme.id,
                    state=fall.state,
                    warnings=fall.number,
                )
            )
            db.session.flush()
        except IntegrityError:
            savepoint.rollback()
            record = db.session.scalars(
                select(FundingWarning).where(where).execution_options(populate_existing=True)
            ).one()
        else:
            savepoint.commit()
            return
    record.state = fall.state
    record.warnings = max(record.warnings, fall.number)
    db.session.flush()


class _Money:
    """What falls put at stake, worked out once per learner and company in a run."""

    def __init__(self) -> None:
        self._cef: dict[tuple[int, int], subsidy.CefEstimate | None] = {}
        self._claims: dict[tuple[int, tuple[date, date]], dict[tuple[int, int], Decimal]] = {}

    def cef(self, learner: User, enrolment_id: int) -> Decimal | None:
        key = (learner.id, enrolment_id)
        if key not in self._cef:
            estimates = subsidy.learner_cef_estimates(learner, lost_too={enrolment_id})
            self._cef[key] = estimates.get(enrolment_id)
        estimate = self._cef[key]
        return estimate.subsidy if estimate is not None else None

    def company_claim(self, enrolment: Enrolment, scheme_id: int) -> Decimal | None:
        """The company's claim on ``enrolment`` under the scheme, within its cap: only the
        financial years around the day its (running) class ends are read, not the company's
        whole history."""
        assert enrolment.company_id is not None
        ends_on = enrolment.course_class.ends_on
        key = (enrolment.company_id, subsidy.claims_window(ends_on, ends_on))
        if key not in self._claims:
            self._claims[key] = {
                (claim.enrolment_id, claim.scheme.id): claim.amount
                for claim in subsidy.company_claims(enrolment.company_id, window=key[1])
            }
        return self._claims[key].get((enrolment.id, scheme_id))


def _at_stake(
    status: SchemeStatus, enrolment: Enrolment, for_learner: bool, money: _Money
) -> tuple[Decimal | None, bool]:
    """The amount ``status``'s fall puts at stake that the recipient is shown, and whether it
    is the fund's estimate."""
    kind, paid_to = status.version.subsidy_kind, status.scheme.paid_to
    if kind is SubsidyKind.CO_PAYMENT_TIERS and paid_to is FundingPayee.LEARNER:
        if not for_learner:
            return None, False
        return money.cef(enrolment.learner, enrolment.id), True
    if (
        kind is SubsidyKind.SHARE_OF_FEE
        and paid_to is FundingPayee.COMPANY
        and enrolment.company_id is not None
    ):
        return money.company_claim(enrolment, status.scheme.id), False
    return None, False


def _send(
    recipient: User, enrolment: Enrolment, told: list[Fall], links: Links, money: _Money
) -> None:
    course_class = enrolment.course_class
    learner = enrolment.learner
    for_learner = recipient.id == learner.id
    lost = any(fall.state is FundingState.LOST for fall in told)
    locale = recipient.preferred_language or "en"
    schemes = []
    for fall in told:
        amount, estimate = _at_stake(fall.status, enrolment, for_learner, money)
        schemes.append(
            WarnedScheme(
                name=fall.status.scheme.name(locale),
                state=fall.state,
                reasons=tuple(dict(item) for item in fall.status.reasons),
                must_attend=fall.status.must_attend,
                amount=amount,
                estimate=estimate,
            )
        )
    with force_locale(locale):
        if for_learner:
            subject = (
                _("Subsidy lost: %(code)s", code=course_class.code)
                if lost
                else _("Subsidy at risk: %(code)s", code=course_class.code)
            )
        else:
            subject = (
                _("Subsidy lost: %(name)s in %(code)s", name=learner.name, code=course_class.code)
                if lost
                else _(
                    "Subsidy at risk: %(name)s in %(code)s",
                    name=learner.name,
                    code=course_class.code,
                )
            )
        notify.send(
            recipient,
            subject,
            "funding_warning",
            learner=learner,
            course_class=course_class,
            course=course_class.course,
            schemes=schemes,
            lost=lost,
            for_learner=for_learner,
            link=links.my_learning() if for_learner else links.staff_member(learner.id),
        )
