"""E-mail through a transactional outbox.

Services call :func:`queue`, which writes the message to the outbox table in the caller's
transaction: a rollback (or a rolled-back savepoint) takes the message with it, and a commit
makes it certain to leave. Delivery happens after the commit: at once in the request where
``MAIL_DELIVER_IN_REQUEST`` is set (development and tests), and always by ``flask send-mail``
(a cron job or worker), which retries with back-off while the SMTP server is down or refuses,
and records what was sent. With ``MAIL_SERVER`` unset, mail is written to the log instead.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import ssl
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Literal, cast

from blinker import Namespace
from flask import Flask, current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from werkzeug.local import LocalProxy

from ..models import OutboxMessage, OutboxStatus, utcnow
from . import outbox_claims

log = logging.getLogger(__name__)

_signals = Namespace()
#: Sent after a message has been handed to the SMTP server or the log.
message_sent = _signals.signal("message-sent")

_TRACK_KEY = "skillsup.outbox"
_DELIVER_KEY = "skillsup.outbox_deliver"
_DRY_RUN_KEY = "skillsup.outbox_dry_run"
#: Where a message to be rendered at delivery keeps the language it is written in.
_LOCALE_KEY = "locale"
#: Minutes to wait after the first, second, ... failed attempt.
BACKOFF_MINUTES = (1, 5, 15, 60, 240, 720)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1

#: The outbox's rows as the runs of delivery claim them (:mod:`.outbox_claims`).
OUTBOX = outbox_claims.ClaimedTable(
    model=OutboxMessage,
    pending=OutboxStatus.PENDING,
    sending=OutboxStatus.SENDING,
    returning=(
        OutboxMessage.id,
        OutboxMessage.recipient,
        OutboxMessage.subject,
        OutboxMessage.text,
        OutboxMessage.html,
        OutboxMessage.attachments,
        OutboxMessage.attempts,
        OutboxMessage.renderer,
        OutboxMessage.context,
    ),
    what="e-mail",
)


@dataclass
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str


@dataclass
class Message:
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx answer): retrying will not help."""


class NothingToSend(Exception):
    """Raised by a renderer that finds, when the message is to be written, that there is
    nothing to send (a reset link asked for an address with no active account). The message
    is finished as skipped, with the exception's text as the reason."""


#: Writes a message queued with :func:`queue_to_render` from its subject and context, reading
#: what it needs through the session it is given (the delivering one, or the queuing one for
#: :func:`queued`), or raises :class:`NothingToSend`. The renderers belong to the web layer,
#: which registers them when the app is built (:func:`skillsup.emails.register_renderers`):
#: they write the links.
Renderer = Callable[[Session, str, dict[str, Any]], Message]
_renderers: dict[str, Renderer] = {}


def register_renderer(name: str, function: Renderer) -> None:
    """Make ``function`` the renderer ``name`` for :func:`queue_to_render`."""
    _renderers[name] = function


def render_message(to: str, subject: str, template: str, **context: Any) -> Message:
    """Render ``emails/<template>.txt`` and ``.html`` into a message."""
    text = render_template(f"emails/{template}.txt", subject=subject, **context)
    html = render_template(f"emails/{template}.html", subject=subject, **context)
    return Message(to=to, subject=subject, text=text, html=html)


# ---------------------------------------------------------------------------------------------
# Writing to the outbox


def queue(session: Session, message: Message) -> OutboxMessage:
    """Write ``message`` to the outbox in ``session``'s transaction."""
    row = OutboxMessage(
        recipient=message.to,
        subject=message.subject[:300],
        text=message.text,
        html=message.html,
        attachments=_attachments_json(message.attachments),
    )
    session.add(row)
    session.info.setdefault(_TRACK_KEY, []).append(row)
    return row


