"""The e-mail outbox: written with the change, delivered after it, once, through real SMTP."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select, update

from skillsup.extensions import db
from skillsup.models import EnrolmentSource, EnrolmentStatus, OutboxMessage, OutboxStatus, utcnow
from skillsup.services import accounts, enrolment_requests, mail, notify, outbox_claims


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Recorder:
    """An aiosmtpd handler that keeps what it receives and refuses some recipients."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []
        self.refuse: set[str] = set()
        #: Recipients whose message is refused for now (451) when it is sent.
        self.defer: set[str] = set()
        #: The client address of each message received: one per connection.
        self.peers: list[Any] = []
        #: Seconds the server takes to answer each message (a slow server).
        self.delay = 0.0
        #: Set when a message's data has come in, before the server answers.
        self.receiving = threading.Event()
        #: Called (in the server's thread) when a message's data has come in.
        self.on_data: Callable[[], None] | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.receiving.set()
        if self.on_data is not None:
            self.on_data()
        await asyncio.sleep(self.delay)
        if set(envelope.rcpt_tos) & self.defer:
            return "451 4.3.0 try again later"
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        self.peers.append(session.peer)
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.port = _free_port()
        self.handler = Recorder()
        self.controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def recipients(self) -> list[str]:
        return [to for tos, _content in self.handler.received for to in tos]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def app_config(smtp: SmtpServer) -> dict[str, Any]:
    # As in production: the request only writes to the outbox; `flask send-mail` delivers.
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT": 3,
        "MAIL_DELIVER_IN_REQUEST": False,
    }


def _queue(to: str, subject: str = "Hello") -> None:
    mail.queue(db.session(), mail.Message(to=to, subject=subject, text="Body"))


def _statuses() -> dict[str, OutboxStatus]:
    db.session.expire_all()
    statuses = dict(db.session.execute(select(OutboxMessage.recipient, OutboxMessage.status)).all())
    db.session.commit()  # hold no lock while a sender works (SQLite)
    return statuses


def test_mail_is_written_with_the_change_and_rolled_back_with_it(app):
    _queue("kept@example.test")
    db.session.commit()
    _queue("dropped@example.test")
    db.session.rollback()
    assert list(_statuses()) == ["kept@example.test"]


def test_send_mail_delivers_once_and_records_it(app, smtp):
    smtp.start()
    _queue("ada@example.test", "Welcome")
    db.session.commit()
    assert _statuses() == {"ada@example.test": OutboxStatus.PENDING}
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0
    assert "1 sent" in result.output
    assert smtp.recipients() == ["ada@example.test"]
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == OutboxStatus.SENT
    assert row.sent_at is not None and row.attempts == 1
    db.session.commit()
    app.test_cli_runner().invoke(args=["send-mail"])
    assert smtp.recipients() == ["ada@example.test"]


def test_nothing_is_lost_while_the_server_is_down(app, smtp):
    for n in range(3):
        _queue(f"person{n}@example.test")
    db.session.commit()
    report = mail.deliver_pending()  # the server is not running
    assert (report.sent, report.retrying) == (0, 3)
    row = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
    assert row.status == OutboxStatus.PENDING
    assert row.last_error
    assert row.next_attempt_at > utcnow()
    db.session.commit()

    smtp.start()
    assert mail.deliver_pending().sent == 0  # not due yet: back-off
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert mail.deliver_pending().sent == 3
    assert sorted(smtp.recipients()) == [f"person{n}@example.test" for n in range(3)]
    assert set(_statuses().values()) == {OutboxStatus.SENT}


def test_a_refused_recipient_fails_without_blocking_others(app, smtp):
    smtp.handler.refuse.add("nobody@example.test")
    smtp.start()
    _queue("nobody@example.test")
    _queue("somebody@example.test")
    db.session.commit()
    report = mail.deliver_pending()
    assert (report.sent, report.failed) == (1, 1)
    assert _statuses() == {
        "nobody@example.test": OutboxStatus.FAILED,
        "somebody@example.test": OutboxStatus.SENT,
    }


