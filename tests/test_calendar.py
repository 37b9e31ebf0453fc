"""Calendar feeds and downloads, read back with the icalendar library."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from icalendar import Calendar, Event

from skillsup.extensions import db
from skillsup.models import ClassStatus, CourseStatus, EnrolmentStatus, User
from skillsup.services import calendar, enrolment_requests
from skillsup.timeutil import HONG_KONG

START = datetime(2031, 3, 4, 11, 0, tzinfo=UTC)  # Tuesday 19:00 in Hong Kong


def _events(payload: bytes) -> list:
    parsed = Calendar.from_ical(payload)
    return [c for c in parsed.walk() if c.name == "VEVENT"]


def _feed_url(client, user) -> str:
    client.post("/account/calendar")
    page = client.get("/account").get_data(as_text=True)
    return re.search(r'value="http://skillsup\.test(/calendar/[^"]+\.ics)"', page).group(1)


def test_learner_feed_has_confirmed_sessions_in_hong_kong_time(client, make, login_as, learner):
    confirmed = make.course_class(sessions=2, first_session=START, venue="Room 3.12")
    waitlisted = make.course_class(sessions=1, first_session=START)
    make.enrolment(confirmed, learner)
    make.enrolment(waitlisted, learner, EnrolmentStatus.WAITLISTED)
    login_as(learner)
    url = _feed_url(client, learner)
    client.post("/logout")  # the feed needs no session: the token is the key

    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    parsed = Calendar.from_ical(response.data)
    assert any(c.name == "VTIMEZONE" and str(c["TZID"]) == "Asia/Hong_Kong" for c in parsed.walk())
    events = _events(response.data)
    assert len(events) == 2
    first = events[0]
    assert first.decoded("dtstart").hour == 19
    assert str(first.decoded("dtstart").tzinfo) == "Asia/Hong_Kong"
    assert first["location"] == "Room 3.12"
    assert confirmed.code in str(first["summary"])


def test_a_changed_session_keeps_its_uid_and_a_cancelled_one_is_marked(make, learner, app):
    course_class = make.course_class(sessions=2, first_session=START)
    make.enrolment(course_class, learner)
    before = {str(e["uid"]): e for e in _events(calendar.feed_for(learner))}
    moved, dropped = course_class.sessions
    moved.starts_at = moved.starts_at.replace(hour=12)
    moved.sequence += 1
    dropped.is_cancelled = True
    db.session.commit()
    after = {str(e["uid"]): e for e in _events(calendar.feed_for(learner))}
    assert set(after) == set(before)
    assert int(after[calendar.session_uid(moved)]["sequence"]) == 1
    assert str(after[calendar.session_uid(dropped)]["status"]) == "CANCELLED"


def test_cancelled_class_sessions_are_cancelled_in_the_feed(make, learner):
    course_class = make.course_class(sessions=1, first_session=START)
    make.enrolment(course_class, learner)
    course_class.status = ClassStatus.CANCELLED
    db.session.commit()
    [event] = _events(calendar.feed_for(learner))
    assert str(event["status"]) == "CANCELLED"


def test_trainer_feed_has_the_classes_they_teach(make, trainer):
    mine = make.course_class(sessions=3, first_session=START, trainers=[trainer])
    make.course_class(sessions=2, first_session=START)
    events = _events(calendar.feed_for(trainer))
    assert len(events) == 3
    assert all(mine.code in str(e["summary"]) for e in events)


def test_unknown_and_reset_tokens_are_404(client, login_as, learner):
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    assert client.get("/calendar/" + "x" * 200 + ".ics").status_code == 404
    login_as(learner)
    old = _feed_url(client, learner)
    new = _feed_url(client, learner)
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_deactivated_users_feed_stops(client, make, login_as, learner):
    login_as(learner)
    url = _feed_url(client, learner)
    db.session.get(User, learner.id).is_active = False
    db.session.commit()
    assert client.get(url).status_code == 404


def test_class_download_is_public_for_published_courses_only(client, make):
    visible = make.course_class(sessions=2, first_session=START)
    response = client.get(f"/classes/{visible.code}/calendar.ics")
    assert response.status_code == 200
    assert len(_events(response.data)) == 2
    assert "attachment" in response.headers["Content-Disposition"]
    hidden = make.course_class(course=make.course(status=CourseStatus.DRAFT), sessions=1)
    assert client.get(f"/classes/{hidden.code}/calendar.ics").status_code == 404
    assert client.get("/classes/NOPE/calendar.ics").status_code == 404


def test_confirmation_email_carries_the_class_calendar(make, learner, outbox):
    course_class = make.course_class(sessions=2, first_session=START)
    enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.commit()
    [message] = outbox
    [attachment] = message.attachments
    assert attachment.filename == f"{course_class.code}.ics"
    assert len(_events(attachment.content)) == 2


def test_preferences_for_optional_email_are_saved(client, login_as, learner):
    login_as(learner)
    client.post(
        "/account/profile",
        data={"name": learner.name, "preferred_language": "", "wants_reminders": "y"},
    )
    saved = db.session.get(User, learner.id)
    assert saved.wants_reminders is True
    assert saved.wants_attendance_warnings is False


def test_every_calendar_carries_the_same_hong_kong_zone_as_icalendar_works_out(make):
    first = make.course_class(sessions=2, first_session=START)
    second = make.course_class(sessions=1, first_session=START)
    zones = [
        [c for c in Calendar.from_ical(calendar.class_calendar(k)).walk() if c.name == "VTIMEZONE"]
        for k in (first, second)
    ]
    event = Event()
    event.add("dtstart", START.astimezone(HONG_KONG))
    expected = Calendar()
    expected.add_component(event)
    expected.add_missing_timezones()
    assert [[z.to_ical() for z in found] for found in zones] == [
        [expected.timezones[0].to_ical()]
    ] * 2


class _FeedLinks(HTMLParser):
    """The account page's calendar section as a person meets it: where the subscribe link
    goes, what the address field holds and how it is labelled, and the copy button."""

    def __init__(self) -> None:
        super().__init__()
        self.subscribe: list[str] = []
        self.address: str | None = None
        self.address_readonly = False
        self.label_for: list[str] = []
        self.copy_button: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        href = found.get("href") or ""
        if tag == "a" and href.startswith("webcal:"):
            self.subscribe.append(href)
        elif tag == "input" and found.get("id") == "feed-url":
            self.address = found.get("value")
            self.address_readonly = "readonly" in found
        elif tag == "label" and found.get("for"):
            self.label_for.append(found["for"] or "")
        elif tag == "button" and found.get("data-copy"):
            self.copy_button = found


def _feed_section(client, base_url: str = "http://skillsup.test") -> _FeedLinks:
    parser = _FeedLinks()
    parser.feed(client.get("/account", base_url=base_url).get_data(as_text=True))
    return parser


def test_account_page_offers_a_webcal_link_to_the_same_feed_and_shows_its_address(
    client, login_as, learner
):
    login_as(learner)
    before = _feed_section(client)
    assert before.subscribe == [] and before.address is None  # no feed yet: nothing to offer

    client.post("/account/calendar")
    db.session.refresh(learner)
    token = learner.calendar_token
    shown = _feed_section(client, "https://skillsup.test")
    assert shown.address == f"https://skillsup.test/calendar/{token}.ics"
    assert shown.address_readonly and "feed-url" in shown.label_for
    assert shown.subscribe == [f"webcal://skillsup.test/calendar/{token}.ics"]
    # The copy button waits, hidden, for the script that can copy; it copies the field above.
    assert shown.copy_button is not None
    assert shown.copy_button["data-copy"] == "feed-url" and "hidden" in shown.copy_button

    # A new address replaces the old one in both the link and the field, and it is the feed.
    client.post("/account/calendar")
    db.session.refresh(learner)
    renewed = _feed_section(client)
    assert learner.calendar_token != token
    assert renewed.subscribe == [f"webcal://skillsup.test/calendar/{learner.calendar_token}.ics"]
    assert renewed.address == f"http://skillsup.test/calendar/{learner.calendar_token}.ics"
    feed = client.get(renewed.subscribe[0].removeprefix("webcal://skillsup.test"))
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
