"""Signed-in pages kept rendered while what they show is unchanged (PAGE_CACHE_SECONDS).

Every page is visited once (and kept), then something it shows is changed by the portal's own
requests or services, or by a direct commit, and the next visit must show the change.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from skillsup import kept
from skillsup.extensions import cache, db
from skillsup.models import CourseStatus, EnrolmentStatus, utcnow
from skillsup.services import changes, rosters
from skillsup.timeutil import start_of_hk_day_utc, today_hk

from .conftest import login
from .queries import page_queries, recorded_statements

KEPT = {"PAGE_CACHE_SECONDS": 60}


@pytest.fixture
def app_config():
    return KEPT


def content(body: str) -> str:
    match = re.search(r"<h1>.*</main>", body, re.S)
    assert match, body
    return match.group(0)


def form_token(body: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', body)
    assert match, body
    return match.group(1)


def text(client: Any, url: str, **kwargs: Any) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture
def scene(make, trainer, company):
    """A running class with one session that has started, two confirmed learners and one on
    the waitlist, the trainer's and the learners' pages all visited once (kept)."""
    now = utcnow()
    course = make.course(title_en="Cloud Foundations")
    course_class = make.course_class(
        course=course,
        trainers=[trainer],
        sessions=2,
        capacity=2,
        first_session=now - timedelta(hours=1),
        enrolment_opens_at=now - timedelta(days=30),
        enrolment_closes_at=now + timedelta(days=3),
        withdrawal_deadline_at=now + timedelta(days=3),
    )
    ada = make.user(company=company, name="Ada Lam")
    ben = make.user(company=company, name="Ben Chow")
    cara = make.user(company=company, name="Cara Ho")
    dan = make.user(company=company, name="Dan Ip")
    enrolments = {
        ada: make.enrolment(course_class, ada),
        ben: make.enrolment(course_class, ben),
        cara: make.enrolment(course_class, cara, EnrolmentStatus.WAITLISTED),
        dan: make.enrolment(course_class, dan, EnrolmentStatus.WAITLISTED),
    }
    return {
        "class": course_class,
        "course": course,
        "session": course_class.sessions[0],
        "learners": (ada, ben, cara, dan),
        "enrolments": enrolments,
        "roster": f"/trainer/classes/{course_class.code}",
        "attendance": (
            f"/trainer/classes/{course_class.code}/sessions/{course_class.sessions[0].id}"
            "/attendance"
        ),
        "course_page": f"/courses/{course.code}",
    }


def test_a_kept_page_is_served_without_working_it_out_again(client, login_as, trainer, scene):
    login_as(trainer)
    first, first_queries = page_queries(client, scene["roster"])
    second, second_queries = page_queries(client, scene["roster"])
    assert second.status_code == 200
    assert content(second.get_data(as_text=True)) == content(first.get_data(as_text=True))
    assert "Ada Lam" in second.get_data(as_text=True)
    # The visitor alone: neither the class nor the roster is loaded again.
    assert len(second_queries) == 1, second_queries
    assert len(first_queries) > len(second_queries) + 2


def test_marking_attendance_shows_on_the_roster_and_the_attendance_page(
    client, login_as, trainer, scene
):
    login_as(trainer)
    ada, ben = scene["learners"][:2]
    attendance_page = text(client, scene["attendance"])
    assert "0 of 2 learners are marked for this session." in attendance_page
    assert "0 of 0" in text(client, scene["roster"])

    marks = {
        f"mark-{scene['enrolments'][ada].id}": "present",
        f"mark-{scene['enrolments'][ben].id}": "absent",
        "csrf_token": form_token(attendance_page),
    }
    assert client.post(scene["attendance"], data=marks).status_code == 302

    assert "2 of 2 learners are marked for this session." in text(client, scene["attendance"])
    roster = text(client, scene["roster"])
    assert "1 of 1" in roster and "0 of 1" in roster


@pytest.mark.parametrize(
    "change, shown",
    [
        ("learner_name", "Ada Lam-Chan"),
        ("company_name", "Harbour Logistics Renamed"),
        ("course_title", "Cloud Foundations II"),
        ("class_venue", "Kwai Chung, room 12"),
        ("new_enrolment", "Eve Tse"),
        ("result", "87"),
        ("session_cancelled", "Cancelled"),
    ],
)
def test_any_change_the_roster_shows_renders_it_afresh(
    client, login_as, make, trainer, company, scene, change, shown
):
    login_as(trainer)
    before = text(client, scene["roster"])
    assert shown not in content(before)
    ada = scene["learners"][0]
    if change == "learner_name":
        ada.name = "Ada Lam-Chan"
    elif change == "company_name":
        company.name = "Harbour Logistics Renamed"
    elif change == "course_title":
        scene["course"].title_en = "Cloud Foundations II"
    elif change == "class_venue":
        scene["class"].venue = "Kwai Chung, room 12"
    elif change == "new_enrolment":
        eve = make.user(company=company, name="Eve Tse")
        make.enrolment(scene["class"], eve, EnrolmentStatus.WAITLISTED)
    elif change == "result":
        scene["enrolments"][ada].result_score = 87
    elif change == "session_cancelled":
        scene["class"].sessions[1].is_cancelled = True
    db.session.commit()
    assert shown in content(text(client, scene["roster"]))


def test_a_learners_login_leaves_the_roster_kept(client, app, login_as, trainer, scene):
    login_as(trainer)
    text(client, scene["roster"])
    other = app.test_client()
    login(other, scene["learners"][0])  # writes the learner's last login
    _response, queries = page_queries(client, scene["roster"])
    assert len(queries) == 1, queries


def test_a_trainer_taken_off_a_class_no_longer_sees_its_kept_pages(
    client, login_as, trainer, scene
):
    login_as(trainer)
    text(client, scene["roster"])
    text(client, scene["attendance"])
    scene["class"].trainers.remove(trainer)
    db.session.commit()
    assert client.get(scene["roster"]).status_code == 404
    assert client.get(scene["attendance"]).status_code == 404


def test_a_page_kept_for_one_visitor_is_never_served_to_another(app, make, trainer, scene):
    mine = app.test_client()
    login(mine, trainer)
    text(mine, scene["roster"])
    text(mine, scene["attendance"])
    other = app.test_client()
    login(other, make.user(role="trainer", email="other.trainer@skillsup.test"))
    assert other.get(scene["roster"]).status_code == 404
    assert other.get(scene["attendance"]).status_code == 404


def test_a_course_withdrawn_from_the_catalogue_is_no_longer_served_kept(client, login_as, scene):
    login_as(scene["learners"][0])
    text(client, scene["course_page"])
    scene["course"].status = CourseStatus.ARCHIVED
    db.session.commit()
    assert client.get(scene["course_page"]).status_code == 404


def test_a_change_to_the_visitor_renders_their_kept_pages_afresh(client, login_as, admin, scene):
    login_as(admin)
    text(client, scene["roster"])  # admins see every class
    admin.name = "Renamed Admin"
    db.session.commit()
    _response, queries = page_queries(client, scene["roster"])
    assert len(queries) > 1, queries


def test_my_learning_follows_withdrawals_waitlists_and_attendance(
    client, app, login_as, trainer, scene
):
    ada, _ben, cara, dan = scene["learners"]
    login_as(dan)
    assert "You are 2nd on the waitlist." in text(client, "/my-learning")

    # Someone else leaves the waitlist ahead of Dan: his place moves up.
    other = app.test_client()
    login(other, cara)
    page = text(other, "/my-learning")
    enrolment_id = scene["enrolments"][cara].id
    response = other.post(
        f"/my-learning/enrolments/{enrolment_id}/withdraw", data={"csrf_token": form_token(page)}
    )
    assert response.status_code == 302
    assert "You are 1st on the waitlist." in text(client, "/my-learning")

    # A mark by the trainer shows on the learner's own page.
    ada_client = app.test_client()
    login(ada_client, ada)
    assert "No sessions yet" in text(ada_client, "/my-learning")
    rosters.record_attendance(trainer, scene["session"], {scene["enrolments"][ada].id: "present"})
    db.session.commit()
    assert "1 of 1 sessions" in text(ada_client, "/my-learning")


def test_each_visitor_gets_their_own_form_token_in_a_kept_page(app, scene):
    ada = scene["learners"][0]
    first, second = app.test_client(), app.test_client()
    login(first, ada)
    login(second, ada)
    first_page = text(first, "/my-learning")
    second_page = text(second, "/my-learning")
    assert content(first_page).replace(form_token(first_page), "") == content(second_page).replace(
        form_token(second_page), ""
    )
    assert kept.FORM_TOKEN_MARK not in second_page
    # The second session's token works for it: the withdrawal goes through.
    enrolment_id = scene["enrolments"][ada].id
    response = second.post(
        f"/my-learning/enrolments/{enrolment_id}/withdraw",
        data={"csrf_token": form_token(second_page)},
    )
    assert response.status_code == 302
    assert db.session.get(type(scene["enrolments"][ada]), enrolment_id).status == (
        EnrolmentStatus.WITHDRAWN
    )


def test_each_visitor_and_each_language_is_kept_apart(app, scene):
    ada, ben = scene["learners"][:2]
    ada_client, ben_client = app.test_client(), app.test_client()
    login(ada_client, ada)
    login(ben_client, ben)
    text(ada_client, "/my-learning")
    chinese = text(ada_client, "/my-learning", headers={"Accept-Language": "zh-HK"})
    assert "我的學習" in chinese
    text(ben_client, "/my-learning")
    assert "My learning" in text(ada_client, "/my-learning")
    assert "Ada Lam" in text(ada_client, "/my-learning")
    assert "Ada Lam" not in text(ben_client, "/my-learning")


def test_the_course_page_follows_seats_and_the_visitors_own_enrolment(
    client, app, login_as, make, company, scene
):
    course_class = scene["class"]
    course_class.capacity = 3
    db.session.commit()
    eve = make.user(company=company, name="Eve Tse")
    login_as(eve)
    assert "1 seat left" in text(client, scene["course_page"])

    # Another learner takes the last seat: the page says so at once.
    fay = make.user(company=company, name="Fay Yu")
    other = app.test_client()
    login(other, fay)
    page = text(other, scene["course_page"])
    response = other.post(
        f"/classes/{course_class.code}/enrol", data={"csrf_token": form_token(page)}
    )
    assert response.status_code == 302
    assert "Full: waitlist open" in text(client, scene["course_page"])

    # The visitor's company starts asking for approval: the button changes.
    company.requires_approval = True
    db.session.commit()
    assert "Request approval" in text(client, scene["course_page"])


def test_a_course_page_follows_the_titles_of_its_prerequisites(client, login_as, make, scene):
    basics = make.course(title_en="Cloud Basics")
    scene["course"].prerequisites.append(basics)
    db.session.commit()
    login_as(scene["learners"][0])
    assert "Cloud Basics" in text(client, scene["course_page"])
    basics.title_en = "Cloud Essentials"
    db.session.commit()
    assert "Cloud Essentials" in text(client, scene["course_page"])


def test_the_hr_pages_follow_their_companys_staff_and_quotas(
    client, login_as, make, hr_officer, company, scene
):
    login_as(hr_officer)
    directory = text(client, "/hr/staff")
    assert "Ada Lam" in directory and "Gus Man" not in directory
    text(client, "/hr/")

    make.user(company=company, name="Gus Man")
    assert "Gus Man" in text(client, "/hr/staff")

    today = utcnow().date()
    make.quota(company, 9, today - timedelta(days=1), today + timedelta(days=60), label="Q-Z9")
    assert "Q-Z9" in text(client, "/hr/")


def test_another_companys_changes_leave_the_hr_pages_kept(client, login_as, make, hr_officer):
    login_as(hr_officer)
    text(client, "/hr/staff")
    make.user(company=make.company(), name="Hal Outsider")
    _response, queries = page_queries(client, "/hr/staff")
    assert len(queries) == 1, queries  # the visitor only


def test_an_invalid_period_is_refused_and_not_kept(client, login_as, hr_officer):
    login_as(hr_officer)
    assert client.get("/hr/?period=nonsense").status_code == 400
    assert client.get("/hr/?period=nonsense").status_code == 400


def test_the_clock_alone_renders_a_page_afresh_once_it_has_been_kept_its_time(
    client, login_as, trainer, scene
):
    login_as(trainer)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        text(client, scene["roster"])
        traveller.shift(timedelta(seconds=59))
        assert len(page_queries(client, scene["roster"])[1]) == 1
        traveller.shift(timedelta(seconds=2))
        assert len(page_queries(client, scene["roster"])[1]) > 1


def test_a_page_is_not_kept_past_the_moment_it_reads_differently(
    client, login_as, make, trainer, company
):
    starts = utcnow().replace(microsecond=0) + timedelta(seconds=30)
    course_class = make.course_class(trainers=[trainer], sessions=1, first_session=starts)
    make.enrolment(course_class, make.user(company=company, name="Ada Lam"))
    url = f"/trainer/classes/{course_class.code}/sessions/{course_class.sessions[0].id}/attendance"
    with time_machine.travel(starts - timedelta(seconds=30), tick=False) as traveller:
        login_as(trainer)
        assert "This session has not started yet" in text(client, url)
        traveller.shift(timedelta(seconds=20))
        assert len(page_queries(client, url)[1]) == 1  # still kept
        traveller.shift(timedelta(seconds=11))
        page = text(client, url)
        assert "This session has not started yet" not in page
        assert "Save attendance" in page


def test_hong_kong_midnight_ends_every_kept_page(client, login_as, trainer, scene):
    midnight = start_of_hk_day_utc(today_hk() + timedelta(days=1))
    with time_machine.travel(midnight - timedelta(seconds=10), tick=False) as traveller:
        login_as(trainer)
        text(client, scene["roster"])
        assert len(page_queries(client, scene["roster"])[1]) == 1
        traveller.shift(timedelta(seconds=11))
        assert len(page_queries(client, scene["roster"])[1]) > 1


def test_a_cache_that_cannot_be_reached_serves_pages_afresh(
    client, login_as, trainer, scene, monkeypatch
):
    login_as(trainer)
    text(client, scene["roster"])

    def unavailable(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionError("cache away")

    monkeypatch.setattr(cache, "get", unavailable)
    monkeypatch.setattr(cache, "get_many", unavailable)
    monkeypatch.setattr(cache, "set", unavailable)
    response, queries = page_queries(client, scene["roster"])
    assert response.status_code == 200
    assert "Ada Lam" in response.get_data(as_text=True)
    assert len(queries) > 1


def test_a_change_rolled_back_or_not_yet_committed_renews_nothing(app, scene):
    scope = changes.class_scope(scene["class"].id)
    before = changes.tokens([scope])
    scene["class"].venue = "Somewhere else"
    db.session.flush()
    assert changes.tokens([scope]) == before
    db.session.rollback()
    assert changes.tokens([scope]) == before
    scene["class"].venue = "Somewhere else"
    db.session.commit()
    assert changes.tokens([scope]) != before


@pytest.mark.parametrize(
    "testing, cache_url, expected",
    [
        (False, None, 0),
        (False, "redis://127.0.0.1:6379/9", 60),
        (True, None, 60),
    ],
)
def test_pages_are_kept_only_in_a_cache_every_worker_shares(app, testing, cache_url, expected):
    app.testing = testing
    app.config["CACHE_URL"] = cache_url
    with app.test_request_context():
        assert kept.page_keeping_seconds() == expected


def test_what_a_write_touches(app, make, company, scene):
    ada = scene["learners"][0]
    elsewhere, unrelated = make.company(), make.company()
    scopes = [
        changes.class_scope(scene["class"].id),
        changes.user_scope(ada.id),
        changes.company_scope(company.id),
        changes.company_scope(elsewhere.id),
        changes.company_scope(unrelated.id),
    ]
    before = changes.tokens(scopes)
    assert before is not None

    # What no page shows touches nothing.
    ada.last_login_at = utcnow()
    db.session.commit()
    assert changes.tokens(scopes) == before

    # A learner moved to another company is shown by both companies' pages and their class's.
    ada.company = elsewhere
    db.session.commit()
    after = changes.tokens(scopes)
    assert after is not None
    assert [after[s] == before[s] for s in scopes] == [False, False, False, False, True]


def test_the_pages_are_the_same_kept_or_not(client, app, login_as, make, hr_officer, scene):
    """Each kept page, against the same page rendered with keeping turned off."""
    trainer = scene["class"].trainers[0]
    visits = [
        (trainer, scene["roster"]),
        (trainer, scene["attendance"]),
        (scene["learners"][2], "/my-learning"),
        (scene["learners"][2], scene["course_page"]),
        (hr_officer, "/hr/staff"),
        (hr_officer, "/hr/"),
    ]
    for user, url in visits:
        visitor = app.test_client()
        login(visitor, user)
        text(visitor, url)
        kept_page = text(visitor, url)
        app.config["PAGE_CACHE_SECONDS"] = 0
        fresh = text(visitor, url)
        app.config["PAGE_CACHE_SECONDS"] = 60
        # The whole page, its frame included, but for the form token of each response.
        assert kept_page.replace(page_token(kept_page), "") == fresh.replace(
            page_token(fresh), ""
        ), url


def page_token(body: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', body)
    assert match, body
    return match.group(1)


def test_a_kept_page_comes_back_as_it_was_rendered():
    html = '<title>Roster of 雲端基礎</title><p class="x">Ada Lam – "quoted" \\ back</p>' * 100
    page = kept.KeptPage.of({"class:1": "abc"}, html)
    assert page.html == html
    assert len(page.compressed_html) < len(html) / 10


def test_a_page_with_messages_waiting_is_rendered_afresh_and_not_kept(
    client, login_as, trainer, scene
):
    login_as(trainer)
    text(client, scene["roster"])
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Attendance saved: 2 changes.")]
    response, queries = page_queries(client, scene["roster"])
    assert "Attendance saved: 2 changes." in response.get_data(as_text=True)
    assert len(queries) > 1
    # Shown once: the next visit is the kept page again, without the message.
    response, queries = page_queries(client, scene["roster"])
    assert "Attendance saved" not in response.get_data(as_text=True)
    assert len(queries) == 1


def test_a_flush_of_many_sessions_looks_up_their_classs_learners_once(app, make, scene):
    """Rescheduling every session of a class reaches each of its learners, in one query."""
    learners = scene["learners"]
    before = changes.tokens([changes.user_scope(u.id) for u in learners])
    extra = make.course_class(sessions=10)  # a class of ten sessions, saved in one flush
    for class_session in [*scene["class"].sessions, *extra.sessions]:
        class_session.starts_at += timedelta(hours=1)
        class_session.ends_at += timedelta(hours=1)
    with recorded_statements() as statements:
        db.session.commit()
    lookups = [s for s in statements if "enrolments.learner_id" in s and "SELECT" in s]
    assert len(lookups) == 1, lookups
    after = changes.tokens([changes.user_scope(u.id) for u in learners])
    assert before is not None and after is not None
    assert all(after[scope] != token for scope, token in before.items())