def test_a_run_of_messages_goes_over_one_connection(app, smtp):
    smtp.start()
    for n in range(5):
        _queue(f"p{n}@example.test")
    db.session.commit()
    assert mail.deliver_pending().sent == 5
    assert len(smtp.handler.peers) == 5
    assert len(set(smtp.handler.peers)) == 1


def test_after_a_failed_message_the_next_opens_a_new_connection(app, smtp):
    smtp.handler.refuse.add("nobody@example.test")
    smtp.handler.defer.add("later@example.test")
    smtp.start()
    for to in ("a@example.test", "nobody@example.test", "b@example.test"):
        _queue(to)
    _queue("later@example.test")
    _queue("c@example.test")
    db.session.commit()
    report = mail.deliver_pending()
    assert (report.sent, report.failed, report.retrying) == (3, 1, 1)
    assert smtp.recipients() == ["a@example.test", "b@example.test", "c@example.test"]
    first, second, third = smtp.handler.peers
    # A refused recipient leaves the connection usable; a failed message does not.
    assert first == second != third
    assert _statuses()["later@example.test"] == OutboxStatus.PENDING


def test_a_message_failing_every_time_ends_as_failed(app):
    _queue("unlucky@example.test")
    db.session.commit()
    moment = utcnow()
    for _ in range(mail.MAX_ATTEMPTS):
        with time_machine.travel(moment):
            mail.deliver_pending()
        moment += timedelta(hours=13)
    db.session.expire_all()
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == mail.MAX_ATTEMPTS


def test_two_senders_at_once_send_each_message_once(app, smtp):
    smtp.start()
    for n in range(20):
        _queue(f"p{n}@example.test")
    db.session.commit()

    def run() -> None:
        with app.app_context():
            mail.deliver_pending()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(smtp.recipients()) == sorted(f"p{n}@example.test" for n in range(20))
    assert (
        db.session.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT))
        == 20
    )


# Claims: each message delivered once, however slow a run or the SMTP server ------------------


@pytest.fixture
def claim_time(monkeypatch: pytest.MonkeyPatch) -> timedelta:
    """A claim time short enough for a test to outlast it, long enough for a run on a busy
    machine to renew it in time."""
    claim_time = timedelta(seconds=1)
    monkeypatch.setattr(outbox_claims, "CLAIM_TIME", claim_time)
    return claim_time


