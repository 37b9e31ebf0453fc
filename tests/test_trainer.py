"""Trainers' classes: home, roster, attendance, results and closing a class.

Service tests call the trainer's services (:mod:`skillsup.services.rosters` and the modules
beside it) inside a request, as the views do, and read the database back; page tests go
through the client.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from skillsup import labels
from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    Certificate,
    ClassSession,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    User,
    utcnow,
)
from skillsup.reasons import ATTENDANCE_BELOW_MINIMUM, free_text, reason, render, render_one
from skillsup.services import (
    assessment_results,
    attendance_sheets,
    class_closing,
    rosters,
    trainer_home,
)
from skillsup.services.assessment_results import ResultEntry
from skillsup.services.errors import NotFound, PermissionDenied

from .queries import page_queries

PRESENT, LATE, ABSENT, EXCUSED = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
)


# Scenes ------------------------------------------------------------------------------------


@pytest.fixture
def in_request(app: Any) -> Iterator[None]:
    """Run a service test in a request, as the views call the services."""
    with app.test_request_context("/"):
        yield


@dataclass
class Scene:
    course_class: CourseClass
    enrolments: list[Enrolment]

    @property
    def sessions(self) -> list[ClassSession]:
        return self.course_class.sessions

    @property
    def code(self) -> str:
        return self.course_class.code


def a_class(
    make: Any,
    trainer: User,
    company: Any,
    *,
    learners: int = 3,
    past_sessions: int = 4,
    future_sessions: int = 0,
    status: ClassStatus = ClassStatus.RUNNING,
    names: list[str] | None = None,
    **fields: Any,
) -> Scene:
    """A class of ``trainer`` whose first ``past_sessions`` weekly 3-hour sessions are over
    and the next ``future_sessions`` still ahead, with confirmed learners."""
    # The last past session was six days ago; the first one ahead is tomorrow.
    start = (utcnow() - timedelta(days=7 * past_sessions - 1)).replace(microsecond=0)
    fields.setdefault("course", make.course(title_en="Cloud Foundations", title_zh="雲端基礎"))
    course_class = make.course_class(
        trainers=[trainer],
        sessions=past_sessions + future_sessions,
        first_session=start,
        status=status,
        capacity=max(learners, 1) + 5,
        **fields,
    )
    enrolments = []
    for n in range(learners):
        name = names[n] if names else f"Learner {n:02d}"
        person = make.user(company=company, name=name, department="Infrastructure")
        enrolments.append(make.enrolment(course_class, person))
    return Scene(course_class, enrolments)


def mark(scene: Scene, statuses_by_learner: list[list[AttendanceStatus | None]]) -> None:
    """Record attendance directly: one list of statuses (by session) per learner."""
    for enrolment, statuses in zip(scene.enrolments, statuses_by_learner, strict=True):
        for session, status in zip(scene.sessions, statuses, strict=False):
            if status is not None:
                db.session.add(
                    Attendance(enrolment_id=enrolment.id, session_id=session.id, status=status)
                )
    db.session.commit()


def attendance_of(enrolment: Enrolment, session: ClassSession) -> AttendanceStatus | None:
    return db.session.scalar(
        select(Attendance.status).where(
            Attendance.enrolment_id == enrolment.id, Attendance.session_id == session.id
        )
    )


def count(model: Any, *conditions: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def audit_actions(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def squash(value: str) -> str:
    return re.sub(r"\s+", " ", value)


@pytest.fixture
def other_trainer(make: Any) -> User:
    return make.user(role="trainer", email="other.trainer@skillsup.test", name="Olive Other")


# Loading: who sees which class -------------------------------------------------------------


def test_a_trainer_loads_only_their_own_classes_and_an_admin_any(
    in_request, make, trainer, other_trainer, admin, company
):
    scene = a_class(make, trainer, company, learners=0)
    assert rosters.load_class(trainer, scene.code.lower()) == scene.course_class
    assert rosters.load_class(admin, scene.code) == scene.course_class
    with pytest.raises(NotFound):
        rosters.load_class(other_trainer, scene.code)
    with pytest.raises(NotFound):
        rosters.load_class(trainer, "NO-SUCH-CLASS")
    with pytest.raises(NotFound):
        rosters.load_class(trainer, "X" * 500)


def test_a_session_of_another_class_is_not_found(in_request, make, trainer, company):
    mine = a_class(make, trainer, company, learners=0)
    other = a_class(make, trainer, company, learners=0)
    assert rosters.load_session(mine.course_class, mine.sessions[0].id) == mine.sessions[0]
    with pytest.raises(NotFound):
        rosters.load_session(mine.course_class, other.sessions[0].id)
    with pytest.raises(NotFound):
        rosters.load_session(mine.course_class, 999_999)


# Home --------------------------------------------------------------------------------------


def test_home_groups_the_trainers_classes_running_upcoming_and_past(
    in_request, make, trainer, other_trainer, company
):
    running = a_class(make, trainer, company, learners=1, past_sessions=2, future_sessions=2)
    upcoming = make.course_class(trainers=[trainer], sessions=2, status=ClassStatus.OPEN)
    ended = a_class(make, trainer, company, learners=0, past_sessions=2)
    completed = a_class(make, trainer, company, learners=0, status=ClassStatus.COMPLETED)
    others = make.course_class(trainers=[other_trainer], sessions=1)

    home = trainer_home.trainer_home(trainer)

    assert [h.course_class.code for h in home.running] == [running.code]
    assert [h.course_class.code for h in home.upcoming] == [upcoming.code]
    assert {h.course_class.code for h in home.past} == {ended.code, completed.code}
    assert others.code not in {h.course_class.code for h in home.running + home.upcoming}
    ended_row = next(h for h in home.past if h.course_class.code == ended.code)
    assert ended_row.needs_closing
    assert not next(h for h in home.past if h.course_class.code == completed.code).needs_closing
    assert home.running[0].confirmed == 1
    # Next sessions: the running class's and the upcoming class's, soonest first.
    starts = [item.session.starts_at for item in home.next_sessions]
    assert starts == sorted(starts)
    assert {item.course_class.code for item in home.next_sessions} == {
        running.code,
        upcoming.code,
    }
    assert not home.sees_all


def test_an_admins_home_lists_every_running_and_upcoming_class(
    in_request, make, trainer, other_trainer, admin, company
):
    running = a_class(make, trainer, company, learners=0, past_sessions=1, future_sessions=1)
    upcoming = make.course_class(trainers=[other_trainer], sessions=1)
    completed = a_class(make, trainer, company, learners=0, status=ClassStatus.COMPLETED)
    cancelled = make.course_class(sessions=1, status=ClassStatus.CANCELLED)

    home = trainer_home.trainer_home(admin)

    listed = {h.course_class.code for h in home.running + home.upcoming + home.past}
    assert {running.code, upcoming.code} <= listed
    assert completed.code not in listed
    assert cancelled.code not in listed
    assert home.sees_all


# Roster ------------------------------------------------------------------------------------


def test_roster_shows_standing_at_risk_and_the_waitlist_in_order(
    in_request, make, trainer, company
):
    scene = a_class(
        make,
        trainer,
        company,
        learners=2,
        past_sessions=4,
        future_sessions=1,
        names=["Bea Lam", "Al Wong"],
    )
    bea, al = scene.enrolments
    # Bea: absent twice of five sessions: 3/5 = 60 % at best: at risk.
    mark(scene, [[ABSENT, ABSENT, PRESENT, PRESENT], [PRESENT, LATE, PRESENT, PRESENT]])
    first = make.enrolment(
        scene.course_class, make.user(company=company, name="Wai First"), EnrolmentStatus.WAITLISTED
    )
    second = make.enrolment(
        scene.course_class,
        make.user(company=company, name="Wai Second"),
        EnrolmentStatus.WAITLISTED,
    )
    first.waitlisted_at = utcnow() - timedelta(hours=2)
    second.waitlisted_at = utcnow() - timedelta(hours=1)
    db.session.commit()

    data = rosters.roster(scene.course_class)

    assert [row.learner.name for row in data.rows] == ["Al Wong", "Bea Lam"]
    standing = {row.enrolment.id: row.standing for row in data.rows}
    assert standing[bea.id].at_risk
    assert standing[bea.id].attended_sessions == 2
    assert not standing[al.id].at_risk
    assert standing[al.id].attended_hours == 12
    assert [(w.position, w.learner.name) for w in data.waitlist] == [
        (1, "Wai First"),
        (2, "Wai Second"),
    ]
    assert [s.marked for s in data.sessions] == [2, 2, 2, 2, 0]


def test_csv_cells_that_could_start_a_formula_are_escaped():
    assert rosters.csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert rosters.csv_cell("+852 1234") == "'+852 1234"
    assert rosters.csv_cell("-1") == "'-1"
    assert rosters.csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert rosters.csv_cell("\tTab") == "'\tTab"
    assert rosters.csv_cell("Amy = Chan") == "Amy = Chan"
    assert rosters.csv_cell(None) == ""
    assert rosters.csv_cell(80.5) == "80.5"


# Attendance: the service -------------------------------------------------------------------


def test_record_attendance_marks_the_learners_and_audits_each_mark(
    in_request, make, trainer, company
):
    scene = a_class(make, trainer, company, learners=3)
    session = scene.sessions[0]
    a, b, c = scene.enrolments

    changes = attendance_sheets.record_attendance(
        trainer, session, {a.id: PRESENT, b.id: "late", c.id: AttendanceStatus.EXCUSED}
    )
    db.session.commit()

    assert [(ch.enrolment_id, ch.old, ch.new) for ch in changes] == [
        (a.id, None, PRESENT),
        (b.id, None, LATE),
        (c.id, None, EXCUSED),
    ]
    assert attendance_of(b, session) == LATE
    row = db.session.scalar(select(Attendance).where(Attendance.enrolment_id == a.id))
    assert row.marked_by_id == trainer.id
    entries = audit_actions("attendance.marked")
    assert len(entries) == 3
    assert entries[1].actor_id == trainer.id
    assert entries[1].details["from"] is None
    assert entries[1].details["to"] == "late"
    assert entries[1].details["session_id"] == session.id
    assert entries[1].details["learner_id"] == b.learner_id


def test_a_correction_is_audited_with_the_old_and_new_status(
    in_request, make, trainer, admin, company
):
    scene = a_class(make, trainer, company, learners=2)
    session = scene.sessions[1]
    a, b = scene.enrolments
    attendance_sheets.record_attendance(trainer, session, {a.id: PRESENT, b.id: PRESENT})
    db.session.commit()

    changes = attendance_sheets.record_attendance(admin, session, {a.id: ABSENT, b.id: PRESENT})
    db.session.commit()

    assert [(ch.enrolment_id, ch.old, ch.new) for ch in changes] == [(a.id, PRESENT, ABSENT)]
    assert attendance_of(a, session) == ABSENT
    corrected = audit_actions("attendance.corrected")
    assert len(corrected) == 1
    assert corrected[0].actor_id == admin.id
    assert corrected[0].details["from"] == "present"
    assert corrected[0].details["to"] == "absent"
    assert corrected[0].occurred_at is not None
    row = db.session.scalar(select(Attendance).where(Attendance.enrolment_id == a.id))
    assert row.marked_by_id == admin.id
    assert count(Attendance) == 2


def test_attendance_for_a_future_session_is_refused_and_nothing_saved(
    in_request, make, trainer, company
):
    scene = a_class(make, trainer, company, learners=1, past_sessions=1, future_sessions=1)
    future = scene.sessions[1]
    with pytest.raises(attendance_sheets.SessionNotStarted):
        attendance_sheets.record_attendance(trainer, future, {scene.enrolments[0].id: PRESENT})
    db.session.rollback()
    assert count(Attendance) == 0


def test_a_session_that_has_started_can_be_marked(in_request, make, trainer, company):
    scene = a_class(make, trainer, company, learners=1, past_sessions=0, future_sessions=1)
    session = scene.sessions[0]
    later = session.starts_at + timedelta(minutes=5)
    attendance_sheets.record_attendance(trainer, session, {scene.enrolments[0].id: LATE}, now=later)
    assert attendance_of(scene.enrolments[0], session) == LATE
    with pytest.raises(attendance_sheets.SessionNotStarted):
        attendance_sheets.record_attendance(
            trainer,
            session,
            {scene.enrolments[0].id: PRESENT},
            now=session.starts_at - timedelta(seconds=1),
        )


def test_attendance_for_a_learner_not_on_the_roster_saves_nothing(
    in_request, make, trainer, company
):
    scene = a_class(make, trainer, company, learners=1)
    waiting = make.enrolment(
        scene.course_class, make.user(company=company), EnrolmentStatus.WAITLISTED
    )
    elsewhere = a_class(make, trainer, company, learners=1).enrolments[0]
    session = scene.sessions[0]
    mine = scene.enrolments[0]
    for stranger in (waiting.id, elsewhere.id, 987_654):
        with pytest.raises(rosters.NotOnRoster):
            attendance_sheets.record_attendance(
                trainer, session, {mine.id: PRESENT, stranger: PRESENT}
            )
        db.session.rollback()
    assert count(Attendance) == 0
    assert audit_actions("attendance.marked") == []


def test_an_unknown_attendance_status_saves_nothing(in_request, make, trainer, company):
    scene = a_class(make, trainer, company, learners=2)
    a, b = scene.enrolments
    for bad in ("asleep", "", None, "PRESENT"):
        with pytest.raises(attendance_sheets.UnknownAttendanceStatus):
            attendance_sheets.record_attendance(
                trainer, scene.sessions[0], {a.id: PRESENT, b.id: bad}
            )
        db.session.rollback()
    assert count(Attendance) == 0


def test_attendance_in_another_trainers_class_is_refused(
    in_request, make, trainer, other_trainer, learner, company
):
    scene = a_class(make, trainer, company, learners=1)
    for outsider in (other_trainer, learner):
        with pytest.raises(PermissionDenied):
            attendance_sheets.record_attendance(
                outsider, scene.sessions[0], {scene.enrolments[0].id: PRESENT}
            )
    assert count(Attendance) == 0


def test_no_attendance_for_a_cancelled_session_or_a_finished_class(
    in_request, make, trainer, company
):
    scene = a_class(make, trainer, company, learners=1)
    enrolment_id = scene.enrolments[0].id
    scene.sessions[0].is_cancelled = True
    db.session.commit()
    with pytest.raises(attendance_sheets.SessionCancelled):
        attendance_sheets.record_attendance(trainer, scene.sessions[0], {enrolment_id: PRESENT})
    db.session.rollback()
    scene.course_class.status = ClassStatus.COMPLETED
    db.session.commit()
    with pytest.raises(rosters.ClassFinished):
        attendance_sheets.record_attendance(trainer, scene.sessions[1], {enrolment_id: PRESENT})
    db.session.rollback()
    assert count(Attendance) == 0


def test_saving_the_same_marks_again_changes_nothing(in_request, make, trainer, company):
    scene = a_class(make, trainer, company, learners=1)
    marks = {scene.enrolments[0].id: PRESENT}
    assert len(attendance_sheets.record_attendance(trainer, scene.sessions[0], marks)) == 1
    assert attendance_sheets.record_attendance(trainer, scene.sessions[0], marks) == []
    assert attendance_sheets.record_attendance(trainer, scene.sessions[0], {}) == []
    assert len(audit_actions("attendance.marked")) == 1
    assert audit_actions("attendance.corrected") == []


# Results: the service ----------------------------------------------------------------------


def test_results_are_saved_and_audited(in_request, make, trainer, company):
    scene = a_class(make, trainer, company, learners=3, assessment_required=True)
    a, b, c = scene.enrolments
    changes = assessment_results.record_results(
        trainer,
        scene.course_class,
        {
            a.id: ResultEntry(" 72.5 ", True),
            b.id: ResultEntry(Decimal("41"), False),
            c.id: ResultEntry(None, True),  # pass or fail without a score
        },
    )
    db.session.commit()
    assert len(changes) == 3
    db.session.refresh(a)
    db.session.refresh(b)
    db.session.refresh(c)
    assert (a.result_score, a.result_passed) == (Decimal("72.50"), True)
    assert (b.result_score, b.result_passed) == (Decimal("41.00"), False)
    assert (c.result_score, c.result_passed) == (None, True)
    entries = audit_actions("enrolment.result_recorded")
    assert len(entries) == 3
    assert entries[0].details["to"] == {"score": "72.50", "passed": True}
    assert entries[0].details["from"] == {"score": None, "passed": None}

    # A correction is audited with what it replaced; an unchanged result is not.
    assessment_results.record_results(
        trainer,
        scene.course_class,
        {a.id: ResultEntry("72.50", True), b.id: ResultEntry("55", True)},
    )
    db.session.commit()
    entries = audit_actions("enrolment.result_recorded")
    assert len(entries) == 4
    assert entries[-1].details["from"] == {"score": "41.00", "passed": False}


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("-1", "The score must be from 0 to 100."),
        ("100.01", "The score must be from 0 to 100."),
        ("101", "The score must be from 0 to 100."),
        ("1e5", "The score must be from 0 to 100."),
        ("abc", "Enter the score as a number"),
        ("NaN", "Enter the score as a number"),
        ("Infinity", "Enter the score as a number"),
        ("12.345", "at most two decimal places"),
    ],
)
def test_an_invalid_score_is_a_field_error_and_nothing_is_saved(
    in_request, make, trainer, company, score, message
):
    scene = a_class(make, trainer, company, learners=2, assessment_required=True)
    good, bad = scene.enrolments
    with pytest.raises(assessment_results.InvalidResults) as caught:
        assessment_results.record_results(
            trainer,
            scene.course_class,
            {good.id: ResultEntry("80", True), bad.id: ResultEntry(score, True)},
        )
    db.session.rollback()
    assert list(caught.value.errors) == [f"score-{bad.id}"]
    assert message in str(caught.value.errors[f"score-{bad.id}"])
    db.session.refresh(good)
    assert good.result_score is None
    assert audit_actions("enrolment.result_recorded") == []


def test_edge_scores_are_accepted(in_request, make, trainer, company):
    scene = a_class(make, trainer, company, learners=2, assessment_required=True)
    a, b = scene.enrolments
    assessment_results.record_results(
        trainer,
        scene.course_class,
        {a.id: ResultEntry("0", False), b.id: ResultEntry("100.00", True)},
    )
    db.session.commit()
    db.session.refresh(a)
    db.session.refresh(b)
    assert a.result_score == Decimal("0")
    assert b.result_score == Decimal("100")


def test_a_score_needs_a_pass_or_fail(in_request, make, trainer, company):
    scene = a_class(make, trainer, company, learners=1, assessment_required=True)
    enrolment = scene.enrolments[0]
    with pytest.raises(assessment_results.InvalidResults) as caught:
        assessment_results.record_results(
            trainer, scene.course_class, {enrolment.id: ResultEntry("70")}
        )
    assert list(caught.value.errors) == [f"passed-{enrolment.id}"]
    with pytest.raises(assessment_results.InvalidResults) as caught:
        assessment_results.record_results(
            trainer, scene.course_class, {enrolment.id: ResultEntry("70", "maybe")}
        )
    assert list(caught.value.errors) == [f"passed-{enrolment.id}"]


def test_results_are_refused_without_an_assessment_off_the_roster_or_for_others(
    in_request, make, trainer, other_trainer, company
):
    plain = a_class(make, trainer, company, learners=1)
    with pytest.raises(assessment_results.NoAssessment):
        assessment_results.record_results(
            trainer, plain.course_class, {plain.enrolments[0].id: ResultEntry("50", True)}
        )
    db.session.rollback()
    assessed = a_class(make, trainer, company, learners=1, assessment_required=True)
    with pytest.raises(rosters.NotOnRoster):
        assessment_results.record_results(
            trainer, assessed.course_class, {plain.enrolments[0].id: ResultEntry("50", True)}
        )
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        assessment_results.record_results(
            other_trainer,
            assessed.course_class,
            {assessed.enrolments[0].id: ResultEntry("50", True)},
        )
    db.session.rollback()
    assert count(Enrolment, Enrolment.result_score.is_not(None)) == 0


# Closing: the service ----------------------------------------------------------------------


def closing_scene(make: Any, trainer: User, company: Any) -> Scene:
    """Four learners of a finished class with an assessment:
    0 completes; 1 attended too little; 2 has no result; 3 failed."""
    scene = a_class(
        make,
        trainer,
        company,
        learners=4,
        assessment_required=True,
        names=["Ada Complete", "Ben Absent", "Cat Noresult", "Dan Failed"],
    )
    mark(
        scene,
        [
            [PRESENT, LATE, EXCUSED, PRESENT],  # 3 of 3 countable: 100 %
            [PRESENT, ABSENT, ABSENT, PRESENT],  # 50 %
            [PRESENT, PRESENT, PRESENT, PRESENT],
            [PRESENT, PRESENT, PRESENT, ABSENT],  # 75 % and failed
        ],
    )
    ada, ben, _cat, dan = scene.enrolments
    for enrolment, score, passed in ((ada, "88", True), (ben, "90", True), (dan, "30", False)):
        enrolment.result_score = Decimal(score)
        enrolment.result_passed = passed
    db.session.commit()
    return scene


def test_closing_preview_says_who_completes_and_why_not(in_request, make, trainer, company):
    scene = closing_scene(make, trainer, company)
    preview = class_closing.closing_preview(scene.course_class)
    assert preview.can_close
    assert [o.learner.name for o in preview.completing] == ["Ada Complete"]
    reasons = {o.learner.name: [render_one(r) for r in o.reasons] for o in preview.not_completing}
    assert reasons == {
        "Ben Absent": ["Attendance 50% is below the 80% minimum."],
        "Cat Noresult": ["No assessment result recorded."],
        "Dan Failed": ["Attendance 75% is below the 80% minimum.", "Assessment failed."],
    }
    assert preview.sessions_ahead == 0
    assert preview.sessions_unmarked == 0
    # Nothing is changed by looking.
    assert count(Enrolment, Enrolment.status == EnrolmentStatus.CONFIRMED) == 4


def test_closing_records_outcomes_cancels_the_waitlist_and_issues_certificates(
    in_request, make, trainer, company
):
    scene = closing_scene(make, trainer, company)
    waiting = make.enrolment(
        scene.course_class, make.user(company=company), EnrolmentStatus.WAITLISTED
    )
    pending = make.enrolment(
        scene.course_class, make.user(company=company), EnrolmentStatus.PENDING
    )
    withdrawn = make.enrolment(
        scene.course_class, make.user(company=company), EnrolmentStatus.WITHDRAWN
    )
    ada, ben, cat, dan = scene.enrolments

    result = class_closing.close_class(trainer, scene.course_class)
    db.session.commit()

    assert [e.id for e in result.completed] == [ada.id]
    assert {e.id for e in result.not_completed} == {ben.id, cat.id, dan.id}
    assert {e.id for e in result.cancelled} == {waiting.id, pending.id}
    db.session.expire_all()
    assert db.session.get(CourseClass, scene.course_class.id).status == ClassStatus.COMPLETED
    assert db.session.get(Enrolment, ada.id).status == EnrolmentStatus.COMPLETED
    ben_now = db.session.get(Enrolment, ben.id)
    assert ben_now.status == EnrolmentStatus.NOT_COMPLETED
    assert ben_now.status_reasons == [
        {"code": "attendance_below_minimum", "args": {"rate": 0.5, "minimum": 0.8}}
    ]
    assert render(ben_now.status_reasons) == "Attendance 50% is below the 80% minimum."
    assert ben_now.ended_at is not None
    assert render(db.session.get(Enrolment, dan.id).status_reasons) == (
        "Attendance 75% is below the 80% minimum. Assessment failed."
    )
    for cancelled in (waiting, pending):
        row = db.session.get(Enrolment, cancelled.id)
        assert row.status == EnrolmentStatus.CANCELLED
        assert row.status_reasons == [{"code": "class_completed", "args": {}}]
    assert db.session.get(Enrolment, withdrawn.id).status == EnrolmentStatus.WITHDRAWN
    # Each transition is in the history and the audit log, as the enrolment service keeps it.
    history = db.session.scalars(
        select(EnrolmentStatusChange).where(EnrolmentStatusChange.enrolment_id == ben.id)
    ).all()
    assert [(h.from_status, h.to_status, h.actor_id) for h in history] == [
        (EnrolmentStatus.CONFIRMED, EnrolmentStatus.NOT_COMPLETED, trainer.id)
    ]
    changed = audit_actions("enrolment.status_changed")
    assert len(changed) == 6
    assert {e.details["to"] for e in changed} == {"completed", "not_completed", "cancelled"}
    closed = audit_actions("class.status_changed")
    assert closed[-1].details["to"] == "completed"
    assert closed[-1].details["completed"] == 1
    # One certificate, for the learner who completed.
    certificates = db.session.scalars(select(Certificate)).all()
    assert [c.enrolment_id for c in certificates] == [ada.id]
    assert re.fullmatch(r"SU-\d{4}-\d{6}", certificates[0].serial_number)
    assert len(audit_actions("certificate.issued")) == 1


def test_closing_twice_is_refused_and_changes_nothing(in_request, make, trainer, company):
    scene = closing_scene(make, trainer, company)
    class_closing.close_class(trainer, scene.course_class)
    db.session.commit()
    audit_before = count(AuditEntry)
    history_before = count(EnrolmentStatusChange)

    with pytest.raises(class_closing.AlreadyClosed):
        class_closing.close_class(trainer, scene.course_class)
    db.session.rollback()

    assert count(AuditEntry) == audit_before
    assert count(EnrolmentStatusChange) == history_before
    assert count(Certificate) == 1
    assert (
        class_closing.closing_preview(scene.course_class).refusal.__class__
        is class_closing.AlreadyClosed
    )


def test_only_a_running_class_or_one_whose_sessions_are_over_can_be_closed(
    in_request, make, trainer, other_trainer, company
):
    upcoming = a_class(
        make,
        trainer,
        company,
        learners=1,
        past_sessions=0,
        future_sessions=2,
        status=ClassStatus.OPEN,
    )
    with pytest.raises(class_closing.SessionsNotOver):
        class_closing.close_class(trainer, upcoming.course_class)
    db.session.rollback()
    cancelled = a_class(make, trainer, company, learners=0, status=ClassStatus.CANCELLED)
    with pytest.raises(class_closing.ClassNotClosable):
        class_closing.close_class(trainer, cancelled.course_class)
    db.session.rollback()
    # Enrolment closed and every session over: it can be closed.
    over = a_class(make, trainer, company, learners=1, status=ClassStatus.CLOSED)
    mark(over, [[PRESENT] * 4])
    with pytest.raises(PermissionDenied):
        class_closing.close_class(other_trainer, over.course_class)
    db.session.rollback()
    result = class_closing.close_class(trainer, over.course_class)
    db.session.commit()
    assert len(result.completed) == 1
    assert db.session.get(CourseClass, upcoming.course_class.id).status == ClassStatus.OPEN


def test_the_class_minimum_decides_and_excused_sessions_are_left_out(
    in_request, make, trainer, company
):
    scene = a_class(make, trainer, company, learners=2, min_attendance_pct=50)
    mark(scene, [[PRESENT, ABSENT, PRESENT, ABSENT], [EXCUSED, EXCUSED, EXCUSED, ABSENT]])
    preview = class_closing.closing_preview(scene.course_class)
    assert [o.enrolment.id for o in preview.completing] == [scene.enrolments[0].id]
    reasons = [render_one(r) for r in preview.not_completing[0].reasons]
    assert reasons == ["Attendance 0% is below the 50% minimum."]


def test_closing_warns_of_sessions_ahead_and_unmarked(in_request, make, trainer, company):
    scene = a_class(make, trainer, company, learners=2, past_sessions=2, future_sessions=1)
    mark(scene, [[PRESENT, PRESENT], [PRESENT, None]])
    preview = class_closing.closing_preview(scene.course_class)
    assert not preview.can_close  # a session is still to come: the trainer may not close
    assert isinstance(preview.refusal, class_closing.SessionsNotOver)
    assert preview.sessions_ahead == 1
    assert preview.sessions_unmarked == 1
    # The session ahead counts as missed: 2 of 3 sessions is below 80 %.
    assert preview.completing == []


# Pages: who may see them -------------------------------------------------------------------


def trainer_urls(scene: Scene) -> list[tuple[str, str]]:
    code = scene.code
    session_id = scene.sessions[0].id
    return [
        ("GET", f"/trainer/classes/{code}"),
        ("GET", f"/trainer/classes/{code}/roster.csv"),
        ("GET", f"/trainer/classes/{code}/sessions/{session_id}/sign-in"),
        ("GET", f"/trainer/classes/{code}/sessions/{session_id}/attendance"),
        ("POST", f"/trainer/classes/{code}/sessions/{session_id}/attendance"),
        ("GET", f"/trainer/classes/{code}/results"),
        ("POST", f"/trainer/classes/{code}/results"),
        ("GET", f"/trainer/classes/{code}/close"),
        ("POST", f"/trainer/classes/{code}/close"),
    ]


def test_anonymous_visitors_are_sent_to_log_in(client, make, trainer, company):
    scene = a_class(make, trainer, company, learners=1)
    for method, url in [("GET", "/trainer/"), *trainer_urls(scene)]:
        response = client.open(url, method=method)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url


@pytest.mark.parametrize("role", ["learner", "hr"])
def test_learners_and_hr_get_403_everywhere(client, make, trainer, company, login_as, role):
    scene = a_class(make, trainer, company, learners=1, assessment_required=True)
    enrolment_id = scene.enrolments[0].id
    login_as(make.user(role=role, company=company))
    for method, url in [("GET", "/trainer/"), *trainer_urls(scene)]:
        data = {
            f"mark-{enrolment_id}": "absent",
            f"score-{enrolment_id}": "1",
            f"passed-{enrolment_id}": "fail",
        }
        assert client.open(url, method=method, data=data).status_code == 403, url
    assert count(Attendance) == 0
    assert db.session.get(CourseClass, scene.course_class.id).status == ClassStatus.RUNNING


def test_another_trainers_class_is_404_and_nothing_changes(
    client, make, trainer, other_trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=1, assessment_required=True)
    enrolment_id = scene.enrolments[0].id
    login_as(other_trainer)
    for method, url in trainer_urls(scene):
        data = {
            f"mark-{enrolment_id}": "absent",
            f"score-{enrolment_id}": "1",
            f"passed-{enrolment_id}": "fail",
        }
        assert client.open(url, method=method, data=data).status_code == 404, url
    home = text(client.get("/trainer/"))
    assert scene.code not in home
    assert count(Attendance) == 0
    assert count(Enrolment, Enrolment.result_score.is_not(None)) == 0
    assert db.session.get(CourseClass, scene.course_class.id).status == ClassStatus.RUNNING


def test_a_session_of_another_class_is_404(client, make, trainer, company, login_as):
    mine = a_class(make, trainer, company, learners=1)
    other = a_class(make, trainer, company, learners=1)
    login_as(trainer)
    other_session = other.sessions[0].id
    for suffix in ("attendance", "sign-in"):
        url = f"/trainer/classes/{mine.code}/sessions/{other_session}/{suffix}"
        assert client.get(url).status_code == 404
    response = client.post(
        f"/trainer/classes/{mine.code}/sessions/{other_session}/attendance",
        data={f"mark-{other.enrolments[0].id}": "present"},
    )
    assert response.status_code == 404
    assert count(Attendance) == 0
    assert client.get("/trainer/classes/NO-SUCH-CLASS").status_code == 404


def test_an_admin_may_use_every_trainer_page(client, make, trainer, admin, company, login_as):
    scene = a_class(make, trainer, company, learners=1, assessment_required=True)
    login_as(admin)
    for method, url in trainer_urls(scene):
        if method == "GET":
            assert client.get(url).status_code == 200, url
    home = text(client.get("/trainer/"))
    assert scene.code in home
    assert "All classes" in home


# Pages: home and roster --------------------------------------------------------------------


def test_the_home_page_groups_classes_and_links_to_rosters(
    client, make, trainer, company, login_as
):
    running = a_class(make, trainer, company, learners=1, past_sessions=1, future_sessions=1)
    ended = a_class(make, trainer, company, learners=0, past_sessions=1)
    upcoming = make.course_class(trainers=[trainer], sessions=1)
    login_as(trainer)
    body = squash(text(client.get("/trainer/")))
    running_part = body.split('id="running-classes"')[1].split('id="upcoming-classes"')[0]
    upcoming_part = body.split('id="upcoming-classes"')[1].split('id="past-classes"')[0]
    past_part = body.split('id="past-classes"')[1]
    assert running.code in running_part
    assert upcoming.code in upcoming_part
    assert ended.code in past_part
    assert f'href="/trainer/classes/{running.code}"' in body
    assert f'href="/trainer/classes/{ended.code}/close"' in past_part
    assert "Next sessions" in body


def test_the_roster_page_shows_learners_standing_and_waitlist(
    client, make, trainer, company, login_as
):
    scene = a_class(
        make,
        trainer,
        company,
        learners=2,
        past_sessions=4,
        future_sessions=1,
        names=["Bea Lam", "Al Wong"],
    )
    mark(scene, [[ABSENT, ABSENT, PRESENT, PRESENT], [PRESENT, LATE, PRESENT, PRESENT]])
    make.enrolment(
        scene.course_class, make.user(company=company, name="Wai First"), EnrolmentStatus.WAITLISTED
    )
    login_as(trainer)
    response = client.get(f"/trainer/classes/{scene.code}")
    body = squash(text(response))
    assert response.status_code == 200
    assert body.index("Al Wong") < body.index("Bea Lam")
    assert "Harbour IT Services" in body
    assert "Infrastructure" in body
    assert "At risk: the minimum can no longer be reached" in body
    assert body.count("At risk:") == 1
    assert "Wai First" in body.split('id="waitlist"')[1]
    assert "1st" in body.split('id="waitlist"')[1]
    assert "2 of 4" in body  # Bea: 2 of 4 marked sessions attended
    assert f"/trainer/classes/{scene.code}/sessions/{scene.sessions[0].id}/attendance" in body
    # No attendance link for the session ahead; a sign-in sheet is there for every session.
    assert f"/sessions/{scene.sessions[4].id}/attendance" not in body
    assert f"/sessions/{scene.sessions[4].id}/sign-in" in body


def test_the_roster_csv_escapes_formulas(client, make, trainer, company, login_as):
    scene = a_class(make, trainer, company, learners=2, names=["=HYPERLINK(evil)", "Amy Chan"])
    mark(scene, [[PRESENT, PRESENT, PRESENT, ABSENT], [None, None, None, None]])
    scene.enrolments[0].learner.department = "@Ops"
    db.session.commit()
    login_as(trainer)
    response = client.get(f"/trainer/classes/{scene.code}/roster.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f"{scene.code}-roster.csv" in response.headers["Content-Disposition"]
    content = response.get_data(as_text=True)
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Name", "E-mail", "Staff number"]
    by_name = {row[0]: row for row in rows[1:]}
    evil = by_name["'=HYPERLINK(evil)"]
    assert evil[4] == "'@Ops"
    assert evil[5] == "Confirmed"
    assert evil[6] == ""  # no reason
    assert evil[7] == "3"  # sessions attended
    assert evil[11] == "75.0"  # rate
    assert evil[12] == "Yes"  # at risk
    assert by_name["Amy Chan"][11] == ""  # nothing marked yet
    assert by_name["Amy Chan"][12] == "No"
    assert len(rows) == 3


@pytest.mark.parametrize(
    ("language", "heading", "status", "why_not"),
    [
        ("en", "Reason", "Not completed", "Attendance 50% is below the 80% minimum."),
        ("zh-HK", "原因", "未完成", "出席率50%，低於80%的最低要求。"),
    ],
)
def test_the_roster_csv_words_each_status_reason_in_the_readers_language(
    client, make, trainer, company, login_as, language, heading, status, why_not
):
    scene = a_class(
        make, trainer, company, learners=3, status=ClassStatus.COMPLETED,
        names=["Amy Chan", "Ben Lau", "Cat Wong"],
    )  # fmt: skip
    amy, ben, cat = scene.enrolments
    amy.status = EnrolmentStatus.COMPLETED
    ben.status = EnrolmentStatus.NOT_COMPLETED
    ben.status_reasons = [reason(ATTENDANCE_BELOW_MINIMUM, rate=0.5, minimum=0.8)]
    # A reason an admin typed, kept as typed: a spreadsheet must not run it.
    cat.status_reasons = free_text("=HYPERLINK(evil)")
    db.session.commit()
    login_as(trainer)
    response = client.get(
        f"/trainer/classes/{scene.code}/roster.csv", headers={"Accept-Language": language}
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    records = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert records["Ben Lau"][heading] == why_not
    assert list(records["Ben Lau"].values())[5] == status
    assert records["Amy Chan"][heading] == ""
    assert records["Cat Wong"][heading] == "'=HYPERLINK(evil)"


def test_the_sign_in_sheet_lists_learners_with_a_signature_column(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=2, names=["Bea Lam", "Al Wong"])
    make.enrolment(
        scene.course_class, make.user(company=company, name="Wai Ting"), EnrolmentStatus.WAITLISTED
    )
    login_as(trainer)
    body = squash(
        text(client.get(f"/trainer/classes/{scene.code}/sessions/{scene.sessions[1].id}/sign-in"))
    )
    assert "Sign-in sheet" in body
    assert "Signature" in body
    assert 'class="sign-in-sheet"' in body
    assert body.index("Al Wong") < body.index("Bea Lam")
    assert "Harbour IT Services" in body
    assert "Wai Ting" not in body
    assert trainer.name in body


# Pages: attendance -------------------------------------------------------------------------


def attendance_url(scene: Scene, index: int = 0) -> str:
    return f"/trainer/classes/{scene.code}/sessions/{scene.sessions[index].id}/attendance"


def test_the_attendance_form_has_a_fieldset_with_radios_per_learner(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=2, names=["Bea Lam", "Al Wong"])
    mark(scene, [[LATE], [None]])
    login_as(trainer)
    body = squash(text(client.get(attendance_url(scene))))
    assert body.count("<fieldset") == 2
    assert body.count("<legend>") == 2
    for enrolment in scene.enrolments:
        for status in AttendanceStatus:
            assert f'name="mark-{enrolment.id}" value="{status.value}"' in body
    bea = scene.enrolments[0]
    assert f'name="mark-{bea.id}" value="late" checked' in body
    assert "All present" in body
    assert "Save attendance" in body


def test_all_present_fills_only_the_unmarked_learners(client, make, trainer, company, login_as):
    # Saved: a late, and an absent; chosen on the page but not saved: an excused.
    scene = a_class(make, trainer, company, learners=5)
    late, absent, chosen, blank_a, blank_b = scene.enrolments
    mark(scene, [[LATE], [ABSENT], [None], [None], [None]])
    login_as(trainer)
    response = client.post(
        attendance_url(scene),
        data={
            "fill": "present",
            f"mark-{late.id}": "late",
            f"mark-{absent.id}": "absent",
            f"mark-{chosen.id}": "excused",
        },
    )
    assert response.status_code == 200
    body = squash(text(response))
    assert f'name="mark-{late.id}" value="late" checked' in body
    assert f'name="mark-{absent.id}" value="absent" checked' in body
    assert f'name="mark-{chosen.id}" value="excused" checked' in body
    for enrolment in (blank_a, blank_b):
        assert f'name="mark-{enrolment.id}" value="present" checked' in body
    assert "2 learners not yet marked are marked present on the form" in body
    assert "nothing is saved yet" in body
    # Nothing saved: the two saved marks only.
    assert count(Attendance) == 2
    assert attendance_of(chosen, scene.sessions[0]) is None

    # Saving what the form now shows counts the real changes: three, not five.
    client.post(
        attendance_url(scene),
        data={
            f"mark-{late.id}": "late",
            f"mark-{absent.id}": "absent",
            f"mark-{chosen.id}": "excused",
            f"mark-{blank_a.id}": "present",
            f"mark-{blank_b.id}": "present",
        },
    )
    assert attendance_of(late, scene.sessions[0]) == LATE
    assert attendance_of(absent, scene.sessions[0]) == ABSENT
    assert "Attendance saved: 3 changes." in text(client.get(attendance_url(scene)))


def test_all_present_never_overwrites_a_saved_mark_left_off_the_post(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=2)
    saved, blank = scene.enrolments
    mark(scene, [[ABSENT], [None]])
    login_as(trainer)
    # A post that leaves the saved mark out (an old page) still keeps it.
    body = squash(text(client.post(attendance_url(scene), data={"fill": "present"})))
    assert f'name="mark-{saved.id}" value="absent" checked' in body
    assert f'name="mark-{saved.id}" value="present" checked' not in body
    assert f'name="mark-{blank.id}" value="present" checked' in body
    assert "1 learner not yet marked is marked present on the form" in body


def test_all_present_when_everyone_is_marked_fills_nothing(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=2)
    mark(scene, [[LATE], [ABSENT]])
    login_as(trainer)
    body = squash(text(client.post(attendance_url(scene), data={"fill": "present"})))
    assert "Every learner already has a mark: nothing was filled in." in body
    assert count(Attendance) == 2


def test_all_present_with_a_hostile_mark_is_refused_or_ignored(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=2)
    a, _b = scene.enrolments
    login_as(trainer)
    # An unknown status is not echoed as a choice: the learner is filled in as unmarked.
    body = squash(
        text(client.post(attendance_url(scene), data={"fill": "present", f"mark-{a.id}": "gone"}))
    )
    assert f'name="mark-{a.id}" value="present" checked' in body
    # A field naming no learner is a bad request, with its reason.
    response = client.post(attendance_url(scene), data={"fill": "present", "mark-x1": "late"})
    assert response.status_code == 400
    assert count(Attendance) == 0


def test_all_present_is_not_offered_when_marking_is_refused(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=1, past_sessions=0, future_sessions=1)
    login_as(trainer)
    body = text(client.post(attendance_url(scene), data={"fill": "present"}))
    assert "All present" not in body
    assert "has not started yet" in body
    assert count(Attendance) == 0


def test_the_attendance_page_loads_its_script_only_where_marking_is_possible(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=1)
    login_as(trainer)
    assert "js/attendance.js" in text(client.get(attendance_url(scene)))


def test_saving_attendance_through_the_page(client, make, trainer, company, login_as):
    scene = a_class(make, trainer, company, learners=3)
    a, b, c = scene.enrolments
    login_as(trainer)
    response = client.post(
        attendance_url(scene),
        data={f"mark-{a.id}": "present", f"mark-{b.id}": "absent", f"mark-{c.id}": "excused"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(attendance_url(scene))
    assert attendance_of(b, scene.sessions[0]) == ABSENT
    page = text(client.get(attendance_url(scene)))
    assert "Attendance saved: 3 changes." in page

    # A correction later.
    client.post(attendance_url(scene), data={f"mark-{b.id}": "late"})
    assert attendance_of(b, scene.sessions[0]) == LATE
    corrected = audit_actions("attendance.corrected")
    assert [(e.actor_id, e.details["from"], e.details["to"]) for e in corrected] == [
        (trainer.id, "absent", "late")
    ]


def test_attendance_for_a_future_session_is_refused_through_the_page(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=1, past_sessions=1, future_sessions=1)
    login_as(trainer)
    page = text(client.get(attendance_url(scene, 1)))
    assert "This session has not started yet" in page
    assert "Save attendance" not in page
    response = client.post(
        attendance_url(scene, 1), data={f"mark-{scene.enrolments[0].id}": "present"}
    )
    assert response.status_code == 400
    assert "This session has not started yet" in text(response)
    assert count(Attendance) == 0


def test_an_unknown_status_through_the_page_is_a_400_and_saves_nothing(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=2)
    a, b = scene.enrolments
    login_as(trainer)
    response = client.post(
        attendance_url(scene), data={f"mark-{a.id}": "present", f"mark-{b.id}": "asleep"}
    )
    assert response.status_code == 400
    assert "Choose present, late, absent or excused for each learner." in text(response)
    assert count(Attendance) == 0


@pytest.mark.parametrize(
    "data",
    [{"mark-abc": "present"}, {"mark-١": "present"}, {"mark-": "present"}],
)
def test_a_malformed_learner_field_is_a_400_with_a_reason(
    client, make, trainer, company, login_as, data
):
    scene = a_class(make, trainer, company, learners=1)
    login_as(trainer)
    response = client.post(attendance_url(scene), data=data)
    assert response.status_code == 400
    assert "not in this class" in text(response)
    assert count(Attendance) == 0


def test_two_answers_for_one_learner_are_a_400(client, make, trainer, company, login_as):
    scene = a_class(make, trainer, company, learners=1)
    enrolment_id = scene.enrolments[0].id
    login_as(trainer)
    response = client.post(
        attendance_url(scene), data={f"mark-{enrolment_id}": ["present", "absent"]}
    )
    assert response.status_code == 400
    assert count(Attendance) == 0


def test_attendance_for_a_learner_not_on_the_roster_is_refused_through_the_page(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=1)
    waiting = make.enrolment(
        scene.course_class, make.user(company=company), EnrolmentStatus.WAITLISTED
    )
    login_as(trainer)
    response = client.post(
        attendance_url(scene),
        data={f"mark-{scene.enrolments[0].id}": "present", f"mark-{waiting.id}": "present"},
    )
    assert response.status_code == 400
    assert "not confirmed in this class" in text(response)
    assert count(Attendance) == 0


@pytest.mark.parametrize("order", [("en", "zh_Hant_HK"), ("zh_Hant_HK", "en")])
def test_attendance_and_roster_name_statuses_in_each_readers_language(
    client, make, trainer, company, login_as, monkeypatch, order
):
    # An empty cache of labels, so that the first language asked for is the first one built.
    monkeypatch.setattr(labels, "_TRANSLATED", {})
    scene = a_class(make, trainer, company, learners=1)
    login_as(trainer)
    expected = {
        "en": ("Present", "Excused", "Confirmed"),
        "zh_Hant_HK": ("出席", "已請假", "已確認"),
    }
    for _ in range(2):
        for language in order:
            db.session.get(User, trainer.id).preferred_language = language
            present, excused, confirmed = expected[language]
            attendance = squash(text(client.get(attendance_url(scene))))
            assert f"<span>{present}</span>" in attendance
            assert f"<span>{excused}</span>" in attendance
            roster = text(client.get(f"/trainer/classes/{scene.code}"))
            assert re.search(
                f'<span class="badge badge-ok"><svg [^>]*>.*?</svg><span>{confirmed}</span>', roster
            )


# Pages: results ----------------------------------------------------------------------------


def results_url(scene: Scene) -> str:
    return f"/trainer/classes/{scene.code}/results"


def test_results_through_the_page(client, make, trainer, company, login_as):
    scene = a_class(make, trainer, company, learners=2, assessment_required=True)
    a, b = scene.enrolments
    login_as(trainer)
    page = text(client.get(results_url(scene)))
    assert f'id="score-{a.id}"' in page
    assert f'for="score-{a.id}"' in page
    response = client.post(
        results_url(scene),
        data={f"score-{a.id}": "67.5", f"passed-{a.id}": "pass", f"passed-{b.id}": "fail"},
    )
    assert response.status_code == 302
    db.session.refresh(a)
    db.session.refresh(b)
    assert (a.result_score, a.result_passed) == (Decimal("67.50"), True)
    assert (b.result_score, b.result_passed) == (None, False)
    assert "Results saved: 2 changes." in text(client.get(results_url(scene)))


def test_an_out_of_range_score_is_a_field_error_for_that_learner(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=2, assessment_required=True)
    a, b = scene.enrolments
    login_as(trainer)
    response = client.post(
        results_url(scene),
        data={
            f"score-{a.id}": "70",
            f"passed-{a.id}": "pass",
            f"score-{b.id}": "120",
            f"passed-{b.id}": "pass",
        },
    )
    body = squash(text(response))
    assert response.status_code == 400
    assert (
        f'<p class="field-error" id="score-{b.id}-error">The score must be from 0 to 100.' in body
    )
    assert f'id="score-{a.id}-error"' not in body
    assert 'value="120"' in body  # what was typed is kept
    assert "Nothing has been saved." in body
    db.session.refresh(a)
    assert a.result_score is None


def test_the_results_page_of_a_class_without_an_assessment_says_so(
    client, make, trainer, company, login_as
):
    scene = a_class(make, trainer, company, learners=1)
    login_as(trainer)
    page = text(client.get(results_url(scene)))
    assert "This class has no assessment" in page
    assert "Save results" not in page
    response = client.post(
        results_url(scene),
        data={f"score-{scene.enrolments[0].id}": "50", f"passed-{scene.enrolments[0].id}": "pass"},
    )
    assert response.status_code == 400
    assert count(Enrolment, Enrolment.result_score.is_not(None)) == 0


# Pages: closing ----------------------------------------------------------------------------


def test_closing_through_the_page_previews_then_closes_once(
    client, make, trainer, company, login_as, outbox
):
    scene = closing_scene(make, trainer, company)
    login_as(trainer)
    preview = squash(text(client.get(f"/trainer/classes/{scene.code}/close")))
    will = preview.split('id="completing"')[1].split('id="not-completing"')[0]
    will_not = preview.split('id="not-completing"')[1]
    assert "Ada Complete" in will
    assert "Ben Absent" in will_not
    assert "Attendance 50% is below the 80% minimum." in will_not
    assert "No assessment result recorded." in will_not
    assert "Assessment failed." in will_not
    assert count(Certificate) == 0

    response = client.post(f"/trainer/classes/{scene.code}/close")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/trainer/classes/{scene.code}")
    roster_page = squash(text(client.get(response.headers["Location"])))
    assert "1 completed, 3 did not complete, 1 certificates issued" in roster_page
    assert "Certificate SU-" in roster_page
    assert db.session.get(CourseClass, scene.course_class.id).status == ClassStatus.COMPLETED

    again = client.post(f"/trainer/classes/{scene.code}/close", follow_redirects=True)
    assert "This class has already been closed: nothing has changed." in text(again)
    assert count(Certificate) == 1
    assert len(audit_actions("class.status_changed")) == 1


def test_an_upcoming_class_cannot_be_closed_through_the_page(
    client, make, trainer, company, login_as
):
    scene = a_class(
        make,
        trainer,
        company,
        learners=1,
        past_sessions=0,
        future_sessions=2,
        status=ClassStatus.OPEN,
    )
    login_as(trainer)
    page = text(client.get(f"/trainer/classes/{scene.code}/close"))
    assert "The class can be closed only after its last session has ended" in page
    assert "Close the class and issue certificates" not in page
    client.post(f"/trainer/classes/{scene.code}/close")
    assert db.session.get(CourseClass, scene.course_class.id).status == ClassStatus.OPEN


# A fixed number of queries -----------------------------------------------------------------


def test_the_pages_run_the_same_number_of_queries_for_3_and_30_learners(
    client, make, trainer, company, login_as
):
    def scene_with(learners: int) -> Scene:
        scene = a_class(
            make, trainer, company, learners=learners, past_sessions=3, future_sessions=1
        )
        mark(scene, [[PRESENT, ABSENT, LATE]] * learners)
        for _ in range(2):
            make.enrolment(
                scene.course_class, make.user(company=company), EnrolmentStatus.WAITLISTED
            )
        return scene

    few = scene_with(3)
    login_as(trainer)
    client.get("/trainer/")  # warm up
    counts_few = {
        "home": page_queries(client, "/trainer/")[1],
        "roster": page_queries(client, f"/trainer/classes/{few.code}")[1],
        "attendance": page_queries(client, attendance_url(few))[1],
        "sign-in": page_queries(
            client, f"/trainer/classes/{few.code}/sessions/{few.sessions[0].id}/sign-in"
        )[1],
        "close": page_queries(client, f"/trainer/classes/{few.code}/close")[1],
    }
    many = scene_with(30)
    counts_many = {
        "home": page_queries(client, "/trainer/")[1],
        "roster": page_queries(client, f"/trainer/classes/{many.code}")[1],
        "attendance": page_queries(client, attendance_url(many))[1],
        "sign-in": page_queries(
            client, f"/trainer/classes/{many.code}/sessions/{many.sessions[0].id}/sign-in"
        )[1],
        "close": page_queries(client, f"/trainer/classes/{many.code}/close")[1],
    }
    for page, statements in counts_many.items():
        assert len(statements) == len(counts_few[page]), (page, "\n".join(statements))
    assert len(counts_many["roster"]) <= 12
    assert len(counts_many["attendance"]) <= 6
    body = text(client.get(f"/trainer/classes/{many.code}"))
    assert body.count('<tr class="at-risk">') + body.count("<tr>") >= 30


def test_marking_a_session_for_30_learners_is_one_save(client, make, trainer, company, login_as):
    scene = a_class(make, trainer, company, learners=30)
    login_as(trainer)
    data = {f"mark-{e.id}": "present" for e in scene.enrolments}
    data[f"mark-{scene.enrolments[7].id}"] = "absent"
    assert client.post(attendance_url(scene), data=data).status_code == 302
    assert count(Attendance) == 30
    assert count(Attendance, Attendance.status == ABSENT) == 1
    assert len(audit_actions("attendance.marked")) == 30


def test_the_pages_work_in_traditional_chinese(client, make, trainer, company, login_as):
    trainer.preferred_language = "zh_Hant_HK"
    db.session.commit()
    scene = closing_scene(make, trainer, company)
    login_as(trainer)
    for method, url in trainer_urls(scene):
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 200, url
    preview = text(client.get(f"/trainer/classes/{scene.code}/close"))
    assert 'lang="zh-Hant-HK"' in preview
    assert "雲端基礎" in preview  # the course's Chinese title
    assert "50%" in preview
