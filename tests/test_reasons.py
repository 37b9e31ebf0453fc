"""Reasons kept as codes with their figures, worded in the reader's language wherever shown;
and the change history told as sentences with labelled values, never raw dictionaries."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from skillsup import create_app
from skillsup.extensions import db
from skillsup.models import ClassStatus, Enrolment, EnrolmentStatus, User
from skillsup.reasons import (
    ASSESSMENT_FAILED,
    ATTENDANCE_BELOW_MINIMUM,
    ATTENDANCE_OUT_OF_REACH,
    AWAITING_MARKS,
    CLASS_COMPLETED,
    CLASS_HAS_NO_ASSESSMENT,
    CLASS_REOPENED,
    CODES,
    MUST_ATTEND_NEXT_SESSIONS,
    NO_ASSESSMENT_RESULT,
    NO_ATTENDANCE_COUNTED,
    PLACED_WITHOUT_APPROVAL,
    PROMOTED_FROM_WAITLIST,
    SCORE_BELOW_MARK_NEEDED,
    enrolled_after_end,
    free_text,
    reason,
    render,
)
from skillsup.services import class_status, enrolment_requests, outcomes
from skillsup.services.class_status import StatusAction

from .conftest import BASE_TEST_CONFIG
from .test_migrations import empty_database_url  # noqa: F401 - a fixture

ZH = "zh_Hant_HK"

# Each code with its figures, and how it reads in English and in Chinese.
WORDED = [
    (
        reason(ATTENDANCE_BELOW_MINIMUM, rate=0.795, minimum=0.8),
        "Attendance 79.5% is below the 80% minimum.",
        "79.5%",
    ),
    (reason(NO_ATTENDANCE_COUNTED, minimum=0.5), "against the 50% minimum", "50%"),
    (reason(NO_ASSESSMENT_RESULT), "No assessment result recorded.", None),
    (reason(ASSESSMENT_FAILED), "Assessment failed.", None),
    (reason(PLACED_WITHOUT_APPROVAL), "without the company's HR approval", None),
    (
        enrolled_after_end(datetime(2026, 3, 2, 10, 0, tzinfo=UTC)),
        "Enrolled after the last session ended",
        "2026年3月2日 18:00",  # Hong Kong time, on the 24-hour clock
    ),
    (reason(PROMOTED_FROM_WAITLIST), "moved up from the waitlist", None),
    (reason(CLASS_COMPLETED), "The class has been closed.", None),
    (reason(CLASS_REOPENED), "the class was reopened", None),
    (free_text("  Budget used  ")[0], "Budget used", "Budget used"),
    (
        reason(ATTENDANCE_OUT_OF_REACH, best=0.699, minimum=0.7),
        "can reach at most 69.9%, below the 70% minimum",
        "69.9%",
    ),
    (
        reason(MUST_ATTEND_NEXT_SESSIONS, count=3, minimum=0.7),
        "To reach the 70% minimum, attend each of the next 3 sessions.",
        "3",
    ),
    (
        reason(MUST_ATTEND_NEXT_SESSIONS, count=1, minimum=0.8),
        "To reach the 80% minimum, attend the next session.",
        "80%",
    ),
    (
        reason(SCORE_BELOW_MARK_NEEDED, score="49.5", pass_mark="50.00"),
        "The assessment score 49.5 is below the pass mark of 50.",
        "49.5",
    ),
    (reason(CLASS_HAS_NO_ASSESSMENT), "this class has none", None),
    (
        reason(AWAITING_MARKS, minimum=0.7),
        "The 70% minimum is reached only if the sessions held but not yet marked are",
        "70%",
    ),
]


def test_every_code_has_a_case_here():
    assert {item["code"] for item, _en, _zh in WORDED} == CODES


@pytest.mark.parametrize(("item", "english", "figure"), WORDED)
def test_each_code_reads_in_english_and_in_chinese_with_its_figures(app, item, english, figure):
    with app.test_request_context(), force_locale("en"):
        in_english = render([item])
    with app.test_request_context(), force_locale(ZH):
        in_chinese = render([item])
    assert english in in_english
    assert in_chinese
    if figure is not None:
        assert figure in in_chinese
    if item["code"] != "free_text":
        assert in_chinese != in_english
        assert re.search(r"[\u4e00-\u9fff]", in_chinese), in_chinese


def test_several_reasons_read_as_one_text_and_unknown_codes_do_not_fail(app):
    reasons = [reason(NO_ASSESSMENT_RESULT), *free_text("Sick leave")]
    with app.test_request_context(), force_locale("en"):
        assert render(reasons) == "No assessment result recorded. Sick leave"
        assert render([{"code": "from_the_future", "args": {}}]) == ""
        assert render("An old sentence") == "An old sentence"
        assert render(None) == ""
    with pytest.raises(ValueError):
        reason("not_a_code")


def test_outcome_reasons_are_codes_that_the_daily_e_mails_can_word(app, make):
    from skillsup.services.progress import AttendanceStanding

    course_class = make.course_class(min_attendance_pct=80, assessment_required=True)
    enrolment = make.enrolment(course_class, make.user(), result_passed=False)
    standing = AttendanceStanding(total_hours=6, attended_hours=3, absent_hours=3)
    reasons = outcomes.outcome_reasons(course_class, enrolment, standing)
    assert [item["code"] for item in reasons] == [ATTENDANCE_BELOW_MINIMUM, ASSESSMENT_FAILED]
    with app.test_request_context(), force_locale(ZH):
        assert "50%" in outcomes.reasons_text(reasons)
        assert "Assessment" not in outcomes.reasons_text(reasons)


# Pages and e-mails in the reader's language -------------------------------------------------


def _chinese(user: User) -> None:
    db.session.get(User, user.id).preferred_language = ZH
    db.session.commit()


def test_a_chinese_learner_sees_and_is_told_the_reasons_in_chinese(
    client, login_as, make, admin, learner, outbox
):
    course_class = make.course_class(sessions=2)
    enrolment_requests.request_enrolment(learner, learner, course_class)
    _chinese(learner)
    db.session.commit()
    outbox.clear()
    class_status.change_status(admin, course_class, StatusAction.CANCEL, "Trainer unavailable")
    enrolment = db.session.scalar(select(Enrolment))
    enrolment.history[-1].reasons = [reason(PROMOTED_FROM_WAITLIST)]
    db.session.commit()
    # Told in Chinese, with the typed reason as typed.
    assert len(outbox) == 1
    assert "Trainer unavailable" in outbox[0].text
    assert "原因" in outbox[0].text
    page = login_as(learner).get("/my-learning").get_data(as_text=True)
    assert "moved up from the waitlist" not in page
    with force_locale(ZH):
        assert render([reason(PROMOTED_FROM_WAITLIST)]) in page


def test_a_closed_class_s_reasons_read_in_chinese_on_the_admin_page(client, login_as, make, admin):
    course_class = make.course_class(status=ClassStatus.COMPLETED)
    enrolment = make.enrolment(course_class, make.user(), EnrolmentStatus.NOT_COMPLETED)
    enrolment.status_reasons = [reason(ATTENDANCE_BELOW_MINIMUM, rate=0.5, minimum=0.8)]
    db.session.commit()
    _chinese(admin)
    page = login_as(admin).get(f"/admin/classes/{course_class.id}").get_data(as_text=True)
    assert "is below the" not in page
    with force_locale(ZH):
        assert render(enrolment.status_reasons) in page


# The change history -------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", ZH])
def test_a_class_s_change_history_reads_as_sentences_without_dictionaries(
    client, login_as, make, admin, learner, language
):
    course_class = make.course_class(sessions=2)
    enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.commit()
    class_status.change_status(admin, course_class, StatusAction.CANCEL, "Venue flooded")
    db.session.commit()
    db.session.get(User, admin.id).preferred_language = language
    db.session.commit()
    page = login_as(admin).get(f"/admin/classes/{course_class.id}").get_data(as_text=True)
    history = page[page.index('id="audit-log"') :]
    history = history[: history.index("</section>")]
    assert "{" not in history and "}" not in history
    assert "Venue flooded" in history
    assert "class.status_changed" not in history
    if language == ZH:
        assert "更改班別狀態" in history
    else:
        assert "Changed the class&#39;s status" in history
        assert "Cancelled" in history


def test_an_unknown_action_reads_as_a_generic_sentence(app, admin):
    from skillsup.audit_text import readable_entries
    from skillsup.models import AuditEntry

    entry = AuditEntry(
        action="widget.polished",
        object_type="classes",
        summary="",
        details={"learner_id": admin.id},
    )
    with app.test_request_context(), force_locale("en"):
        (readable,) = readable_entries([entry])
    assert readable.sentence == "Recorded: widget polished"
    assert readable.details == [("Learner", admin.name)]


# The migration ------------------------------------------------------------------------------


def _migration():
    path = next(Path("migrations/versions").glob("b7d4e2a9c318_*.py"))
    spec = importlib.util.spec_from_file_location("reasons_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("old", "codes"),
    [
        ("Attendance 79.5% is below the 80% minimum. Assessment failed.", [
            ATTENDANCE_BELOW_MINIMUM, ASSESSMENT_FAILED
        ]),
        ("No attendance can be counted against the 80% minimum.", [NO_ATTENDANCE_COUNTED]),
        ("class completed", [CLASS_COMPLETED]),
        ("promoted from the waitlist", [PROMOTED_FROM_WAITLIST]),
        (
            "Placed by an admin without the company's HR approval; enrolled after the last "
            "session ended (2026-03-02 18:00): Agreed by phone",
            [PLACED_WITHOUT_APPROVAL, "enrolled_after_end", "free_text"],
        ),
        ("Withdrawn: the class was reopened. Mis-keyed", [CLASS_REOPENED, "free_text"]),
        ("Budget: used up", ["free_text"]),
    ],
)  # fmt: skip
def test_the_migration_recognises_the_old_sentences(old, codes):
    converted = _migration().to_reasons(old)
    assert [item["code"] for item in converted] == codes


def test_the_migration_keeps_the_figures():
    module = _migration()
    (below,) = module.to_reasons("Attendance 79.5% is below the 80% minimum.")
    assert below["args"] == {"rate": 0.795, "minimum": 0.8}
    late = module.to_reasons("Enrolled after the last session ended (2026-03-02 18:00): Guest")
    assert late[0]["args"]["ended_at"] == "2026-03-02T10:00:00+00:00"
    assert late[1]["args"] == {"text": "Guest"}
    assert module.to_text(late) == "Enrolled after the last session ended (2026-03-02 18:00). Guest"


def test_upgrading_converts_old_reasons_and_downgrading_words_them_again(
    empty_database_url,  # noqa: F811
):
    app = create_app({**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    values = {
        "yes": True,
        "no": False,
        "now": "2026-01-01 00:00:00",
        "later": "2026-01-02 00:00:00",
    }
    with app.app_context():
        upgrade(revision="9c4e2b7d5a18")
        with db.engine.begin() as connection:
            for statement in (
                "INSERT INTO users (id, email, name, role, is_active, session_version,"
                " created_at, wants_reminders, wants_attendance_warnings)"
                " VALUES (70, 'old@old.test', 'Old Admin', 'admin', :yes, 1, :now,"
                " :yes, :yes)",
                "INSERT INTO courses (id, code, title_en, summary_en, description_en,"
                " outcomes_en, audience_en, skills, skill_area, qf_level, qf_credits,"
                " contact_hours, delivery_mode, teaching_language, fee, cef_reimbursable,"
                " status, created_at, updated_at) VALUES (5, 'SU-OLD-101', 'Old', '', '', '',"
                " '', '', 'cloud', 3, 3, 10, 'on_campus', 'english', 0, :no, 'published',"
                " :now, :now)",
                "INSERT INTO classes (id, course_id, code, capacity, seats_taken, starts_on,"
                " ends_on, enrolment_opens_at, enrolment_closes_at, withdrawal_deadline_at,"
                " min_attendance_pct, assessment_required, status, status_reason, created_at,"
                " updated_at) VALUES (3, 5, 'OLD-1', 10, 0, '2026-01-05', '2026-02-05', :now,"
                " :later, :now, 80, :no, 'cancelled', 'Venue closed', :now, :now)",
                "INSERT INTO enrolments (id, class_id, learner_id, status, source, status_reason,"
                " requested_at, updated_at) VALUES (9, 3, 70, 'not_completed', 'self',"
                " 'Attendance 50% is below the 80% minimum.', :now, :now)",
                "INSERT INTO enrolment_status_changes (enrolment_id, to_status, reason,"
                " changed_at) VALUES (9, 'not_completed',"
                " 'Attendance 50% is below the 80% minimum.', :now)",
            ):
                connection.execute(text(statement), values)
        upgrade()
        with db.engine.connect() as connection:
            enrolment_reasons = connection.execute(select(Enrolment.status_reasons)).scalar_one()
            class_reasons = connection.execute(text("SELECT status_reasons FROM classes")).scalar()
        assert enrolment_reasons == [
            {"code": ATTENDANCE_BELOW_MINIMUM, "args": {"rate": 0.5, "minimum": 0.8}}
        ]
        assert "Venue closed" in str(class_reasons)
        downgrade(revision="9c4e2b7d5a18")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT status_reason FROM enrolments")).scalar() == (
                "Attendance 50% is below the 80% minimum."
            )
            assert connection.execute(text("SELECT status_reason FROM classes")).scalar() == (
                "Venue closed"
            )
        downgrade(revision="base")
        db.engine.dispose()