@pytest.fixture
def frozen_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs that renew no claim, as a run whose process has stopped (suspended, or stuck in
    a garbage collection) cannot."""
    monkeypatch.setattr(outbox_claims.ClaimKeeper, "_run", lambda self: None)


def _start_run(
    app: Any, reports: list[mail.DeliveryReport], now: datetime | None = None
) -> threading.Thread:
    """Start a run of delivery in a thread with its own app context; it adds its report to
    ``reports``."""

    def run() -> None:
        with app.app_context():
            reports.append(mail.deliver_pending(now=now))

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _runs(app: Any, *nows: datetime | None) -> list[mail.DeliveryReport]:
    """Deliver in one run per ``nows`` at once."""
    reports: list[mail.DeliveryReport] = []
    threads = [_start_run(app, reports, now) for now in nows]
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert len(reports) == len(nows)
    return reports


def _rows() -> list[OutboxMessage]:
    db.session.expire_all()
    rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    db.session.commit()  # hold no lock while a sender works (SQLite)
    return rows


def test_a_run_that_started_long_ago_and_a_new_one_deliver_each_message_once(app, smtp, claim_time):
    """A run that has been going for 11 minutes (its ``now`` is that old) beside a new one:
    a claim runs from the moment it is taken, not from the start of its run."""
    smtp.handler.delay = 0.01
    smtp.start()
    with time_machine.travel(utcnow() - timedelta(minutes=15)):
        for n in range(40):
            _queue(f"p{n}@example.test")
        db.session.commit()

    reports = _runs(app, utcnow() - timedelta(minutes=11), None)

    expected = sorted(f"p{n}@example.test" for n in range(40))
    assert sorted(smtp.recipients()) == expected  # each delivered once
    assert sum(report.sent for report in reports) == 40
    rows = _rows()
    assert {(row.status, row.attempts, row.claimed_until) for row in rows} == {
        (OutboxStatus.SENT, 1, None)
    }


@pytest.mark.slow
def test_a_claim_outlasts_a_slow_smtp_answer(app, smtp, claim_time):
    """The server takes longer to answer than a claim lasts: the run renews its claim while
    it waits, so another run does not take the message over and send it again."""
    smtp.handler.delay = 3 * claim_time.total_seconds()
    app.config["MAIL_TIMEOUT"] = 10  # slow, not down
    smtp.start()
    _queue("patient@example.test")
    db.session.commit()
    reports: list[mail.DeliveryReport] = []
    slow = _start_run(app, reports)
    assert smtp.handler.receiving.wait(timeout=10)
    time.sleep(1.5 * claim_time.total_seconds())  # a claim not renewed would have run out
    other = mail.deliver_pending()
    slow.join(timeout=30)

    assert smtp.recipients() == ["patient@example.test"]
    assert (other.sent, other.lost, reports[0].sent) == (0, 0, 1)
    [row] = _rows()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)


def test_a_run_that_lost_its_claim_does_not_send_the_message(
    app, smtp, claim_time, frozen_runs, monkeypatch
):
    """A run stalls while writing a message, longer than its claim; another run takes the
    message over and sends it. The first, going on, finds the claim no longer its own."""
    smtp.start()
    writing, go_on = threading.Event(), threading.Event()

    def stalling(_session: Any, subject: str, _context: dict[str, Any]) -> mail.Message:
        if not writing.is_set():
            writing.set()
            go_on.wait(timeout=30)
        return mail.Message(to="", subject=subject, text="Written at delivery")

    monkeypatch.setitem(mail._renderers, "stalling", stalling)
    mail.queue_to_render(db.session(), "once@example.test", "Hello", "stalling", {})
    db.session.commit()
    reports: list[mail.DeliveryReport] = []
    stalled = _start_run(app, reports)
    assert writing.wait(timeout=10)
    time.sleep(1.2 * claim_time.total_seconds())
    taking_over = mail.deliver_pending()
    go_on.set()
    stalled.join(timeout=30)

    assert smtp.recipients() == ["once@example.test"]
    assert (taking_over.sent, reports[0].sent, reports[0].lost) == (1, 0, 1)
    [row] = _rows()
    assert (row.status, row.attempts, row.text) == (OutboxStatus.SENT, 2, "Written at delivery")


def test_a_run_that_lost_its_claim_while_sending_records_nothing(
    app, smtp, claim_time, frozen_runs
):
    """Another run takes the message over while the first is still sending it: the first
    does not mark it sent over the other run's claim (which will record its own outcome)."""
    engine = db.engine
    later = utcnow() + timedelta(minutes=5)

    def taken_over() -> None:
        with engine.begin() as connection:
            connection.execute(
                update(OutboxMessage).values(
                    claim_token="another-run",
                    attempts=OutboxMessage.attempts + 1,
                    claimed_until=later,
                )
            )

    smtp.handler.on_data = taken_over
    smtp.start()
    _queue("taken@example.test")
    db.session.commit()

    report = mail.deliver_pending()

    assert (report.sent, report.lost) == (0, 1)
    [row] = _rows()
    assert (row.status, row.claim_token, row.attempts) == (
        OutboxStatus.SENDING,
        "another-run",
        2,
    )
    assert row.claimed_until == later and row.sent_at is None


