"""The enrolment rules, tested on the service without HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from skillsup.extensions import db
from skillsup.models import (
    AuditEntry,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    utcnow,
)
from skillsup.reasons import free_text
from skillsup.services import eligibility, enrolment_requests, seat_quotas, waitlist
from skillsup.services import enrolment as enrolment_service
from skillsup.services.errors import NotFound, PermissionDenied

# Dates and deadlines: run again at several times of the Hong Kong day.
pytestmark = pytest.mark.hong_kong_day


def _class(make, **kwargs) -> CourseClass:
    kwargs.setdefault("sessions", 2)
    return make.course_class(**kwargs)


def test_a_free_seat_confirms_at_once(make, learner, outbox):
    course_class = _class(make, capacity=2)
    outcome = enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.commit()
    assert outcome.status == EnrolmentStatus.CONFIRMED
    assert db.session.get(CourseClass, course_class.id).seats_taken == 1
    assert [m.to for m in outbox] == [learner.email]
    assert course_class.code in outbox[0].subject


def test_a_full_class_waitlists_in_order(make, company):
    course_class = _class(make, capacity=1)
    people = [make.user(company=company) for _ in range(3)]
    outcomes = [enrolment_requests.request_enrolment(p, p, course_class) for p in people]
    db.session.commit()
    assert [o.status for o in outcomes] == [
        EnrolmentStatus.CONFIRMED,
        EnrolmentStatus.WAITLISTED,
        EnrolmentStatus.WAITLISTED,
    ]
    assert [o.waitlist_position for o in outcomes] == [None, 1, 2]


def test_a_seat_freed_after_the_class_was_read_as_full_is_taken(make, company, learner):
    course_class = _class(make, capacity=1)
    # As if the class had been read full just before its last learner withdrew.
    set_committed_value(course_class, "seats_taken", 1)
    outcome = enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.commit()
    assert outcome.status == EnrolmentStatus.CONFIRMED
    assert db.session.get(CourseClass, course_class.id).seats_taken == 1


def test_a_refused_request_for_a_full_class_leaves_nothing_and_the_work_goes_on(make, company):
    course_class = _class(make, capacity=1)
    make.enrolment(course_class, make.user(company=company))
    make.quota(company, seats=1, starts_on=date(2000, 1, 1), ends_on=date(2100, 1, 1))
    refused = make.user(company=company)
    other_company = make.company()
    welcome = make.user(company=other_company)
    db.session.commit()
    with pytest.raises(seat_quotas.QuotaExceeded):
        enrolment_requests.request_enrolment(refused, refused, course_class)
    # In the same transaction, as an import of many rows goes on after a refused one.
    outcome = enrolment_requests.request_enrolment(welcome, welcome, course_class)
    db.session.commit()
    assert outcome.status == EnrolmentStatus.WAITLISTED
    learners = db.session.scalars(
        select(Enrolment.learner_id).where(Enrolment.class_id == course_class.id)
    ).all()
    assert refused.id not in learners
    assert welcome.id in learners


def test_learner_obstacles_are_told_together(make, learner):
    start = datetime(2030, 3, 5, 11, 0, tzinfo=UTC)
    first = _class(make, first_session=start, sessions=1)
    second = _class(make, first_session=start, sessions=1)
    make.enrolment(first, learner)
    make.enrolment(second, learner)
    basics = [make.course(code=code) for code in ("ZZ-BASICS", "AA-BASICS")]
    wanted = make.course()
    wanted.prerequisites.extend(basics)
    db.session.commit()
    course_class = _class(make, course=wanted, first_session=start, sessions=1)
    make.enrolment(course_class, learner, EnrolmentStatus.WAITLISTED)
    obstacles = eligibility.learner_obstacles(learner.id, course_class)
    assert obstacles.enrolled
    assert obstacles.missing_prerequisites == ["AA-BASICS", "ZZ-BASICS"]
    assert obstacles.clash == min(first.code, second.code)
    newcomer = make.user(company=learner.company)
    assert eligibility.learner_obstacles(newcomer.id, course_class) == eligibility.LearnerObstacles(
        enrolled=False, missing_prerequisites=["AA-BASICS", "ZZ-BASICS"], clash=None
    )


def test_company_needing_approval_makes_a_pending_request_without_a_seat(make, outbox):
    company = make.company(requires_approval=True)
    learner = make.user(company=company)
    officer = make.user(role="hr", company=company)
    course_class = _class(make, capacity=1)
    outcome = enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.commit()
    assert outcome.status == EnrolmentStatus.PENDING
    assert db.session.get(CourseClass, course_class.id).seats_taken == 0
    assert {m.to for m in outbox} == {learner.email, officer.email}


def test_approval_takes_a_seat_or_a_waitlist_place(make):
    company = make.company(requires_approval=True)
    officer = make.user(role="hr", company=company)
    first, second = make.user(company=company), make.user(company=company)
    course_class = _class(make, capacity=1)
    a = enrolment_requests.request_enrolment(first, first, course_class).enrolment
    b = enrolment_requests.request_enrolment(second, second, course_class).enrolment
    assert enrolment_requests.approve(officer, a).status == EnrolmentStatus.CONFIRMED
    outcome = enrolment_requests.approve(officer, b)
    db.session.commit()
    assert outcome.status == EnrolmentStatus.WAITLISTED
    assert outcome.waitlist_position == 1


def test_rejection_needs_a_reason_and_records_it(make, outbox):
    company = make.company(requires_approval=True)
    officer = make.user(role="hr", company=company)
    learner = make.user(company=company)
    pending = enrolment_requests.request_enrolment(learner, learner, _class(make)).enrolment
    db.session.commit()
    with pytest.raises(enrolment_service.EnrolmentRefused):
        enrolment_requests.reject(officer, pending, "  ")
    db.session.rollback()
    enrolment_requests.reject(officer, pending, "Budget used for this term")
    db.session.commit()
    assert pending.status == EnrolmentStatus.REJECTED
    assert pending.history[-1].reasons == [
        {"code": "free_text", "args": {"text": "Budget used for this term"}}
    ]
    assert "Budget used for this term" in outbox[-1].text


def test_hr_of_another_company_cannot_decide(make):
    company = make.company(requires_approval=True)
    learner = make.user(company=company)
    stranger = make.user(role="hr", company=make.company())
    pending = enrolment_requests.request_enrolment(learner, learner, _class(make)).enrolment
    with pytest.raises(NotFound):
        enrolment_requests.approve(stranger, pending)


def test_withdrawal_frees_the_seat_for_the_first_on_the_waitlist(make, company, outbox):
    course_class = _class(make, capacity=1)
    first, second, third = (make.user(company=company) for _ in range(3))
    held = enrolment_requests.request_enrolment(first, first, course_class).enrolment
    waiting = enrolment_requests.request_enrolment(second, second, course_class).enrolment
    enrolment_requests.request_enrolment(third, third, course_class)
    db.session.commit()
    outbox.clear()

    enrolment_requests.withdraw(first, held)
    db.session.commit()
    assert held.status == EnrolmentStatus.WITHDRAWN
    assert waiting.status == EnrolmentStatus.CONFIRMED
    assert db.session.get(CourseClass, course_class.id).seats_taken == 1
    assert {m.to for m in outbox} == {first.email, second.email}
    promoted_mail = next(m for m in outbox if m.to == second.email)
    assert "waitlist" in promoted_mail.text


def test_learner_cannot_withdraw_after_the_deadline_but_hr_can_with_a_reason(
    make, learner, hr_officer
):
    course_class = _class(make)
    held = enrolment_requests.request_enrolment(learner, learner, course_class).enrolment
    db.session.commit()
    late = course_class.withdrawal_deadline_at + timedelta(minutes=1)
    with pytest.raises(enrolment_requests.WithdrawalClosed):
        enrolment_requests.withdraw(learner, held, now=late)
    db.session.rollback()
    with pytest.raises(enrolment_service.EnrolmentRefused):
        enrolment_requests.withdraw(hr_officer, held, "", now=late)
    db.session.rollback()
    enrolment_requests.withdraw(hr_officer, held, "Project deadline", now=late)
    db.session.commit()
    assert held.status == EnrolmentStatus.WITHDRAWN
    assert held.history[-1].actor_id == hr_officer.id


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"status": ClassStatus.DRAFT}, eligibility.ClassNotOpen),
        ({"status": ClassStatus.CLOSED}, eligibility.ClassNotOpen),
        (
            {
                "enrolment_opens_at": datetime(2099, 1, 1, tzinfo=UTC),
                "enrolment_closes_at": datetime(2099, 2, 1, tzinfo=UTC),
            },
            eligibility.EnrolmentClosed,
        ),
        (
            {
                "enrolment_opens_at": datetime(2020, 1, 1, tzinfo=UTC),
                "enrolment_closes_at": datetime(2020, 2, 1, tzinfo=UTC),
            },
            eligibility.EnrolmentClosed,
        ),
    ],
)
def test_class_must_be_open_and_inside_its_window(make, learner, change, error):
    course_class = _class(make, **change)
    with pytest.raises(error):
        enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0


def test_inactive_learner_or_company_cannot_enrol(make, company):
    course_class = _class(make)
    inactive = make.user(company=company, is_active=False)
    with pytest.raises(eligibility.AccountInactive):
        enrolment_requests.request_enrolment(inactive, inactive, course_class)


def test_one_active_enrolment_per_class(make, learner):
    course_class = _class(make)
    enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.commit()
    with pytest.raises(eligibility.AlreadyEnrolled):
        enrolment_requests.request_enrolment(learner, learner, course_class)


def test_prerequisites_must_be_completed(make, learner):
    basics = make.course(code="SU-PRE-101")
    advanced = make.course(code="SU-PRE-201")
    advanced.prerequisites.append(basics)
    db.session.commit()
    course_class = _class(make, course=advanced)
    with pytest.raises(eligibility.PrerequisitesMissing, match="SU-PRE-101"):
        enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.rollback()
    past = make.course_class(course=basics, status=ClassStatus.COMPLETED)
    make.enrolment(past, learner, EnrolmentStatus.COMPLETED)
    assert enrolment_requests.request_enrolment(learner, learner, course_class).status == (
        EnrolmentStatus.CONFIRMED
    )


def test_sessions_must_not_clash_with_a_confirmed_class(make, learner):
    start = datetime(2030, 3, 5, 11, 0, tzinfo=UTC)
    first = _class(make, first_session=start, sessions=2)
    clashing = _class(make, first_session=start + timedelta(hours=1), sessions=1)
    separate = _class(make, first_session=start + timedelta(days=1), sessions=1)
    enrolment_requests.request_enrolment(learner, learner, first)
    db.session.commit()
    with pytest.raises(eligibility.TimetableClash, match=first.code):
        enrolment_requests.request_enrolment(learner, learner, clashing)
    db.session.rollback()
    assert enrolment_requests.request_enrolment(learner, learner, separate).status == (
        EnrolmentStatus.CONFIRMED
    )


def test_quota_counts_confirmed_and_pending_and_says_what_is_left(make, company):
    course_class = _class(make, capacity=10)
    make.quota(
        company,
        seats=2,
        starts_on=date(2000, 1, 1),
        ends_on=date(2100, 1, 1),
        label="Whole contract",
    )
    people = [make.user(company=company) for _ in range(3)]
    for person in people[:2]:
        enrolment_requests.request_enrolment(person, person, course_class)
    db.session.commit()
    with pytest.raises(seat_quotas.QuotaExceeded, match=r"all 2 seats .* Whole contract .*0 left"):
        enrolment_requests.request_enrolment(people[2], people[2], course_class)


def test_an_enrolment_keeps_its_learners_company_whichever_path_made_it(make, company, admin):
    course_class = _class(make, capacity=10)
    by_service = make.user(company=company)
    made = enrolment_requests.request_enrolment(
        admin, by_service, course_class, EnrolmentSource.ADMIN
    )
    # Made directly, with the learner given by id only: filled in from the database.
    directly = make.user(company=company)
    db.session.commit()
    bare = Enrolment(
        class_id=course_class.id,
        learner_id=directly.id,
        status=EnrolmentStatus.WAITLISTED,
        source=EnrolmentSource.ADMIN,
    )
    db.session.add(bare)
    db.session.commit()
    assert made.enrolment.company_id == company.id
    assert bare.company_id == company.id


def test_quota_counts_the_companys_seats_only(make, company):
    other = make.company()
    course_class = _class(make, capacity=10)
    make.quota(company, seats=1, starts_on=date(2000, 1, 1), ends_on=date(2100, 1, 1))
    outsider = make.user(company=other)
    enrolment_requests.request_enrolment(outsider, outsider, course_class)
    person = make.user(company=company)
    assert enrolment_requests.request_enrolment(person, person, course_class).status == (
        EnrolmentStatus.CONFIRMED
    )
    second = make.user(company=company)
    with pytest.raises(seat_quotas.QuotaExceeded):
        enrolment_requests.request_enrolment(second, second, course_class)


def test_quota_of_another_period_does_not_apply(make, company):
    course_class = _class(make)
    make.quota(company, seats=0, starts_on=date(2001, 1, 1), ends_on=date(2001, 12, 31))
    person = make.user(company=company)
    assert enrolment_requests.request_enrolment(person, person, course_class).status == (
        EnrolmentStatus.CONFIRMED
    )


def test_only_the_learner_hr_of_their_company_or_an_admin_may_enrol_them(
    make, learner, hr_officer, admin, trainer
):
    course_class = _class(make, capacity=5)
    other_hr = make.user(role="hr", company=make.company())
    with pytest.raises(PermissionDenied):
        enrolment_requests.request_enrolment(
            other_hr, learner, course_class, EnrolmentSource.NOMINATED
        )
    with pytest.raises(PermissionDenied):
        enrolment_requests.request_enrolment(trainer, learner, course_class, EnrolmentSource.ADMIN)
    with pytest.raises(PermissionDenied):
        enrolment_requests.request_enrolment(
            hr_officer, learner, course_class, EnrolmentSource.SELF
        )
    outcome = enrolment_requests.request_enrolment(
        hr_officer, learner, course_class, EnrolmentSource.NOMINATED
    )
    assert outcome.enrolment.source == EnrolmentSource.NOMINATED
    assert outcome.enrolment.requested_by_id == hr_officer.id


def test_nomination_skips_approval(make):
    company = make.company(requires_approval=True)
    officer = make.user(role="hr", company=company)
    learner = make.user(company=company)
    outcome = enrolment_requests.request_enrolment(
        officer, learner, _class(make), EnrolmentSource.NOMINATED
    )
    assert outcome.status == EnrolmentStatus.CONFIRMED


def test_raising_capacity_promotes_the_waitlist(make, company, admin):
    course_class = _class(make, capacity=1)
    people = [make.user(company=company) for _ in range(3)]
    enrolments = [
        enrolment_requests.request_enrolment(p, p, course_class).enrolment for p in people
    ]
    course_class.capacity = 2
    db.session.flush()
    promoted = waitlist.promote_waitlist(course_class, admin)
    db.session.commit()
    assert promoted == [enrolments[1]]
    assert enrolments[2].status == EnrolmentStatus.WAITLISTED


def test_cancelling_a_class_cancels_every_active_enrolment(make, company, admin, outbox):
    course_class = _class(make, capacity=1)
    people = [make.user(company=company) for _ in range(2)]
    for person in people:
        enrolment_requests.request_enrolment(person, person, course_class)
    db.session.commit()
    outbox.clear()
    cancelled = enrolment_service.cancel_class_enrolments(
        course_class, admin, free_text("Trainer unavailable")
    )
    db.session.commit()
    assert {e.status for e in cancelled} == {EnrolmentStatus.CANCELLED}
    assert db.session.get(CourseClass, course_class.id).seats_taken == 0
    assert {m.to for m in outbox} == {p.email for p in people}
    assert all("Trainer unavailable" in m.text for m in outbox)


def test_every_transition_is_in_the_history_and_the_audit_log(make, learner):
    course_class = _class(make)
    enrolment = enrolment_requests.request_enrolment(learner, learner, course_class).enrolment
    enrolment_requests.withdraw(learner, enrolment)
    db.session.commit()
    steps = db.session.execute(
        select(EnrolmentStatusChange.from_status, EnrolmentStatusChange.to_status)
        .where(EnrolmentStatusChange.enrolment_id == enrolment.id)
        .order_by(EnrolmentStatusChange.id)
    ).all()
    assert steps == [
        (None, EnrolmentStatus.CONFIRMED),
        (EnrolmentStatus.CONFIRMED, EnrolmentStatus.WITHDRAWN),
    ]
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "enrolments")
    ).all()
    assert actions == ["enrolment.created", "enrolment.status_changed"]


def test_nothing_is_sent_when_the_transaction_rolls_back(make, learner, outbox):
    enrolment_requests.request_enrolment(learner, learner, _class(make))
    db.session.rollback()
    assert outbox == []


def test_waitlist_positions_follow_request_time_then_arrival_when_times_tie(make, company):
    course_class = _class(make, capacity=1)
    people = [make.user(company=company) for _ in range(4)]
    same_moment = utcnow()
    outcomes = [
        enrolment_requests.request_enrolment(p, p, course_class, now=same_moment) for p in people
    ]
    db.session.commit()
    assert [o.waitlist_position for o in outcomes] == [None, 1, 2, 3]
    assert [waitlist.waitlist_position(o.enrolment) for o in outcomes] == [None, 1, 2, 3]
    enrolment_requests.withdraw(people[1], outcomes[1].enrolment)
    db.session.commit()
    assert [waitlist.waitlist_position(o.enrolment) for o in outcomes[2:]] == [1, 2]
    ranked = waitlist.waitlist_positions([o.enrolment.id for o in outcomes[2:]])
    assert list(ranked.values()) == [1, 2]


def test_a_learner_refused_by_their_own_records_never_waits_for_the_class_lock(
    make, company, monkeypatch
):
    """The class row lock serialises every request for the class; a learner's own rules
    (account, duplicate, prerequisites, timetable) are checked before it is taken."""
    locked: list[int] = []
    lock_class = enrolment_service.lock_class
    monkeypatch.setattr(
        enrolment_service,
        "lock_class",
        lambda class_id, *args: locked.append(class_id) or lock_class(class_id, *args),
    )
    course_class = _class(make, capacity=5)
    learner = make.user(company=company)
    enrolment_requests.request_enrolment(learner, learner, course_class)
    assert locked == [course_class.id]
    with pytest.raises(eligibility.AlreadyEnrolled):
        enrolment_requests.request_enrolment(learner, learner, course_class)
    inactive = make.user(company=company, is_active=False)
    with pytest.raises(eligibility.AccountInactive):
        enrolment_requests.request_enrolment(inactive, inactive, course_class)
    assert locked == [course_class.id]


def test_the_class_in_hand_counts_the_seats_taken_before_the_commit(make, company):
    course_class = _class(make, capacity=2)
    first, second, third = (make.user(company=company) for _ in range(3))
    enrolment_requests.request_enrolment(first, first, course_class)
    assert course_class.seats_taken == 1
    enrolment_requests.request_enrolment(second, second, course_class)
    assert course_class.seats_taken == 2
    assert enrolment_requests.request_enrolment(third, third, course_class).waitlist_position == 1
    assert course_class.seats_taken == 2
    db.session.commit()
    assert db.session.get(CourseClass, course_class.id).seats_taken == 2


def test_the_waitlist_passes_over_staff_of_an_inactive_company(make, admin):
    course_class = _class(make, capacity=1)
    closed_company, open_company = make.company(), make.company()
    first = make.user(company=open_company)
    gone, next_in_line = make.user(company=closed_company), make.user(company=open_company)
    holder = enrolment_requests.request_enrolment(first, first, course_class).enrolment
    passed = enrolment_requests.request_enrolment(gone, gone, course_class).enrolment
    waiting = enrolment_requests.request_enrolment(
        next_in_line, next_in_line, course_class
    ).enrolment
    closed_company.is_active = False
    enrolment_requests.withdraw(first, holder)
    db.session.commit()
    assert passed.status == EnrolmentStatus.WAITLISTED
    assert waiting.status == EnrolmentStatus.CONFIRMED


def test_approval_refuses_an_inactive_company_and_a_timetable_clash(make):
    company = make.company(requires_approval=True)
    officer = make.user(role="hr", company=company)
    learner = make.user(company=company)
    start = datetime(2031, 5, 5, 1, tzinfo=UTC)
    wanted = _class(make, capacity=5, sessions=1, first_session=start)
    pending = enrolment_requests.request_enrolment(learner, learner, wanted).enrolment
    clashing = _class(make, capacity=5, sessions=1, first_session=start)
    make.enrolment(clashing, learner, EnrolmentStatus.CONFIRMED)
    with pytest.raises(eligibility.TimetableClash) as refused:
        enrolment_requests.approve(officer, pending)
    assert clashing.code in str(refused.value) and learner.name in str(refused.value)
    db.session.rollback()
    company.is_active = False
    db.session.commit()
    with pytest.raises(eligibility.AccountInactive):
        enrolment_requests.approve(officer, pending)
    db.session.rollback()
    assert db.session.get(Enrolment, pending.id).status == EnrolmentStatus.PENDING


def test_the_rule_for_taking_enrolments_reads_the_same_in_sql_and_in_python(make):
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    taking = _class(make)
    not_yet = _class(make, enrolment_opens_at=now + hour)
    closed = _class(make, enrolment_closes_at=now - hour)
    cancelled = _class(make, status=ClassStatus.CANCELLED)
    draft_course = _class(make, course=make.course(status=CourseStatus.DRAFT))
    db.session.commit()
    classes = [taking, not_yet, closed, cancelled, draft_course]
    in_python = {c.code for c in classes if eligibility.is_taking_enrolments(c, now)}
    in_sql = set(
        db.session.scalars(
            select(CourseClass.code)
            .join(Course, CourseClass.course_id == Course.id)
            .where(
                CourseClass.id.in_([c.id for c in classes]),
                Course.status == CourseStatus.PUBLISHED,
                *eligibility.taking_enrolments(now),
            )
        )
    )
    assert in_python == in_sql == {taking.code}


def test_refusals_speak_to_the_learner_or_of_them_to_whoever_acts_for_them(make, learner, admin):
    """A learner reads "you"; an admin enrolling them reads their name. The refusal carries
    the codes it names, for callers that word it their own way."""
    basics = make.course(code="SU-PRE-101")
    advanced = make.course(code="SU-PRE-201")
    advanced.prerequisites.append(basics)
    start = datetime(2030, 3, 5, 11, 0, tzinfo=UTC)
    held = _class(make, first_session=start, sessions=1)
    make.enrolment(held, learner, EnrolmentStatus.CONFIRMED)
    clashing = _class(make, first_session=start, sessions=1)
    needs_basics = _class(make, course=advanced, first_session=start + timedelta(days=2))
    db.session.commit()

    for actor, source in ((learner, EnrolmentSource.SELF), (admin, EnrolmentSource.ADMIN)):
        with pytest.raises(eligibility.TimetableClash) as clash:
            enrolment_requests.request_enrolment(actor, learner, clashing, source)
        db.session.rollback()
        with pytest.raises(eligibility.PrerequisitesMissing) as missing:
            enrolment_requests.request_enrolment(actor, learner, needs_basics, source)
        db.session.rollback()
        with pytest.raises(eligibility.AlreadyEnrolled) as duplicate:
            enrolment_requests.request_enrolment(actor, learner, held, source)
        db.session.rollback()
        assert clash.value.code == held.code
        assert missing.value.codes == ["SU-PRE-101"]
        messages = [str(e.value) for e in (clash, missing, duplicate)]
        if actor is learner:
            assert messages == [
                f"Its sessions clash with your class {held.code}.",
                "Complete these courses first: SU-PRE-101.",
                "You already have a place or a request in this class.",
            ]
        else:
            assert messages == [
                f"Its sessions clash with {learner.name}'s class {held.code}.",
                f"{learner.name} has first to complete these courses: SU-PRE-101.",
                f"{learner.name} already has a place or a request in this class.",
            ]