def queue_to_render(
    session: Session,
    to: str,
    subject: str,
    renderer: str,
    context: dict[str, Any],
    *,
    locale: str = "en",
) -> OutboxMessage:
    """Write a message to the outbox in ``session``'s transaction, to be rendered in
    ``locale`` when it is delivered by the renderer ``renderer`` from ``context`` (JSON: ids,
    and the facts that must read as they were at the change, such as a status that may change
    again).

    For messages that many changes cause at once (a rush of enrolment requests, a CSV
    import): the change pays for one row, not for the templates.
    """
    if renderer not in _renderers:
        raise ValueError(f"no e-mail renderer {renderer!r}")
    row = OutboxMessage(
        recipient=to,
        subject=subject[:300],
        text=None,
        html=None,
        attachments=[],
        renderer=renderer,
        context={**context, _LOCALE_KEY: locale},
    )
    session.add(row)
    session.info.setdefault(_TRACK_KEY, []).append(row)
    return row


def _attachments_json(attachments: Iterable[Attachment]) -> list[dict[str, str]]:
    return [
        {
            "filename": a.filename,
            "maintype": a.maintype,
            "subtype": a.subtype,
            "content": base64.b64encode(a.content).decode("ascii"),
        }
        for a in attachments
    ]


@contextmanager
def dry_run(session: Session) -> Iterator[None]:
    """Within the block, services queue no mail in ``session``.

    For work that will be rolled back whatever happens (a preview that runs the real rules
    in a savepoint): rendering its messages would only be thrown away.
    """
    session.info[_DRY_RUN_KEY] = session.info.get(_DRY_RUN_KEY, 0) + 1
    try:
        yield
    finally:
        session.info[_DRY_RUN_KEY] -= 1


def in_dry_run(session: Session) -> bool:
    return bool(session.info.get(_DRY_RUN_KEY))


def queued(session: Session) -> list[Message]:
    """Messages written in the session's current transaction and not rolled back (those to
    be rendered at delivery rendered now, from the session's own view of the data; those
    that would then have nothing to send left out)."""
    messages = []
    for row in session.info.get(_TRACK_KEY, []):
        if row not in session:
            continue
        try:
            messages.append(_as_message(row, session))
        except NothingToSend:
            continue
    return messages


def install(app: Flask, session_factory: Any) -> None:
    """Deliver what a commit wrote to the outbox right after it, where so configured."""
    if not event.contains(session_factory, "after_commit", _after_commit):
        event.listen(session_factory, "after_commit", _after_commit)
        event.listen(session_factory, "after_soft_rollback", _after_soft_rollback)
        event.listen(session_factory, "after_transaction_end", _after_transaction_end)


def _after_soft_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_TRACK_KEY, None)


def _after_commit(session: Session) -> None:
    # Releasing a savepoint counts as a commit too; only the outermost commit is final.
    if session.get_nested_transaction() is not None:
        return
    rows = session.info.pop(_TRACK_KEY, [])
    # The rows are expired by the commit: read their keys without loading them again,
    # which would open a new transaction (and on SQLite take the write lock) in this session.
    ids = [key[0] for key in (inspect(row).identity for row in rows) if key is not None]
    if ids and current_app.config.get("MAIL_DELIVER_IN_REQUEST"):
        session.info[_DELIVER_KEY] = ids


def _after_transaction_end(session: Session, transaction: Any) -> None:
    # By now the session has given its connection back, so delivering (which needs one of
    # its own) cannot starve the pool when many requests commit at once.
    if transaction.parent is not None:
        return
    ids = session.info.pop(_DELIVER_KEY, None)
    if not ids:
        return
    try:
        deliver_pending(ids=ids)
    except Exception:
        # The change is committed and the mail is safe in the outbox: `flask send-mail`
        # will deliver it. A failure here must not turn the request into an error page.
        log.exception("could not deliver e-mail right after the commit")


# ---------------------------------------------------------------------------------------------
# Delivering