def test_a_claim_runs_from_the_moment_it_is_taken(app, smtp):
    """Even in a run whose ``now`` is long past."""
    engine = db.engine
    seen: list[datetime | None] = []

    def look() -> None:
        with engine.connect() as connection:
            seen.append(connection.scalar(select(OutboxMessage.claimed_until)))
            seen.append(utcnow())

    smtp.handler.on_data = look
    smtp.start()
    with time_machine.travel(utcnow() - timedelta(hours=1)):
        _queue("claimed@example.test")
        db.session.commit()
    assert mail.deliver_pending(now=utcnow() - timedelta(minutes=30)).sent == 1
    claimed_until, moment = seen
    assert claimed_until is not None
    assert moment < claimed_until <= moment + outbox_claims.CLAIM_TIME


def test_a_message_another_run_is_claiming_is_passed_over_not_waited_for(app, smtp):
    """On PostgreSQL, a run takes the next message rather than wait for a row another run
    has locked to claim it (SQLite has one writer at a time: there is nothing to pass)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's row locks")
    smtp.start()
    _queue("locked@example.test")
    _queue("free@example.test")
    db.session.commit()
    locked_id = db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.recipient == "locked@example.test")
    )
    db.session.commit()
    with db.engine.connect() as other_run:
        other_run.execute(
            select(OutboxMessage.id).where(OutboxMessage.id == locked_id).with_for_update()
        )
        started = time.monotonic()
        report = mail.deliver_pending()
        assert time.monotonic() - started < 5  # the lock timeout is 10 s
        other_run.rollback()
    assert (report.sent, smtp.recipients()) == (1, ["free@example.test"])
    assert _statuses()["locked@example.test"] == OutboxStatus.PENDING


def test_attachments_survive_the_outbox(app, smtp):
    smtp.start()
    message = mail.Message(to="cal@example.test", subject="Calendar", text="See attached")
    message.attachments.append(
        mail.Attachment("class.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text", "calendar")
    )
    mail.queue(db.session(), message)
    db.session.commit()
    mail.deliver_pending()
    [(_tos, content)] = smtp.handler.received
    assert b"class.ics" in content
    assert b"text/calendar" in content


# Messages written at delivery ---------------------------------------------------------------


def _body(content: bytes) -> str:
    from email import message_from_bytes, policy

    email = message_from_bytes(content, policy=policy.default)
    return email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_an_enrolment_message_is_written_when_it_is_delivered_and_kept(app, smtp, make, admin):
    smtp.start()
    learner = make.user()
    course_class = make.course_class(capacity=1, sessions=2)
    enrolment_requests.request_enrolment(admin, learner, course_class, EnrolmentSource.ADMIN)
    db.session.commit()
    row = db.session.scalar(select(OutboxMessage))
    # The request paid for a row, not for the templates.
    assert row.text is None and row.renderer == notify.ENROLMENT_STATUS
    assert row.subject == f"You are confirmed in {course_class.code}"
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0 and "1 sent" in result.output
    [(tos, content)] = smtp.handler.received
    assert tos == [learner.email]
    assert f"Your place in {course_class.course.title_en} ({course_class.code}) is confirmed" in (
        _body(content)
    )
    assert f"{course_class.code}.ics".encode() in content
    db.session.expire_all()
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == OutboxStatus.SENT
    assert "is confirmed" in row.text and row.html and row.attachments


def test_an_enrolment_message_tells_the_status_as_it_was_at_the_change(app, smtp, make, admin):
    smtp.start()
    first, second = make.user(), make.user()
    course_class = make.course_class(capacity=1)
    taken = enrolment_requests.request_enrolment(admin, first, course_class, EnrolmentSource.ADMIN)
    waiting = enrolment_requests.request_enrolment(
        admin, second, course_class, EnrolmentSource.ADMIN
    )
    db.session.commit()
    # The seat comes free, and the waitlisted learner moves up, before any mail leaves.
    enrolment_requests.withdraw(admin, taken.enrolment, reason="Changed team")
    db.session.commit()
    assert waiting.enrolment.status == EnrolmentStatus.CONFIRMED
    db.session.commit()  # hold no lock while the sender works (SQLite)

    assert mail.deliver_pending().sent == 4
    bodies = [_body(content) for tos, content in smtp.handler.received if tos == [second.email]]
    assert "is full, so you are on its waitlist" in bodies[0]
    assert "moved from the waitlist" in bodies[1]
    [withdrawn] = [_body(c) for tos, c in smtp.handler.received if tos == [first.email]][1:]
    assert "Reason: Changed team" in withdrawn


def test_an_enrolment_message_is_written_in_the_learners_language(app, smtp, make, admin):
    smtp.start()
    learner = make.user(preferred_language="zh_Hant_HK")
    course_class = make.course_class(capacity=1)
    enrolment_requests.request_enrolment(admin, learner, course_class, EnrolmentSource.ADMIN)
    db.session.commit()
    mail.deliver_pending()
    [(_tos, content)] = smtp.handler.received
    assert f"（{course_class.code}）的名額已獲確認" in _body(content)


def test_a_request_awaiting_approval_tells_each_active_hr_officer_in_their_language(
    app, smtp, make
):
    smtp.start()
    company = make.company(requires_approval=True)
    officer = make.user(role="hr", company=company, name="Olive Officer")
    chinese = make.user(role="hr", company=company, preferred_language="zh_Hant_HK")
    make.user(role="hr", company=company, is_active=False)
    learner = make.user(company=company, name="Lee Learner", department="Service desk")
    course_class = make.course_class(capacity=5)
    outcome = enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.commit()
    assert outcome.status == EnrolmentStatus.PENDING
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.recipient, r.renderer) for r in rows] == [
        (learner.email, notify.ENROLMENT_STATUS),
        (officer.email, notify.APPROVAL_REQUESTED),
        (chinese.email, notify.APPROVAL_REQUESTED),
    ]
    assert all(r.text is None for r in rows)
    assert rows[1].subject == f"Lee Learner asks to join {course_class.code}"
    db.session.commit()

    assert mail.deliver_pending().sent == 3
    received = {tos[0]: _body(content) for tos, content in smtp.handler.received}
    assert "Hello Olive Officer," in received[officer.email]
    assert (
        f"Lee Learner (Service desk) asks to join {course_class.course.title_en}"
        in (received[officer.email])
    )
    assert "http://skillsup.test/hr/approvals" in received[officer.email]
    assert course_class.code in received[chinese.email]
    assert "Hello" not in received[chinese.email]


def test_a_certificate_message_is_written_at_delivery_in_the_learners_language(
    app, smtp, make, trainer
):
    from datetime import UTC, datetime

    from skillsup.models import Attendance, AttendanceStatus, ClassStatus
    from skillsup.services import class_closing

    smtp.start()
    start = datetime.now(UTC) - timedelta(days=21)
    course_class = make.course_class(
        sessions=1, first_session=start, trainers=[trainer], status=ClassStatus.RUNNING
    )
    learner = make.user(preferred_language="zh_Hant_HK")
    enrolled = make.enrolment(course_class, learner)
    db.session.add(
        Attendance(
            enrolment=enrolled, session=course_class.sessions[0], status=AttendanceStatus.PRESENT
        )
    )
    db.session.commit()
    class_closing.close_class(trainer, course_class)
    db.session.commit()
    row = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.renderer == notify.CERTIFICATE_ISSUED)
    )
    assert row.recipient == learner.email and row.text is None
    serial = enrolled.certificate.serial_number
    db.session.commit()

    mail.deliver_pending()
    [body] = [_body(c) for tos, c in smtp.handler.received if tos == [learner.email]]
    assert serial in body
    assert "http://skillsup.test/verify/" in body
    assert "Congratulations" not in body  # written in Chinese


def test_a_message_that_cannot_be_written_fails_without_blocking_others(app, smtp, make, admin):
    smtp.start()
    learner = make.user()
    course_class = make.course_class(capacity=1)
    enrolment_requests.request_enrolment(admin, learner, course_class, EnrolmentSource.ADMIN)
    _queue("fine@example.test")
    db.session.commit()
    broken = db.session.scalar(select(OutboxMessage).where(OutboxMessage.text.is_(None)))
    broken.context = {**broken.context, "enrolment_id": 999_999}
    db.session.commit()
    report = mail.deliver_pending()
    assert (report.sent, report.failed) == (1, 1)
    assert smtp.recipients() == ["fine@example.test"]
    statuses = _statuses()
    assert statuses[learner.email] == OutboxStatus.FAILED
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == learner.email))
    assert "999999" in row.last_error


def test_a_message_with_nothing_to_send_is_finished_as_skipped(app, smtp, make):
    """A reset link asked for an address without an account: nothing leaves, and the outbox
    says so, once."""
    smtp.start()
    owner = make.user()
    accounts.request_password_reset(owner.email)
    accounts.request_password_reset("stranger@example.test")
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 to retry, 0 failed, 1 with nothing to send" in result.output
    assert smtp.recipients() == [owner.email]
    skipped = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient == "stranger@example.test")
    )
    assert (skipped.status, skipped.last_error) == (
        OutboxStatus.SKIPPED,
        "no account at this address",
    )
    assert (skipped.attempts, skipped.sent_at, skipped.claimed_until) == (1, None, None)
    db.session.commit()
    again = app.test_cli_runner().invoke(args=["send-mail"])
    assert "0 sent, 0 to retry, 0 failed, 0 with nothing to send" in again.output


def test_a_message_to_be_written_needs_a_known_renderer(app):
    with pytest.raises(ValueError, match="no e-mail renderer"):
        mail.queue_to_render(db.session(), "a@example.test", "Hi", "no-such-renderer", {})


def test_queued_shows_messages_to_be_written_as_they_will_read(app, make, admin):
    learner = make.user()
    course_class = make.course_class(capacity=0)
    enrolment_requests.request_enrolment(admin, learner, course_class, EnrolmentSource.ADMIN)
    [message] = mail.queued(db.session())
    assert message.to == learner.email
    assert "you are on its waitlist" in message.text


class TestDeliveredInTheRequest:
    @pytest.fixture
    def app_config(self, smtp: SmtpServer) -> dict[str, Any]:
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "MAIL_TIMEOUT": 3,
            "MAIL_DELIVER_IN_REQUEST": True,
        }

    def test_development_delivers_right_after_the_commit(self, app, smtp):
        smtp.start()
        _queue("now@example.test")
        db.session.commit()
        assert smtp.recipients() == ["now@example.test"]
        assert _statuses() == {"now@example.test": OutboxStatus.SENT}

    def test_nothing_leaves_before_the_outer_commit(self, app, smtp):
        smtp.start()
        _queue("early@example.test")
        savepoint = db.session.begin_nested()
        savepoint.commit()  # releasing a savepoint is not the final commit
        assert smtp.recipients() == []
        db.session.rollback()
        assert smtp.recipients() == []
        assert _statuses() == {}

    def test_a_message_written_at_delivery_leaves_right_after_the_commit(
        self, app, smtp, make, admin
    ):
        smtp.start()
        learner = make.user()
        course_class = make.course_class(capacity=1)
        enrolment_requests.request_enrolment(admin, learner, course_class, EnrolmentSource.ADMIN)
        db.session.commit()
        assert smtp.recipients() == [learner.email]
        assert _statuses() == {learner.email: OutboxStatus.SENT}

    def test_a_server_that_is_down_leaves_the_mail_for_send_mail(self, app, smtp):
        _queue("later@example.test")
        db.session.commit()  # no error although the server is down
        assert _statuses() == {"later@example.test": OutboxStatus.PENDING}


def test_a_dry_run_queues_no_mail_and_may_nest(app, learner):
    session = db.session()
    with mail.dry_run(session):
        notify.send(learner, "Not sent", "account_exists", reset_url="http://skillsup.test/reset")
        with mail.dry_run(session):
            assert mail.in_dry_run(session)
        assert mail.in_dry_run(session)
    assert not mail.in_dry_run(session)
    assert mail.queued(session) == []
    notify.send(learner, "Sent", "account_exists", reset_url="http://skillsup.test/reset")
    assert [m.subject for m in mail.queued(session)] == ["Sent"]
