"""HR staff pages: the directory, an employee's page, deactivation and nominations.

Service tests call ``skillsup.services.staff`` directly and commit (or roll back) where a view
would; view tests go through the client as a logged-in HR officer of Harbour IT Services.
Every page and action is scoped to the officer's own company: another company's employee or
enrolment answers 404 and changes nothing.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    Certificate,
    ClassStatus,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    User,
    utcnow,
)
from skillsup.reasons import free_text, render
from skillsup.services import employee_records, nominations, staff
from skillsup.services.eligibility import ClassNotOpen
from skillsup.services.employee_records import SessionState
from skillsup.services.errors import NotFound, PermissionDenied, ValidationFailed
from skillsup.services.nominations import NominationsRefused
from skillsup.services.staff import (
    StaffActionRefused,
    StaffFilters,
    StaffSort,
    StaffStatus,
)

from .factories import PASSWORD
from .queries import page_queries

# Helpers ---------------------------------------------------------------------------------


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashes(client: Any) -> list[str]:
    """The messages flashed since the last page was shown, taken so that they are not seen
    again."""
    with client.session_transaction() as session:
        return [message for _category, message in session.pop("_flashes", [])]


def enrolment_count(**where: Any) -> int:
    statement = select(func.count(Enrolment.id))
    for name, value in where.items():
        statement = statement.where(getattr(Enrolment, name) == value)
    return db.session.scalar(statement) or 0


def status_of(enrolment: Enrolment) -> EnrolmentStatus:
    return db.session.scalar(select(Enrolment.status).where(Enrolment.id == enrolment.id))


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def directory_names(actor: User, **filters: Any) -> list[str]:
    return [u.name for u in db.session.scalars(staff.directory(actor, StaffFilters(**filters)))]


@pytest.fixture
def other_company(make):
    return make.company(name="Kowloon Data Ltd", code="KLD", domains=["kowloon-data.test"])


@pytest.fixture
def outsider(make, other_company):
    """A learner of another company."""
    return make.user(company=other_company, name="Oscar Outsider", email="oscar@kowloon-data.test")


@pytest.fixture
def other_hr(make, other_company):
    return make.user(role="hr", company=other_company, email="hr@kowloon-data.test")


def started_class(make, **fields: Any) -> CourseClass:
    """A class whose first session was a week ago."""
    start = (utcnow() - timedelta(days=7)).replace(hour=2, minute=0, second=0, microsecond=0)
    fields.setdefault("status", ClassStatus.RUNNING)
    return make.course_class(sessions=3, first_session=start, **fields)


# The directory: service ------------------------------------------------------------------


@pytest.fixture
def people(make, company, other_company, hr_officer):
    """Four learners of Harbour IT in two departments, one invited, one deactivated; plus a
    learner of another company and the HR officer themself, neither of whom is listed."""
    make.user(company=other_company, name="Amy Outsider", department="Cloud")
    return {
        "amy": make.user(
            company=company,
            name="Amy Chan",
            email="amy.chan@harbour-it.test",
            staff_number="HB-0001",
            department="Cloud",
            job_title="Engineer",
        ),
        "ben": make.user(
            company=company,
            name="Ben Lau",
            email="ben.lau@harbour-it.test",
            staff_number="HB-0002",
            department="Applications",
        ),
        "cat": make.user(
            company=company,
            name="Cat Wong",
            email="cat.wong@harbour-it.test",
            staff_number="HB-0003",
            department=None,
            password=None,
        ),
        "dan": make.user(
            company=company,
            name="Dan Ho",
            email="dan.ho@harbour-it.test",
            staff_number="HB-0104",
            department="Cloud",
            is_active=False,
        ),
    }


def test_the_directory_lists_only_the_company_s_learners_by_name(hr_officer, people):
    assert directory_names(hr_officer) == ["Amy Chan", "Ben Lau", "Cat Wong", "Dan Ho"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("chan", ["Amy Chan"]),
        ("BEN.LAU@", ["Ben Lau"]),
        ("hb-000", ["Amy Chan", "Ben Lau", "Cat Wong"]),
        ("0104", ["Dan Ho"]),
        ("  wong  ", ["Cat Wong"]),
        ("%", []),
        ("_", []),
        ("outsider", []),
    ],
)
def test_directory_search_matches_name_email_or_staff_number(hr_officer, people, q, expected):
    assert directory_names(hr_officer, q=q) == expected


def test_directory_filters_by_department_and_status(hr_officer, people):
    assert directory_names(hr_officer, department="Cloud") == ["Amy Chan", "Dan Ho"]
    assert directory_names(hr_officer, status=StaffStatus.ACTIVE) == ["Amy Chan", "Ben Lau"]
    assert directory_names(hr_officer, status=StaffStatus.INVITED) == ["Cat Wong"]
    assert directory_names(hr_officer, status=StaffStatus.DEACTIVATED) == ["Dan Ho"]
    assert directory_names(hr_officer, department="Cloud", status=StaffStatus.ACTIVE) == [
        "Amy Chan"
    ]


def test_directory_sorts_by_department_with_the_unassigned_last(hr_officer, people):
    assert directory_names(hr_officer, sort=StaffSort.DEPARTMENT) == [
        "Ben Lau",
        "Amy Chan",
        "Dan Ho",
        "Cat Wong",
    ]


def test_departments_are_the_company_s_own_in_order(hr_officer, people):
    assert staff.departments(hr_officer) == ["Applications", "Cloud"]


def test_counts_of_current_and_completed_enrolments(make, hr_officer, people, outsider):
    amy, ben = people["amy"], people["ben"]
    for status in (
        EnrolmentStatus.CONFIRMED,
        EnrolmentStatus.WAITLISTED,
        EnrolmentStatus.PENDING,
        EnrolmentStatus.COMPLETED,
        EnrolmentStatus.COMPLETED,
        EnrolmentStatus.WITHDRAWN,
        EnrolmentStatus.NOT_COMPLETED,
    ):
        make.enrolment(make.course_class(), amy, status)
    make.enrolment(make.course_class(), outsider, EnrolmentStatus.COMPLETED)
    counts = staff.enrolment_counts(hr_officer, [amy.id, ben.id, outsider.id])
    assert counts[amy.id] == staff.EnrolmentCounts(current=3, completed=2)
    assert ben.id not in counts
    assert outsider.id not in counts
    assert staff.enrolment_counts(hr_officer, []) == {}


def test_find_employee_only_finds_the_company_s_learners(hr_officer, people, outsider):
    amy = people["amy"]
    assert staff.find_employee(hr_officer, amy.id) == amy
    assert staff.find_employee(hr_officer, outsider.id) is None
    assert staff.find_employee(hr_officer, hr_officer.id) is None
    assert staff.find_employee(hr_officer, 999_999) is None


@pytest.mark.parametrize("who", ["learner", "trainer", "admin"])
def test_only_hr_officers_use_the_staff_service(request, who, make):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        staff.directory(actor, StaffFilters())
    with pytest.raises(PermissionDenied):
        staff.departments(actor)
    with pytest.raises(PermissionDenied):
        nominations.nominate_employees(actor, make.course_class(), [1])


# The employee record: service -------------------------------------------------------------


def _mark(enrolment: Enrolment, statuses: list[AttendanceStatus]) -> None:
    sessions = sorted(enrolment.course_class.sessions, key=lambda s: s.starts_at)
    for session, status in zip(sessions, statuses, strict=False):
        db.session.add(Attendance(enrolment=enrolment, session=session, status=status))
    db.session.commit()


def test_the_record_shows_attendance_by_session_and_the_standing(make, hr_officer, learner):
    start = (utcnow() - timedelta(days=22)).replace(microsecond=0)
    course_class = make.course_class(
        sessions=5, first_session=start, status=ClassStatus.RUNNING, min_attendance_pct=80
    )
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, [AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.ABSENT])
    record = employee_records.employee_record(hr_officer, learner)
    [row] = record.attendance
    assert [mark.state for mark in row.sessions] == [
        SessionState.MARKED,
        SessionState.MARKED,
        SessionState.MARKED,
        SessionState.NOT_MARKED,
        SessionState.UPCOMING,
    ]
    assert [mark.status for mark in row.sessions][:3] == [
        AttendanceStatus.PRESENT,
        AttendanceStatus.ABSENT,
        AttendanceStatus.ABSENT,
    ]
    assert row.standing is not None
    assert row.standing.attended_sessions == 1
    assert row.at_risk  # 3 of 5 at best: 60 % < 80 %


def test_the_record_has_results_certificates_history_and_waitlist_places(
    make, hr_officer, learner, company
):
    done = make.course_class(status=ClassStatus.COMPLETED)
    finished = make.enrolment(
        done,
        learner,
        EnrolmentStatus.COMPLETED,
        result_score=Decimal("87.5"),
        result_passed=True,
    )
    db.session.add(
        Certificate(enrolment=finished, serial_number="SU-2026-000042", verification_code="v" * 40)
    )
    full = make.course_class(capacity=1)
    make.enrolment(full, make.user(company=company), EnrolmentStatus.CONFIRMED)
    make.enrolment(full, make.user(company=company), EnrolmentStatus.WAITLISTED)
    waiting = make.enrolment(full, learner, EnrolmentStatus.WAITLISTED)
    db.session.add(
        EnrolmentStatusChange(
            enrolment_id=waiting.id,
            to_status=EnrolmentStatus.WAITLISTED,
            actor_id=hr_officer.id,
            reasons=free_text("Team plan"),
        )
    )
    db.session.commit()

    record = employee_records.employee_record(hr_officer, learner)
    by_id = {r.enrolment.id: r for r in record.enrolments}
    assert by_id[waiting.id].waitlist_position == 2
    assert [r.enrolment.id for r in record.results] == [finished.id]
    assert [r.certificate.serial_number for r in record.certificates] == ["SU-2026-000042"]
    assert [(item.enrolment.id, render(item.change.reasons)) for item in record.history] == [
        (waiting.id, "Team plan")
    ]
    assert record.status == StaffStatus.ACTIVE


def test_another_company_s_employee_has_no_record(hr_officer, outsider):
    with pytest.raises(NotFound):
        employee_records.employee_record(hr_officer, outsider)


# Deactivation: service ----------------------------------------------------------------------


def _history_reasons(enrolment: Enrolment) -> list[str]:
    return list(
        render(reasons)
        for reasons in db.session.scalars(
            select(EnrolmentStatusChange.reasons)
            .where(EnrolmentStatusChange.enrolment_id == enrolment.id)
            .order_by(EnrolmentStatusChange.id)
        )
    )


def test_deactivation_withdraws_every_active_enrolment_in_classes_to_come(
    make, hr_officer, learner, company, outbox
):
    full = make.course_class(capacity=1)
    confirmed = make.enrolment(full, learner, EnrolmentStatus.CONFIRMED)
    next_in_line = make.enrolment(full, make.user(company=company), EnrolmentStatus.WAITLISTED)
    waitlisted = make.enrolment(make.course_class(capacity=0), learner, EnrolmentStatus.WAITLISTED)
    pending = make.enrolment(make.course_class(), learner, EnrolmentStatus.PENDING)
    running = make.enrolment(started_class(make), learner, EnrolmentStatus.CONFIRMED)
    finished = make.enrolment(
        started_class(make, status=ClassStatus.COMPLETED), learner, EnrolmentStatus.COMPLETED
    )
    version = learner.session_version

    withdrawn = staff.deactivate_employee(hr_officer, learner, "  Left the company  ")
    db.session.commit()

    assert {e.id for e in withdrawn} == {confirmed.id, waitlisted.id, pending.id}
    for enrolment in (confirmed, waitlisted, pending):
        assert status_of(enrolment) == EnrolmentStatus.WITHDRAWN
        assert _history_reasons(enrolment)[-1] == "Left the company"
    # Their history stays: classes under way or over are left as they are.
    assert status_of(running) == EnrolmentStatus.CONFIRMED
    assert status_of(finished) == EnrolmentStatus.COMPLETED
    # The freed seat went to the first on the waitlist in the same transaction.
    assert status_of(next_in_line) == EnrolmentStatus.CONFIRMED
    assert db.session.get(CourseClass, full.id).seats_taken == 1
    employee = fresh(learner)
    assert not employee.is_active
    assert employee.deactivated_at is not None
    assert employee.session_version == version + 1  # every session ended
    actions = list(
        db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "users", AuditEntry.object_id == learner.id
            )
        )
    )
    assert "account.deactivated" in actions
    assert "staff.deactivated" in actions
    assert learner.email in [m.to for m in outbox]


def test_deactivating_at_a_given_moment_dates_the_account_and_the_withdrawals_then(
    make, hr_officer, learner
):
    course_class = make.course_class(starts_on=date(2031, 5, 5), ends_on=date(2031, 6, 30))
    enrolment = make.enrolment(course_class, learner)
    moment = datetime(2031, 4, 20, 2, 30, tzinfo=UTC)

    staff.deactivate_employee(hr_officer, learner, "Moved", today=date(2031, 4, 20), now=moment)
    db.session.commit()

    assert fresh(learner).deactivated_at == moment
    assert db.session.get(Enrolment, enrolment.id).ended_at == moment


def test_a_class_starting_today_in_hong_kong_has_started(make, hr_officer, learner):
    course_class = make.course_class(starts_on=date(2031, 5, 5), ends_on=date(2031, 6, 30))
    enrolment = make.enrolment(course_class, learner)
    assert staff.deactivate_employee(hr_officer, learner, "Moved", today=date(2031, 5, 5)) == []
    db.session.commit()
    assert status_of(enrolment) == EnrolmentStatus.CONFIRMED


def test_a_class_starting_tomorrow_has_not_started(make, hr_officer, learner):
    course_class = make.course_class(starts_on=date(2031, 5, 5), ends_on=date(2031, 6, 30))
    enrolment = make.enrolment(course_class, learner)
    withdrawn = staff.deactivate_employee(hr_officer, learner, "Moved", today=date(2031, 5, 4))
    db.session.commit()
    assert [e.id for e in withdrawn] == [enrolment.id]
    assert status_of(enrolment) == EnrolmentStatus.WITHDRAWN


@pytest.mark.parametrize("reason", ["", "   "])
def test_deactivation_needs_a_reason_and_changes_nothing_without(make, hr_officer, learner, reason):
    enrolment = make.enrolment(make.course_class(), learner)
    with pytest.raises(ValidationFailed) as raised:
        staff.deactivate_employee(hr_officer, learner, reason)
    db.session.rollback()
    assert raised.value.field == "reason"
    assert fresh(learner).is_active
    assert status_of(enrolment) == EnrolmentStatus.CONFIRMED


def test_a_reason_that_is_too_long_is_refused(hr_officer, learner):
    with pytest.raises(ValidationFailed):
        staff.deactivate_employee(hr_officer, learner, "x" * 501)
    db.session.rollback()
    assert fresh(learner).is_active


def test_deactivating_someone_already_deactivated_is_refused(make, hr_officer, company):
    employee = make.user(company=company, name="Eve Ng", is_active=False)
    with pytest.raises(StaffActionRefused, match="Eve Ng is already deactivated"):
        staff.deactivate_employee(hr_officer, employee, "Again")
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_another_company_s_employee_cannot_be_deactivated(make, hr_officer, outsider):
    enrolment = make.enrolment(make.course_class(), outsider)
    with pytest.raises(NotFound):
        staff.deactivate_employee(hr_officer, outsider, "Not mine")
    db.session.rollback()
    assert fresh(outsider).is_active
    assert status_of(enrolment) == EnrolmentStatus.CONFIRMED


def test_an_hr_officer_is_not_an_employee_here(make, hr_officer, company):
    colleague = make.user(role="hr", company=company)
    with pytest.raises(NotFound):
        staff.deactivate_employee(hr_officer, colleague, "Not a learner")
    db.session.rollback()
    assert fresh(colleague).is_active


def test_reactivation_lets_them_in_again_but_does_not_restore_enrolments(make, hr_officer, learner):
    enrolment = make.enrolment(make.course_class(), learner)
    staff.deactivate_employee(hr_officer, learner, "Long leave")
    db.session.commit()
    staff.reactivate_employee(hr_officer, fresh(learner), "Back from leave")
    db.session.commit()
    employee = fresh(learner)
    assert employee.is_active
    assert employee.deactivated_at is None
    assert status_of(enrolment) == EnrolmentStatus.WITHDRAWN
    reasons = db.session.scalars(
        select(AuditEntry.summary).where(AuditEntry.action == "account.reactivated")
    ).all()
    assert reasons == ["Back from leave"]


def test_reactivating_an_active_employee_is_refused(hr_officer, learner):
    with pytest.raises(StaffActionRefused, match="already active"):
        staff.reactivate_employee(hr_officer, learner)


def test_another_company_s_employee_cannot_be_reactivated(make, hr_officer, other_company):
    gone = make.user(company=other_company, is_active=False)
    with pytest.raises(NotFound):
        staff.reactivate_employee(hr_officer, gone)
    db.session.rollback()
    assert not fresh(gone).is_active


# Nominations: service ---------------------------------------------------------------------


def test_a_nomination_skips_approval_and_takes_a_seat(make, outbox):
    company = make.company(requires_approval=True)
    officer = make.user(role="hr", company=company)
    employee = make.user(company=company)
    course_class = make.course_class(capacity=1)
    outcome = nominations.nominate_employee(officer, employee, course_class)
    db.session.commit()
    assert outcome.status == EnrolmentStatus.CONFIRMED
    assert outcome.enrolment.source == EnrolmentSource.NOMINATED
    assert outcome.enrolment.requested_by_id == officer.id
    assert db.session.get(CourseClass, course_class.id).seats_taken == 1
    assert [m.to for m in outbox] == [employee.email]


def test_a_nomination_keeps_its_note_in_the_history(make, hr_officer, learner):
    outcome = nominations.nominate_employee(
        hr_officer, learner, make.course_class(), note="  Team plan for 2026 "
    )
    db.session.commit()
    [step] = db.session.get(Enrolment, outcome.enrolment.id).history
    assert step.reasons == free_text("Team plan for 2026")


def test_the_nominee_is_found_among_the_officers_staff_only(
    make, hr_officer, learner, outsider, admin
):
    find = nominations.find_nominee
    assert find(hr_officer, employee_id=learner.id) == learner
    assert find(hr_officer, email=learner.email.upper()) == learner
    assert find(hr_officer, staff_number=f" {learner.staff_number} ") == learner
    assert find(hr_officer, employee_id=outsider.id) is None
    assert find(hr_officer, email=outsider.email) is None
    assert find(hr_officer, staff_number=outsider.staff_number) is None
    assert find(hr_officer, employee_id=hr_officer.id) is None
    assert find(hr_officer) is None
    # An admin enrols any learner, named by id or e-mail (a staff number is per company).
    assert find(admin, employee_id=outsider.id) == outsider
    assert find(admin, email=learner.email) == learner
    assert find(admin, staff_number=learner.staff_number) is None
    assert find(admin, employee_id=hr_officer.id) is None
    with pytest.raises(PermissionDenied):
        find(learner, employee_id=learner.id)


def test_a_nomination_into_a_full_class_joins_the_waitlist(make, hr_officer, learner, company):
    course_class = make.course_class(capacity=1)
    make.enrolment(course_class, make.user(company=company))
    outcome = nominations.nominate_employee(hr_officer, learner, course_class)
    assert outcome.status == EnrolmentStatus.WAITLISTED
    assert outcome.waitlist_position == 1


def test_a_nomination_obeys_the_rules(make, hr_officer, learner):
    closed = make.course_class(status=ClassStatus.CLOSED)
    with pytest.raises(ClassNotOpen):
        nominations.nominate_employee(hr_officer, learner, closed)
    db.session.rollback()
    assert enrolment_count() == 0


def test_another_company_s_employee_cannot_be_nominated(make, hr_officer, outsider):
    with pytest.raises(NotFound):
        nominations.nominate_employee(hr_officer, outsider, make.course_class())
    db.session.rollback()
    assert enrolment_count() == 0


def test_a_draft_class_is_not_found_for_hr(make, hr_officer, learner):
    with pytest.raises(NotFound):
        nominations.nominate_employee(
            hr_officer, learner, make.course_class(status=ClassStatus.DRAFT)
        )
    assert nominations.find_class(
        make.course_class(code="SU-DFT-1", status=ClassStatus.DRAFT).code
    ) is (None)
    hidden = make.course_class(code="SU-HID-1", course=make.course(status=CourseStatus.DRAFT))
    assert nominations.find_class(hidden.code) is None
    shown = make.course_class(code="SU-OPN-1")
    assert nominations.find_class(" su-opn-1 ") == shown
    assert nominations.find_class("") is None
    assert nominations.find_class("X" * 41) is None


def test_several_nominations_all_succeed_in_name_order(make, hr_officer, company, outbox):
    course_class = make.course_class(capacity=2)
    zoe = make.user(company=company, name="Zoe Yip")
    amy = make.user(company=company, name="Amy Chan")
    max_ = make.user(company=company, name="Max Lee")
    results = nominations.nominate_employees(
        hr_officer, course_class, [zoe.id, amy.id, max_.id, amy.id]
    )
    db.session.commit()
    assert [(r.name, r.status, r.waitlist_position) for r in results] == [
        ("Amy Chan", EnrolmentStatus.CONFIRMED, None),
        ("Max Lee", EnrolmentStatus.CONFIRMED, None),
        ("Zoe Yip", EnrolmentStatus.WAITLISTED, 1),
    ]
    assert enrolment_count(source=EnrolmentSource.NOMINATED) == 3
    assert sorted(m.to for m in outbox) == sorted([zoe.email, amy.email, max_.email])


def test_one_refusal_means_no_nomination_and_a_report_for_everyone(
    make, hr_officer, company, outbox
):
    starts = (utcnow() + timedelta(days=30)).date()
    make.quota(
        company, seats=1, starts_on=starts - timedelta(days=20), ends_on=starts + timedelta(10)
    )
    prerequisite = make.course(code="SU-PRE-001")
    course_class = make.course_class(course=make.course(prerequisites=[prerequisite]), capacity=5)
    amy = make.user(company=company, name="Amy Chan")
    ben = make.user(company=company, name="Ben Lau")
    gone = make.user(company=company, name="Cat Wong", is_active=False)
    done = started_class(make, course=prerequisite, status=ClassStatus.COMPLETED)
    make.enrolment(done, amy, EnrolmentStatus.COMPLETED)
    make.enrolment(done, ben, EnrolmentStatus.COMPLETED)

    with pytest.raises(NominationsRefused) as raised:
        nominations.nominate_employees(hr_officer, course_class, [amy.id, ben.id, gone.id])
    db.session.rollback()

    results = {r.name: r for r in raised.value.results}
    assert results["Amy Chan"].status == EnrolmentStatus.CONFIRMED
    assert not results["Amy Chan"].refused
    # The quota's one seat went to Amy earlier in the same batch.
    assert "quota" in str(results["Ben Lau"].refusal)
    assert "inactive" in str(results["Cat Wong"].refusal)
    assert [r.name for r in raised.value.accepted] == ["Amy Chan"]
    assert "2 of 3 nominations were refused" in str(raised.value.message)
    assert enrolment_count(class_id=course_class.id) == 0
    assert db.session.get(CourseClass, course_class.id).seats_taken == 0
    db.session.commit()
    assert outbox == []


def test_a_missing_prerequisite_is_reported(make, hr_officer, learner):
    prerequisite = make.course(code="SU-PRE-002")
    course_class = make.course_class(course=make.course(prerequisites=[prerequisite]))
    with pytest.raises(NominationsRefused) as raised:
        nominations.nominate_employees(hr_officer, course_class, [learner.id])
    assert "SU-PRE-002" in str(raised.value.results[0].refusal)


def test_an_employee_already_in_the_class_is_reported_by_name(make, hr_officer, learner):
    course_class = make.course_class()
    make.enrolment(course_class, learner, EnrolmentStatus.WAITLISTED)
    with pytest.raises(NominationsRefused) as raised:
        nominations.nominate_employees(hr_officer, course_class, [learner.id])
    assert str(raised.value.results[0].refusal) == (
        f"{learner.name} already has a place or a request in this class."
    )


def test_a_batch_with_another_company_s_employee_is_not_found(make, hr_officer, learner, outsider):
    course_class = make.course_class()
    for ids in ([learner.id, outsider.id], [learner.id, 999_999], [hr_officer.id]):
        with pytest.raises(NotFound):
            nominations.nominate_employees(hr_officer, course_class, ids)
        db.session.rollback()
    assert enrolment_count() == 0


def test_an_empty_batch_is_refused(make, hr_officer):
    with pytest.raises(ValidationFailed):
        nominations.nominate_employees(hr_officer, make.course_class(), [])


def test_class_staff_and_candidates(make, hr_officer, company, outsider):
    course_class = make.course_class(capacity=1)
    amy = make.user(company=company, name="Amy Chan")
    ben = make.user(company=company, name="Ben Lau")
    cat = make.user(company=company, name="Cat Wong")
    dan = make.user(company=company, name="Dan Ho")
    make.user(company=company, name="Eve Ng", is_active=False)
    make.enrolment(course_class, make.user(company=make.company()), EnrolmentStatus.WAITLISTED)
    make.enrolment(course_class, ben, EnrolmentStatus.WAITLISTED)
    make.enrolment(course_class, amy, EnrolmentStatus.CONFIRMED)
    make.enrolment(course_class, cat, EnrolmentStatus.WITHDRAWN)
    make.enrolment(course_class, outsider, EnrolmentStatus.WAITLISTED)

    rows = nominations.class_staff(hr_officer, course_class)
    assert [(r.enrolment.learner.name, r.waitlist_position) for r in rows] == [
        ("Amy Chan", None),
        ("Ben Lau", 2),
        ("Cat Wong", None),
    ]
    candidates = db.session.scalars(
        nominations.nomination_candidates(hr_officer, course_class)
    ).all()
    assert [u.name for u in candidates] == ["Cat Wong", "Dan Ho"]
    found = nominations.nomination_candidates(hr_officer, course_class, q="dan")
    assert [u.id for u in db.session.scalars(found)] == [dan.id]


# Pages: who may see them --------------------------------------------------------------------


ROUTES = [
    ("get", "/hr/staff"),
    ("get", "/hr/staff/{employee}"),
    ("post", "/hr/staff/{employee}/deactivate"),
    ("post", "/hr/staff/{employee}/reactivate"),
    ("post", "/hr/staff/{employee}/nominate"),
    ("get", "/hr/classes"),
    ("get", "/hr/classes/{code}"),
    ("post", "/hr/classes/{code}/nominate"),
]


@pytest.fixture
def scene(make, learner):
    return {"employee": learner.id, "code": make.course_class(code="SU-WEB-101-A").code}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_log_in(client, scene, learner, method, path):
    response = getattr(client, method)(path.format(**scene), data={"reason": "x"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert fresh(learner).is_active
    assert enrolment_count() == 0


@pytest.mark.parametrize("who", ["learner", "trainer", "admin"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_other_roles_are_forbidden(client, scene, login_as, request, who, method, path, learner):
    login_as(request.getfixturevalue(who))
    data = {"reason": "x", "employee_ids": [str(learner.id)], "class_code": scene["code"]}
    response = getattr(client, method)(path.format(**scene), data=data)
    assert response.status_code == 403
    assert fresh(learner).is_active
    assert enrolment_count() == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [(method, path) for method, path in ROUTES if "{employee}" in path],
)
def test_another_company_s_employee_is_not_found(
    client, scene, login_as, other_hr, learner, method, path
):
    login_as(other_hr)
    data = {"reason": "Not mine", "class_code": scene["code"]}
    response = getattr(client, method)(path.format(**scene), data=data)
    assert response.status_code == 404
    assert fresh(learner).is_active
    assert enrolment_count() == 0


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in ROUTES if "{employee}" in p])
def test_an_unknown_employee_is_not_found(client, login_as, hr_officer, method, path):
    login_as(hr_officer)
    response = getattr(client, method)(path.format(employee=999_999), data={"reason": "x"})
    assert response.status_code == 404


def test_another_company_s_employee_cannot_be_nominated_from_a_class_page(
    client, scene, login_as, other_hr, learner
):
    login_as(other_hr)
    response = client.post(
        f"/hr/classes/{scene['code']}/nominate", data={"employee_ids": [str(learner.id)]}
    )
    assert response.status_code == 404
    assert enrolment_count() == 0


def test_a_deactivated_employee_of_another_company_is_not_reactivated(
    client, login_as, hr_officer, make, other_company
):
    gone = make.user(company=other_company, is_active=False)
    login_as(hr_officer)
    assert client.post(f"/hr/staff/{gone.id}/reactivate").status_code == 404
    assert not fresh(gone).is_active


@pytest.mark.parametrize("code", ["NO-SUCH-CLASS", "SU-DRAFT-1"])
def test_unknown_and_draft_classes_are_not_found(client, make, login_as, hr_officer, code, learner):
    make.course_class(code="SU-DRAFT-1", status=ClassStatus.DRAFT)
    login_as(hr_officer)
    assert client.get(f"/hr/classes/{code}").status_code == 404
    response = client.post(f"/hr/classes/{code}/nominate", data={"employee_ids": [str(learner.id)]})
    assert response.status_code == 404
    assert enrolment_count() == 0


# Pages: the directory -----------------------------------------------------------------------


def test_the_directory_page_shows_each_employee_with_counts(
    client, make, login_as, hr_officer, people
):
    amy = people["amy"]
    make.enrolment(make.course_class(), amy, EnrolmentStatus.CONFIRMED)
    make.enrolment(make.course_class(), amy, EnrolmentStatus.COMPLETED)
    body = text(login_as(hr_officer).get("/hr/staff"))
    assert "4 employees" in body
    assert "Amy Outsider" not in body
    row = re.search(r"Amy Chan</a>.*?</tr>", body, re.S).group(0)
    assert "HB-0001" in row
    assert "Cloud" in row
    assert "Engineer" in row
    assert "Active" in row
    assert re.findall(r'<td class="numeric"[^>]*>(\d+)</td>', row) == ["1", "1"]
    assert "Invited" in re.search(r"Cat Wong</a>.*?</tr>", body, re.S).group(0)
    assert "Deactivated" in re.search(r"Dan Ho</a>.*?</tr>", body, re.S).group(0)
    assert 'href="/hr/staff/invite"' in body
    assert f'href="/hr/staff/{amy.id}"' in body


def test_the_directory_page_filters_and_sorts(client, login_as, hr_officer, people):
    login_as(hr_officer)
    body = text(client.get("/hr/staff?q=HB-000&status=active&sort=department"))
    assert "2 employees" in body
    assert body.index("Ben Lau") < body.index("Amy Chan")
    assert "Cat Wong" not in body
    body = text(client.get("/hr/staff?department=Cloud"))
    assert "2 employees" in body
    assert '<option selected value="Cloud">Cloud</option>' in body


def test_bad_filters_are_explained_not_a_500(client, login_as, hr_officer, people):
    login_as(hr_officer)
    response = client.get(
        "/hr/staff?status=bogus&sort=age&department=Nowhere&page=abc&q=" + "x" * 101
    )
    assert response.status_code == 200
    body = text(response)
    assert "Not a valid choice" in body
    assert "Field cannot be longer than 100 characters." in body
    assert "4 employees" in body  # the bad filters are left out


def test_the_directory_pages_through_many_employees(client, make, login_as, hr_officer, company):
    for n in range(27):
        make.user(company=company, name=f"Staff {n:02d}")
    login_as(hr_officer)
    first = text(client.get("/hr/staff"))
    assert "27 employees" in first
    assert "page 1 of 2" in first
    assert "Staff 24" in first and "Staff 25" not in first
    second = text(client.get("/hr/staff?page=2"))
    assert "Staff 25" in second and "Staff 26" in second and "Staff 00" not in second
    beyond = client.get("/hr/staff?page=9")
    assert beyond.status_code == 200
    assert "No employee matches these filters." in text(beyond)


def test_the_employee_pages_take_the_same_number_of_queries_for_3_and_30_employees(
    client, make, login_as, hr_officer, company
):
    course_class = make.course_class(code="SU-CNT-1", capacity=1)

    def add_employees(count: int) -> None:
        """Each in a class of their own; every third also on the waitlist of SU-CNT-1."""
        for n in range(count):
            employee = make.user(company=company, department=f"Dept {n % 4}")
            make.enrolment(make.course_class(), employee, EnrolmentStatus.CONFIRMED)
            if n % 3 == 0:
                make.enrolment(course_class, employee, EnrolmentStatus.WAITLISTED)

    add_employees(3)
    login_as(hr_officer)
    client.get("/hr/staff")
    few_list_response, few_list = page_queries(client, "/hr/staff")
    _, few_class = page_queries(client, f"/hr/classes/{course_class.code}")
    _, few_classes = page_queries(client, "/hr/classes")

    add_employees(27)
    many_list_response, many_list = page_queries(client, "/hr/staff")
    _, many_class = page_queries(client, f"/hr/classes/{course_class.code}")
    _, many_classes = page_queries(client, "/hr/classes")

    assert "3 employees" in text(few_list_response)
    assert "30 employees" in text(many_list_response)
    assert len(few_list) == len(many_list), "\n".join(many_list)
    assert len(many_list) <= 8
    assert len(few_class) == len(many_class), "\n".join(many_class)
    assert len(few_classes) == len(many_classes), "\n".join(many_classes)


def test_the_employee_page_takes_the_same_number_of_queries_for_3_and_30_enrolments(
    client, make, login_as, hr_officer, learner
):
    def add_enrolments(count: int) -> None:
        for n in range(count):
            course_class = make.course_class(sessions=2)
            enrolment = make.enrolment(
                course_class, learner, EnrolmentStatus.CONFIRMED, result_score=Decimal(n)
            )
            db.session.add(
                Attendance(
                    enrolment=enrolment,
                    session=course_class.sessions[0],
                    status=AttendanceStatus.PRESENT,
                )
            )
            db.session.add(
                Certificate(
                    enrolment=enrolment,
                    serial_number=f"SN-{enrolment.id}",
                    verification_code=f"code-{enrolment.id}",
                )
            )
            db.session.add(
                EnrolmentStatusChange(
                    enrolment_id=enrolment.id,
                    to_status=EnrolmentStatus.CONFIRMED,
                    actor_id=hr_officer.id,
                )
            )
        waiting = make.enrolment(make.course_class(), learner, EnrolmentStatus.WAITLISTED)
        assert waiting.id
        db.session.commit()

    add_enrolments(3)
    login_as(hr_officer)
    client.get(f"/hr/staff/{learner.id}")
    few_response, few = page_queries(client, f"/hr/staff/{learner.id}")
    add_enrolments(27)
    many_response, many = page_queries(client, f"/hr/staff/{learner.id}")
    assert few_response.status_code == many_response.status_code == 200
    assert text(many_response).count("SN-") == 30
    assert len(few) == len(many), "\n".join(many)


# Pages: an employee --------------------------------------------------------------------------


def test_the_employee_page_shows_their_learning(client, make, login_as, hr_officer, learner):
    first = datetime(2030, 3, 4, 1, 30, tzinfo=UTC)  # 09:30 in Hong Kong
    course = make.course(code="SU-SEC-201", title_en="Security operations")
    running = make.course_class(
        course=course, code="SU-SEC-201-A", sessions=4, first_session=first, min_attendance_pct=80
    )
    enrolment = make.enrolment(running, learner, EnrolmentStatus.CONFIRMED, requested_by=hr_officer)
    enrolment.source = EnrolmentSource.NOMINATED
    _mark(enrolment, [AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED])
    running.sessions[3].starts_at = datetime(2020, 1, 1, 1, 30, tzinfo=UTC)
    running.sessions[3].ends_at = datetime(2020, 1, 1, 4, 30, tzinfo=UTC)
    done = make.course_class(code="SU-DONE-1", status=ClassStatus.COMPLETED)
    finished = make.enrolment(
        done, learner, EnrolmentStatus.COMPLETED, result_score=Decimal("91"), result_passed=True
    )
    db.session.add(
        Certificate(
            enrolment=finished,
            serial_number="SU-2026-000777",
            verification_code="w" * 40,
            issued_at=datetime(2026, 1, 15, 4, 0, tzinfo=UTC),
        )
    )
    revoked = make.enrolment(
        make.course_class(code="SU-OLD-1", status=ClassStatus.COMPLETED),
        learner,
        EnrolmentStatus.COMPLETED,
        result_passed=False,
    )
    db.session.add(
        Certificate(
            enrolment=revoked,
            serial_number="SU-2025-000001",
            verification_code="r" * 40,
            revoked_at=utcnow(),
        )
    )
    db.session.add(
        EnrolmentStatusChange(
            enrolment_id=enrolment.id,
            from_status=None,
            to_status=EnrolmentStatus.CONFIRMED,
            actor_id=hr_officer.id,
            reasons=free_text("Security team plan"),
        )
    )
    db.session.commit()

    body = text(login_as(hr_officer).get(f"/hr/staff/{learner.id}"))
    assert learner.email in body
    assert learner.staff_number in body
    assert "SU-SEC-201-A" in body
    assert "Security operations" in body
    assert "Nominated by HR" in body
    assert hr_officer.name in body
    attendance = body.split(f'id="attendance-{enrolment.id}"', 1)[1].split("</article>", 1)[0]
    assert "9:30" in attendance  # Hong Kong time
    assert not re.search(r"(?<!\d)1:30", attendance)
    assert "Absent" in body and "Excused" in body
    assert "Not marked" in body
    assert "At risk" in body
    assert re.search(r'<td class="numeric"[^>]*>91</td>', body)
    assert "Passed" in body and "Failed" in body
    assert "SU-2026-000777" in body and "Valid" in body
    assert "SU-2025-000001" in body and "Revoked" in body
    assert "Security team plan" in body


def test_the_employee_page_of_a_newcomer(client, make, login_as, hr_officer, company):
    newcomer = make.user(company=company, name="Ned Kwok", password=None, invited_at=utcnow())
    body = text(login_as(hr_officer).get(f"/hr/staff/{newcomer.id}"))
    assert "Ned Kwok has no enrolment yet." in body
    assert "no password set yet" in body
    assert "No certificates yet." in body


# Pages: deactivation -------------------------------------------------------------------------


def test_deactivating_through_the_page(client, make, login_as, hr_officer, learner, company):
    course_class = make.course_class(code="SU-NET-1", capacity=1)
    enrolment = make.enrolment(course_class, learner)
    waiting = make.enrolment(course_class, make.user(company=company), EnrolmentStatus.WAITLISTED)
    login_as(hr_officer)
    response = client.post(f"/hr/staff/{learner.id}/deactivate", data={"reason": "Resigned"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/hr/staff/{learner.id}"
    messages = flashes(client)
    assert f"{learner.name} has been deactivated and logged out everywhere." in messages
    assert any("SU-NET-1" in m and "withdrawn" in m for m in messages)
    assert not fresh(learner).is_active
    assert status_of(enrolment) == EnrolmentStatus.WITHDRAWN
    assert status_of(waiting) == EnrolmentStatus.CONFIRMED
    body = text(client.get(f"/hr/staff/{learner.id}"))
    assert "Resigned" in body
    assert "Reactivate the account" in body


def test_the_deactivated_employee_is_logged_out(app, make, login_as, hr_officer, learner):
    theirs = app.test_client()
    login = theirs.post("/login", data={"email": learner.email, "password": PASSWORD})
    assert login.status_code == 302
    assert theirs.get("/my-learning").status_code == 200
    login_as(hr_officer).post(f"/hr/staff/{learner.id}/deactivate", data={"reason": "Left"})
    response = theirs.get("/my-learning")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_deactivating_without_a_reason_is_explained(client, make, login_as, hr_officer, learner):
    enrolment = make.enrolment(make.course_class(), learner)
    login_as(hr_officer)
    response = client.post(f"/hr/staff/{learner.id}/deactivate", data={"reason": "  "})
    assert response.status_code == 400  # the confirmation page again, asking why
    assert "Give a reason for the deactivation." in text(response)
    assert fresh(learner).is_active
    assert status_of(enrolment) == EnrolmentStatus.CONFIRMED


def test_deactivating_twice_is_explained(client, make, login_as, hr_officer, company):
    gone = make.user(company=company, name="Eve Ng", is_active=False)
    login_as(hr_officer)
    response = client.post(f"/hr/staff/{gone.id}/deactivate", data={"reason": "Again"})
    assert response.status_code == 302
    assert flashes(client) == ["Eve Ng is already deactivated."]
    assert fresh(gone).deactivated_at is None


def test_reactivating_through_the_page(client, make, login_as, hr_officer, company):
    gone = make.user(company=company, name="Eve Ng", is_active=False, deactivated_at=utcnow())
    login_as(hr_officer)
    response = client.post(f"/hr/staff/{gone.id}/reactivate", data={"reason": "Rejoined"})
    assert response.status_code == 302
    assert "Eve Ng's account is active again." in flashes(client)
    assert fresh(gone).is_active
    again = client.post(f"/hr/staff/{gone.id}/reactivate", data={})
    assert again.status_code == 302
    assert flashes(client) == ["Eve Ng is already active."]


def test_a_too_long_reactivation_reason_is_explained(client, make, login_as, hr_officer, company):
    gone = make.user(company=company, is_active=False)
    login_as(hr_officer)
    response = client.post(f"/hr/staff/{gone.id}/reactivate", data={"reason": "x" * 501})
    assert response.status_code == 200
    assert "Field cannot be longer than 500 characters." in text(response)
    assert not fresh(gone).is_active


# Pages: nominating one employee ---------------------------------------------------------------


def test_nominating_from_the_list_of_open_classes(client, make, login_as, hr_officer, learner):
    course_class = make.course_class(code="SU-CLD-101-A")
    make.course_class(code="SU-CLOSED-1", status=ClassStatus.CLOSED)
    login_as(hr_officer)
    page = text(client.get(f"/hr/staff/{learner.id}"))
    assert f'<option value="{course_class.id}">SU-CLD-101-A' in page
    assert "SU-CLOSED-1" not in page
    response = client.post(
        f"/hr/staff/{learner.id}/nominate", data={"class_id": str(course_class.id)}
    )
    assert response.status_code == 302
    assert flashes(client) == [f"{learner.name}: confirmed. (SU-CLD-101-A)"]
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.source == EnrolmentSource.NOMINATED
    assert enrolment.status == EnrolmentStatus.CONFIRMED
    # Now in it, the class is no longer offered for them.
    assert f'<option value="{course_class.id}">' not in text(client.get(f"/hr/staff/{learner.id}"))


def test_nominating_by_class_code_into_a_full_class(
    client, make, login_as, hr_officer, learner, company
):
    course_class = make.course_class(code="SU-AI-300-B", capacity=1)
    make.enrolment(course_class, make.user(company=company))
    login_as(hr_officer)
    response = client.post(f"/hr/staff/{learner.id}/nominate", data={"class_code": "su-ai-300-b"})
    assert response.status_code == 302
    assert flashes(client) == [
        f"{learner.name}: the class is full, 1st on the waitlist. (SU-AI-300-B)"
    ]
    assert enrolment_count(status=EnrolmentStatus.WAITLISTED) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a class from the list or type its code."),
        ({"class_code": "NO-SUCH-CLASS"}, "No class has the code NO-SUCH-CLASS."),
        ({"class_code": "SU-DRAFT-9"}, "No class has the code SU-DRAFT-9."),
        ({"class_code": "SU-SHUT-9"}, "This class is not open for enrolment."),
        ({"class_code": "SU-OPEN-9", "class_id": "1"}, "not both"),
        ({"class_id": "abc"}, "Choose a class from the list."),
        ({"class_id": "999999"}, "That class is no longer offered"),
        ({"class_code": "X" * 41}, "Field cannot be longer than 40 characters."),
    ],
)
def test_bad_nominations_from_the_employee_page_are_explained(
    client, make, login_as, hr_officer, learner, data, message
):
    make.course_class(code="SU-DRAFT-9", status=ClassStatus.DRAFT)
    make.course_class(code="SU-SHUT-9", status=ClassStatus.CLOSED)
    make.course_class(code="SU-OPEN-9")
    login_as(hr_officer)
    response = client.post(f"/hr/staff/{learner.id}/nominate", data=data)
    assert response.status_code == 200
    assert message in text(response)
    assert enrolment_count() == 0


def test_a_deactivated_employee_is_offered_no_nomination(client, make, login_as, hr_officer):
    gone = make.user(company=hr_officer.company, is_active=False)
    course_class = make.course_class(code="SU-OPEN-7")
    login_as(hr_officer)
    assert 'id="nominate"' not in text(client.get(f"/hr/staff/{gone.id}"))
    response = client.post(f"/hr/staff/{gone.id}/nominate", data={"class_id": str(course_class.id)})
    assert response.status_code == 200
    assert "This account cannot enrol" in text(response)
    assert enrolment_count() == 0


# Pages: a class, and nominating several employees ---------------------------------------------


def test_the_class_page_shows_the_class_and_the_company_s_staff_in_it(
    client, make, login_as, hr_officer, company, outsider
):
    course_class = make.course_class(code="SU-DAT-200-A", capacity=2)
    amy = make.user(company=company, name="Amy Chan")
    ben = make.user(company=company, name="Ben Lau")
    make.user(company=company, name="Cat Wong")
    make.enrolment(course_class, amy)
    make.enrolment(course_class, outsider)
    make.enrolment(course_class, ben, EnrolmentStatus.WAITLISTED)
    body = text(login_as(hr_officer).get("/hr/classes/su-dat-200-a"))
    assert "SU-DAT-200-A" in body
    assert "Open for enrolment" in body
    assert "0 left of 2" in body
    assert "Oscar Outsider" not in body
    staff_section = body.split('id="in-class"', 1)[1].split('id="nominate"', 1)[0]
    assert "Amy Chan" in staff_section and "Confirmed" in staff_section
    assert "Ben Lau" in staff_section and "1st on the waitlist" in staff_section
    nominate_section = body.split('id="nominate"', 1)[1]
    assert "Cat Wong" in nominate_section
    assert "Amy Chan" not in nominate_section
    assert "1 employee can be nominated" in nominate_section


def test_the_class_page_finds_candidates(client, make, login_as, hr_officer, company):
    course_class = make.course_class(code="SU-FIND-1")
    make.user(company=company, name="Amy Chan", department="Cloud")
    make.user(company=company, name="Ben Lau", department="Apps")
    login_as(hr_officer)
    body = text(client.get("/hr/classes/SU-FIND-1?q=amy"))
    nominate_section = body.split('id="nominate"', 1)[1]
    assert "Amy Chan" in nominate_section and "Ben Lau" not in nominate_section
    body = text(client.get("/hr/classes/SU-FIND-1?department=Apps"))
    nominate_section = body.split('id="nominate"', 1)[1]
    assert "Ben Lau" in nominate_section and "Amy Chan" not in nominate_section
    assert course_class.code in body


def test_a_class_not_taking_enrolments_offers_no_nomination(client, make, login_as, hr_officer):
    make.course_class(code="SU-RUN-1", status=ClassStatus.RUNNING)
    body = text(login_as(hr_officer).get("/hr/classes/SU-RUN-1"))
    assert "This class is not taking enrolments now" in body
    assert 'name="employee_ids"' not in body


def test_nominating_several_employees_from_the_class_page(
    client, make, login_as, hr_officer, company, outbox
):
    course_class = make.course_class(code="SU-PM-100-A", capacity=1)
    amy = make.user(company=company, name="Amy Chan")
    ben = make.user(company=company, name="Ben Lau")
    login_as(hr_officer)
    response = client.post(
        "/hr/classes/SU-PM-100-A/nominate", data={"employee_ids": [str(ben.id), str(amy.id)]}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/hr/classes/SU-PM-100-A"
    assert flashes(client) == [
        "2 employees nominated into SU-PM-100-A.",
        "Amy Chan: confirmed.",
        "Ben Lau: the class is full, 1st on the waitlist.",
    ]
    assert enrolment_count(source=EnrolmentSource.NOMINATED) == 2
    assert sorted(m.to for m in outbox) == sorted([amy.email, ben.email])
    assert db.session.get(CourseClass, course_class.id).seats_taken == 1


def test_a_refused_nomination_saves_none_and_reports_each(
    client, make, login_as, hr_officer, company, outbox
):
    course_class = make.course_class(code="SU-ITS-1")
    clash = make.course_class(code="SU-ITS-2", sessions=1, first_session=utcnow() + timedelta(30))
    course_class.sessions.append(
        type(clash.sessions[0])(
            starts_at=clash.sessions[0].starts_at, ends_at=clash.sessions[0].ends_at
        )
    )
    db.session.commit()
    amy = make.user(company=company, name="Amy Chan")
    ben = make.user(company=company, name="Ben Lau")
    make.enrolment(clash, ben)
    login_as(hr_officer)
    response = client.post(
        "/hr/classes/SU-ITS-1/nominate", data={"employee_ids": [str(amy.id), str(ben.id)]}
    )
    assert response.status_code == 200
    body = text(response)
    assert "No one was nominated" in body
    assert "1 of the nominations was refused, so none was saved" in body
    report = body.split('id="nomination-report"', 1)[1].split("</section>", 1)[0]
    assert "Amy Chan" in report and "Would have been confirmed." in report
    assert "Ben Lau" in report and "SU-ITS-2" in report
    assert f'<input type="hidden" name="employee_ids" value="{amy.id}">' in report
    assert f'value="{ben.id}"' not in report
    assert enrolment_count(class_id=course_class.id) == 0
    assert outbox == []

    again = client.post("/hr/classes/SU-ITS-1/nominate", data={"employee_ids": [str(amy.id)]})
    assert again.status_code == 302
    assert enrolment_count(class_id=course_class.id) == 1


@pytest.mark.parametrize("data", [{}, {"employee_ids": ["abc"]}, {"employee_ids": [""]}])
def test_nominating_no_one_is_explained(client, make, login_as, hr_officer, data):
    make.course_class(code="SU-EMPTY-1")
    login_as(hr_officer)
    response = client.post("/hr/classes/SU-EMPTY-1/nominate", data=data)
    assert response.status_code == 302
    assert flashes(client) == ["Choose at least one employee from the list."]
    assert enrolment_count() == 0


def test_nominating_into_a_class_that_is_not_open_reports_why(
    client, make, login_as, hr_officer, learner
):
    make.course_class(code="SU-RUN-2", status=ClassStatus.RUNNING)
    login_as(hr_officer)
    response = client.post(
        "/hr/classes/SU-RUN-2/nominate", data={"employee_ids": [str(learner.id)]}
    )
    assert response.status_code == 200
    assert "This class is not open for enrolment." in text(response)
    assert enrolment_count() == 0


def test_the_open_classes_list(client, make, login_as, hr_officer, learner):
    open_class = make.course_class(code="SU-LIST-1", course=make.course(title_en="Kubernetes"))
    make.course_class(code="SU-LIST-2", status=ClassStatus.CLOSED)
    make.course_class(code="SU-LIST-3", course=make.course(status=CourseStatus.DRAFT))
    make.enrolment(open_class, learner)
    login_as(hr_officer)
    body = text(client.get("/hr/classes"))
    assert "SU-LIST-1" in body
    assert "SU-LIST-2" not in body and "SU-LIST-3" not in body
    row = re.search(r"SU-LIST-1</a>.*?</tr>", body, re.S).group(0)
    assert re.findall(r'<td class="numeric"[^>]*>(\d+)</td>', row) == ["19", "1"]
    assert "SU-LIST-1" in text(client.get("/hr/classes?q=kubern"))
    assert "SU-LIST-1" not in text(client.get("/hr/classes?q=nothing-like-it"))