#: What became of a message in a run of delivery: the :class:`DeliveryReport` count it adds to.
Outcome = Literal["sent", "retrying", "failed", "skipped", "lost"]


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    #: Finished without sending: there was nothing to send (:class:`NothingToSend`).
    skipped: int = 0
    #: Given up to another run, which had taken the message over from this one.
    lost: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self) -> str:
        summary = (
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
            f"{self.skipped} with nothing to send"
        )
        if self.lost:
            summary += f", {self.lost} left to another run"
        return summary


def deliver_pending(
    *, ids: Iterable[int] | None = None, limit: int = 500, now: datetime | None = None
) -> DeliveryReport:
    """Deliver the outbox messages that are due (at ``now``; by default at the moment each
    is claimed), or those of ``ids`` that are, each at most once.

    Each message is claimed on its own, in a short transaction, by the first run to reach it
    (on PostgreSQL a message that another run is claiming is passed over, not waited for).
    The claim runs from the moment it is taken and the run renews it while it works on the
    message, however long the SMTP server takes, so that another run takes a message over only
    from a run that has died; a run that has lost a message (it stalled longer than its claim)
    neither sends it nor records over the other run's outcome (:mod:`.outbox_claims`).

    A message the server refuses for good, or that has failed ``MAX_ATTEMPTS`` times, is
    marked failed; any other failure is retried later with back-off; a message whose renderer
    finds nothing to send is marked skipped. Each message's outcome is committed on its own.
    The messages go over one SMTP connection, opened again after a message fails.
    """
    from ..extensions import db

    report = DeliveryReport()
    with (
        db.engine.connect() as connection,
        SmtpConnection(current_app.config) as smtp,
        outbox_claims.ClaimKeeper(db.engine) as keeper,
    ):
        for claim in OUTBOX.claims_in_turn(connection, keeper, limit=limit, due_at=now, ids=ids):
            report.add(_deliver_claimed(connection, smtp, claim))
    return report


def _deliver_claimed(
    connection: Connection, smtp: SmtpConnection, claim: outbox_claims.Claim
) -> Outcome:
    """Write (if need be), send and record one claimed message."""
    row = claim.row
    try:
        message, written_now = _written(connection, row)
    except NothingToSend as reason:
        return _record(connection, claim, OutboxStatus.SKIPPED, str(reason), "skipped")
    except Exception as error:
        # A message that cannot be written now never will be: say so and go on.
        log.exception("e-mail %s to %s could not be rendered", claim.id, row.recipient)
        return _record(connection, claim, OutboxStatus.FAILED, repr(error), "failed")
    # The message leaves only under a claim that is still this run's: one that stalled
    # past its claim may have lost the message to another run, which sends it.
    kept = _written_columns(message) if written_now else {}
    if not outbox_claims.renew(connection, claim, **kept):
        log.warning("e-mail %s: another run has taken it over; not sent here", claim.id)
        return "lost"
    try:
        deliver(message, smtp)
    except PermanentFailure as error:
        return _record(connection, claim, OutboxStatus.FAILED, str(error), "failed")
    except Exception as error:
        attempts = row.attempts
        log.warning(
            "e-mail %s to %s not delivered (attempt %s): %s",
            claim.id,
            row.recipient,
            attempts,
            error,
        )
        if attempts >= MAX_ATTEMPTS:
            return _record(connection, claim, OutboxStatus.FAILED, repr(error), "failed")
        delay = timedelta(minutes=BACKOFF_MINUTES[attempts - 1])
        return _record(
            connection,
            claim,
            OutboxStatus.PENDING,
            repr(error),
            "retrying",
            next_attempt_at=utcnow() + delay,
        )
    return _record(connection, claim, OutboxStatus.SENT, None, "sent", sent_at=utcnow())


def _written(connection: Connection, row: Any) -> tuple[Message, bool]:
    """The claimed message, and whether it was written just now (queued to be rendered at
    delivery, and not yet rendered). Its text is then kept on its row when it is sent, so
    that a retry sends the same message and the outbox shows what was sent."""
    if row.text is not None or row.renderer is None:
        return _as_message(row), False
    # Read through the delivering connection, not one more from the pool: many requests
    # delivering at once would each hold one and wait for another. The session's reads end
    # (roll back) when it closes.
    with Session(bind=connection) as session:
        message = _render(session, row)
    return message, True


