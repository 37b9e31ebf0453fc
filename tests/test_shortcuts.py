"""Each role's "at a glance" panel at the top of its home page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    ClassStatus,
    EnrolmentStatus,
    utcnow,
)
from skillsup.services import shortcuts
from skillsup.services.errors import PermissionDenied
from skillsup.timeutil import start_of_hk_day_utc, today_hk

from .queries import recorded_statements


def glance(body: str) -> str:
    """The panel, which comes right after the page's title and its lead sentence, if any."""
    match = re.search(
        r"</h1>\s*(?:<p class=\"lead\">[^<]*</p>\s*)?<section class=\"glance\".*?</section>",
        body,
        re.S,
    )
    assert match, body
    return match.group(0)


def page(client, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    return glance(response.get_data(as_text=True))


def at_risk_enrolment(make, learner, trainer=None):
    """A confirmed place whose two past sessions were both missed: the class's 80 % minimum
    can no longer be reached."""
    course_class = make.course_class(
        first_session=utcnow() - timedelta(days=10),
        sessions=2,
        trainers=[trainer] if trainer else None,
        status=ClassStatus.RUNNING,
    )
    enrolment = make.enrolment(course_class, learner)
    for session in course_class.sessions:
        db.session.add(
            Attendance(enrolment=enrolment, session=session, status=AttendanceStatus.ABSENT)
        )
    db.session.commit()
    return enrolment


# ---------------------------------------------------------------------------------------------
# Learner


def test_a_learner_sees_their_next_session_and_their_places_still_waiting(
    client, make, login_as, learner
):
    course = make.course(code="SU-CLD-101", title_en="Cloud Foundations", title_zh="雲端基礎")
    soon = make.course_class(
        course=course,
        code="CLD-SOON",
        sessions=2,
        first_session=utcnow() + timedelta(days=3),
        venue="Tsing Yi campus, room 301",
    )
    make.course_class(course=course, code="CLD-LATER", sessions=1)  # not enrolled
    later = make.course_class(
        code="OTHER-LATER", sessions=1, first_session=utcnow() + timedelta(days=9)
    )
    make.enrolment(soon, learner)
    make.enrolment(later, learner)
    make.enrolment(make.course_class(), learner, status=EnrolmentStatus.PENDING)
    make.enrolment(make.course_class(), learner, status=EnrolmentStatus.WAITLISTED)
    make.enrolment(make.course_class(), learner, status=EnrolmentStatus.WAITLISTED)
    login_as(learner)

    panel = page(client, "/my-learning")
    assert "Your next session" in panel
    assert "Cloud Foundations" in panel and "CLD-SOON" in panel
    assert "OTHER-LATER" not in panel
    assert 'href="/courses/SU-CLD-101"' in panel
    assert "Tsing Yi campus, room 301" in panel
    assert 'href="#next-sessions"' in panel
    assert "1 request waits for your HR officer's approval" in panel
    assert "You are on 2 waitlists" in panel

    chinese = page(client, "/my-learning", **{"Accept-Language": "zh-HK"})
    assert "雲端基礎" in chinese and "你的下一節課堂" in chinese


def test_a_learners_online_class_gives_its_link(client, make, login_as, learner):
    online = make.course_class(sessions=1, venue=None, online_url="https://meet.example/su-101")
    make.enrolment(online, learner)
    login_as(learner)
    panel = page(client, "/my-learning")
    assert 'href="https://meet.example/su-101"' in panel and "Join online" in panel


def test_a_learner_without_sessions_is_pointed_to_the_catalogue(client, make, login_as, learner):
    make.enrolment(make.course_class(sessions=1), learner, status=EnrolmentStatus.WITHDRAWN)
    login_as(learner)
    panel = page(client, "/my-learning")
    assert "You have no sessions coming up." in panel
    assert 'href="/courses"' in panel
    assert "Waiting for a place" not in panel


def test_the_learners_panel_costs_no_query_of_its_own(app, make, learner):
    from skillsup.services import learning

    make.enrolment(make.course_class(sessions=2), learner)
    overview = learning.overview(learner)
    with recorded_statements() as statements:
        result = shortcuts.learner_glance(overview)
    assert statements == []
    assert result.next_session is not None


# ---------------------------------------------------------------------------------------------
# HR officer


def test_hr_sees_their_own_companys_waiting_requests_and_staff_at_risk_only(client, make, login_as):
    ours = make.company(requires_approval=True)
    theirs = make.company(requires_approval=True)
    hr = make.user(role="hr", company=ours)
    course_class = make.course_class(sessions=1)
    for _ in range(3):
        make.enrolment(course_class, make.user(company=ours), status=EnrolmentStatus.PENDING)
    for _ in range(5):
        make.enrolment(course_class, make.user(company=theirs), status=EnrolmentStatus.PENDING)
    at_risk_enrolment(make, make.user(company=ours))
    for _ in range(4):
        at_risk_enrolment(make, make.user(company=theirs))
    login_as(hr)

    panel = page(client, "/hr/")
    assert "3 requests wait for your approval" in panel
    assert 'href="/hr/approvals"' in panel
    assert "1 person can no longer reach a class's minimum attendance" in panel
    assert 'href="/hr/progress?sort=at_risk"' in panel
    assert "5 requests" not in panel and "4 people" not in panel

    chinese = page(client, "/hr/", **{"Accept-Language": "zh-HK"})
    assert "有3項申請等待你審批" in chinese


def test_hr_of_a_company_without_approval_sees_no_approvals(client, make, login_as):
    company = make.company(requires_approval=False)
    login_as(make.user(role="hr", company=company))
    panel = page(client, "/hr/")
    assert "Approvals" not in panel and "/hr/approvals" not in panel
    assert "No one in training has missed too much to complete their class." in panel


def test_hr_with_nothing_waiting_is_told_so(client, make, login_as):
    company = make.company(requires_approval=True)
    login_as(make.user(role="hr", company=company))
    panel = page(client, "/hr/")
    assert "No request waits for your approval." in panel
    assert 'href="/hr/approvals"' not in panel


def test_requests_still_waiting_show_after_the_company_stops_approving(app, make):
    company = make.company(requires_approval=False)
    make.enrolment(make.course_class(), make.user(company=company), status=EnrolmentStatus.PENDING)
    result = shortcuts.hr_glance(make.user(role="hr", company=company))
    assert result.waiting == 1 and result.shows_approvals


def test_the_hr_panel_costs_the_same_queries_for_one_or_many(app, make):
    company = make.company(requires_approval=True)
    hr = make.user(role="hr", company=company)
    at_risk_enrolment(make, make.user(company=company))
    assert hr.company.requires_approval  # the actor is loaded before counting
    with recorded_statements() as few:
        assert shortcuts.hr_glance(hr).at_risk == 1
    for _ in range(6):
        at_risk_enrolment(make, make.user(company=company))
        make.enrolment(
            make.course_class(), make.user(company=company), status=EnrolmentStatus.PENDING
        )
    assert hr.company.requires_approval
    with recorded_statements() as many:
        assert shortcuts.hr_glance(hr).at_risk == 7
    assert len(few) == len(many) <= 5


@pytest.mark.parametrize("role", ["learner", "trainer", "admin"])
def test_only_hr_officers_get_the_hr_panel(app, make, role):
    with pytest.raises(PermissionDenied):
        shortcuts.hr_glance(make.user(role=role))


# ---------------------------------------------------------------------------------------------
# Trainer


@pytest.mark.hong_kong_day
def test_a_trainer_sees_todays_sessions_with_attendance_and_sign_in_links(client, make, login_as):
    trainer = make.user(role="trainer")
    other = make.user(role="trainer")
    day = start_of_hk_day_utc(today_hk())
    morning = make.course_class(
        code="MORNING", trainers=[trainer], sessions=1, first_session=day + timedelta(minutes=1)
    )
    evening = make.course_class(
        code="EVENING",
        trainers=[trainer],
        sessions=1,
        first_session=day + timedelta(hours=23, minutes=58),
    )
    make.course_class(
        code="NOT-MINE", trainers=[other], sessions=1, first_session=day + timedelta(hours=1)
    )
    called_off = make.course_class(
        code="CALLED-OFF", trainers=[trainer], sessions=1, first_session=day + timedelta(hours=2)
    )
    called_off.sessions[0].is_cancelled = True
    make.course_class(
        code="TOMORROW", trainers=[trainer], sessions=1, first_session=day + timedelta(days=1)
    )
    db.session.commit()
    login_as(trainer)

    panel = page(client, "/trainer/")
    assert "Today's sessions" in panel
    assert panel.index("MORNING") < panel.index("EVENING")
    for course_class in (morning, evening):
        session_id = course_class.sessions[0].id
        base = f"/trainer/classes/{course_class.code}/sessions/{session_id}"
        assert f'href="{base}/attendance"' in panel
        assert f'href="{base}/sign-in"' in panel
    for hidden in ("NOT-MINE", "CALLED-OFF", "TOMORROW"):
        assert hidden not in panel, hidden


def test_a_trainer_without_a_session_today_sees_the_next_one(client, make, login_as, trainer):
    later = make.course_class(
        code="NEXT-WEEK", trainers=[trainer], sessions=2, first_session=utcnow() + timedelta(days=7)
    )
    make.course_class(
        code="DONE",
        trainers=[trainer],
        sessions=1,
        status=ClassStatus.COMPLETED,
        first_session=utcnow() + timedelta(days=2),
    )
    login_as(trainer)
    panel = page(client, "/trainer/")
    assert "No session today." in panel
    assert "NEXT-WEEK" in panel and "DONE" not in panel
    assert f"/sessions/{later.sessions[0].id}/sign-in" in panel


def test_a_trainer_with_no_session_to_come_is_told_so(client, make, login_as, trainer):
    login_as(trainer)
    panel = page(client, "/trainer/")
    assert "You have no sessions coming up." in panel


def test_an_admin_on_the_trainer_page_sees_every_class_today(app, make, admin):
    day = start_of_hk_day_utc(today_hk())
    make.course_class(
        code="ANYONES",
        trainers=[make.user(role="trainer")],
        sessions=1,
        first_session=day + timedelta(hours=12),
    )
    result = shortcuts.trainer_glance(admin, now=day + timedelta(hours=9))
    assert [item.course_class.code for item in result.today] == ["ANYONES"]
    assert not result.today[0].started


@pytest.mark.parametrize("role", ["learner", "hr"])
def test_only_trainers_and_admins_get_the_trainer_panel(app, make, role):
    with pytest.raises(PermissionDenied):
        shortcuts.trainer_glance(make.user(role=role))


# ---------------------------------------------------------------------------------------------
# Admin


def test_an_admin_sees_classes_waiting_to_be_closed_and_invitations(client, make, login_as, admin):
    ended = make.course_class(
        code="ENDED",
        sessions=2,
        first_session=utcnow() - timedelta(days=14),
        status=ClassStatus.RUNNING,
    )
    make.course_class(
        code="CLOSED-ALREADY",
        sessions=1,
        first_session=utcnow() - timedelta(days=14),
        status=ClassStatus.COMPLETED,
    )
    make.course_class(
        code="CALLED-OFF",
        sessions=1,
        first_session=utcnow() - timedelta(days=14),
        status=ClassStatus.CANCELLED,
    )
    make.course_class(
        code="HALFWAY",
        sessions=3,
        first_session=utcnow() - timedelta(days=8),
        status=ClassStatus.RUNNING,
    )
    make.course_class(code="NO-SESSIONS", status=ClassStatus.RUNNING)
    make.user(role="trainer", password=None, invited_at=utcnow())
    make.user(role="learner", password=None, invited_at=utcnow())
    login_as(admin)

    panel = page(client, "/admin/")
    assert "1 class has had its last session but is not closed" in panel
    assert f'href="/admin/classes/{ended.id}"' in panel
    assert 'href="/trainer/classes/ENDED/close"' in panel
    for hidden in ("CLOSED-ALREADY", "CALLED-OFF", "HALFWAY", "NO-SESSIONS"):
        assert hidden not in panel, hidden
    assert "2 invitations are not accepted yet" in panel
    assert 'href="/admin/users/invitations"' in panel

    chinese = page(client, "/admin/", **{"Accept-Language": "zh-HK"})
    assert "待結束的班別" in chinese


def test_an_admin_with_nothing_waiting_is_told_so(client, login_as, admin):
    login_as(admin)
    panel = page(client, "/admin/")
    assert "Every class that has had its last session is closed." in panel
    assert "No invitations are waiting." in panel


def test_the_admin_panel_names_five_classes_and_counts_them_all(app, make, admin):
    for n in range(7):
        make.course_class(
            code=f"ENDED-{n}", sessions=1, first_session=utcnow() - timedelta(days=20 - n)
        )
    assert admin.role  # the actor is loaded before counting
    with recorded_statements() as statements:
        result = shortcuts.admin_glance(admin)
    assert result.to_close_count == 7
    assert [c.code for c in result.to_close] == [f"ENDED-{n}" for n in range(5)]
    assert len(statements) == 2


@pytest.mark.parametrize("role", ["learner", "hr", "trainer"])
def test_only_admins_get_the_admin_panel(app, make, role):
    with pytest.raises(PermissionDenied):
        shortcuts.admin_glance(make.user(role=role))