def _written_columns(message: Message) -> dict[str, Any]:
    return {
        "subject": message.subject[:300],
        "text": message.text,
        "html": message.html,
        "attachments": _attachments_json(message.attachments),
    }


def _render(session: Session, row: Any) -> Message:
    context = dict(row.context or {})
    with force_locale(context.pop(_LOCALE_KEY, None) or "en"):
        message = _renderers[row.renderer](session, row.subject, context)
    message.to = row.recipient
    return message


def _record(
    connection: Connection,
    claim: outbox_claims.Claim,
    status: OutboxStatus,
    error: str | None,
    outcome: Outcome,
    **values: Any,
) -> Outcome:
    """Record the outcome of a claimed message: ``outcome``, or ``"lost"`` when another run
    had taken the message over."""
    if outbox_claims.finish(connection, claim, status, error, **values):
        return outcome
    log.warning(
        "e-mail %s: another run took it over before its outcome (%s) was recorded",
        claim.id,
        status.value,
    )
    return "lost"


def _as_message(row: Any, session: Session | None = None) -> Message:
    if row.text is None and row.renderer is not None and session is not None:
        return _render(session, row)
    return Message(
        to=row.recipient,
        subject=row.subject,
        text=row.text,
        html=row.html,
        attachments=[
            Attachment(
                filename=a["filename"],
                content=base64.b64decode(a["content"]),
                maintype=a["maintype"],
                subtype=a["subtype"],
            )
            for a in (row.attachments or [])
        ],
    )


def build_email(message: Message, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].rstrip(">"))
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        email.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    return email


class SmtpConnection:
    """One SMTP connection for a run of messages, opened at the first message that needs it.

    After a failure other than a refused recipient the connection is closed, and the next
    message opens a new one: the server's state is then unknown. Use it as a context manager,
    which closes it at the end.
    """

    def __init__(self, config: Any) -> None:
        self._config = config
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _open(self) -> smtplib.SMTP:
        config = self._config
        port = int(config["MAIL_PORT"])
        timeout = config["MAIL_TIMEOUT"]
        smtp: smtplib.SMTP
        if config["MAIL_USE_SSL"]:
            smtp = smtplib.SMTP_SSL(
                config["MAIL_SERVER"], port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(config["MAIL_SERVER"], port, timeout=timeout)
        try:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, email: EmailMessage) -> None:
        """Send one message. Raises :class:`PermanentFailure` when the server refuses it for
        good, and any other exception for a failure worth retrying."""
        if self._smtp is None:
            self._smtp = self._open()
        try:
            self._smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            # The server answered and reset the transaction: the connection stays usable.
            codes = [code for code, _text in error.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentFailure(f"recipient refused: {error.recipients}") from error
            raise
        except smtplib.SMTPResponseException as error:
            self.close()
            if 500 <= error.smtp_code < 600:
                raise PermanentFailure(f"{error.smtp_code} {error.smtp_error!r}") from error
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def deliver(message: Message, connection: SmtpConnection | None = None) -> None:
    """Send one message now, through SMTP when configured (over ``connection`` when given,
    else a connection of its own), else to the log.

    Raises :class:`PermanentFailure` when the server refuses it for good, and any other
    exception for a failure worth retrying.
    """
    config = current_app.config
    email = build_email(message, config["MAIL_DEFAULT_SENDER"])
    if not config.get("MAIL_SERVER"):
        log.info("e-mail (no MAIL_SERVER set, not sent):\n%s", email.as_string())
    elif connection is not None:
        connection.send(email)
    else:
        with SmtpConnection(config) as own:
            own.send(email)
    # Flask types current_app as the application itself, though it is a proxy to it.
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    message_sent.send(app, message=message)
