"""E-mail: queued during a transaction, delivered only after it commits.

Services call :func:`queue`; nothing leaves the portal until the session commits, and a
rollback discards what was queued. With ``MAIL_SERVER`` set, mail goes through SMTP;
without it, mail is written to the log (development).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from blinker import Namespace
from flask import Flask, current_app, render_template
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_signals = Namespace()
#: Sent after a message has been handed to the SMTP server or the log.
message_sent = _signals.signal("message-sent")

_QUEUE_KEY = "skillsup.mail_queue"


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


def render_message(to: str, subject: str, template: str, **context: Any) -> Message:
    """Render ``emails/<template>.txt`` and ``.html`` into a message."""
    text = render_template(f"emails/{template}.txt", subject=subject, **context)
    html = render_template(f"emails/{template}.html", subject=subject, **context)
    return Message(to=to, subject=subject, text=text, html=html)


def queue(session: Session, message: Message) -> None:
    """Queue ``message`` for delivery once ``session`` commits.

    The message remembers the (nested) transaction it was queued in, so that rolling back a
    savepoint also drops what was queued inside it.
    """
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_QUEUE_KEY, []).append((transaction, message))


def queued(session: Session) -> list[Message]:
    return [message for _transaction, message in session.info.get(_QUEUE_KEY, [])]


def _after_commit(session: Session) -> None:
    messages = [message for _transaction, message in session.info.pop(_QUEUE_KEY, [])]
    for message in messages:
        try:
            deliver(message)
        except Exception:
            # The change is committed; a mail failure must not turn it into an error page.
            log.exception("could not deliver e-mail %r to %s", message.subject, message.to)


def install(app: Flask, session_factory: Any) -> None:
    """Deliver queued mail after every commit of the application's sessions."""
    if not event.contains(session_factory, "after_commit", _after_commit):
        event.listen(session_factory, "after_commit", _after_commit)
        event.listen(session_factory, "after_soft_rollback", _after_rollback_soft)


def _after_rollback_soft(session: Session, previous_transaction: Any) -> None:
    """Drop the mail queued inside the transaction that was rolled back (or its savepoints)."""
    if previous_transaction.parent is None:
        session.info.pop(_QUEUE_KEY, None)
        return

    def inside(transaction: Any) -> bool:
        while transaction is not None:
            if transaction is previous_transaction:
                return True
            transaction = transaction.parent
        return False

    session.info[_QUEUE_KEY] = [
        (transaction, message)
        for transaction, message in session.info.get(_QUEUE_KEY, [])
        if not inside(transaction)
    ]


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


def deliver(message: Message) -> None:
    """Send one message now, through SMTP when configured, else to the log."""
    config = current_app.config
    email = build_email(message, config["MAIL_DEFAULT_SENDER"])
    server = config.get("MAIL_SERVER")
    if not server:
        log.info("e-mail (no MAIL_SERVER set, not sent):\n%s", email.as_string())
    else:
        port = int(config["MAIL_PORT"])
        timeout = config["MAIL_TIMEOUT"]
        smtp: smtplib.SMTP
        if config["MAIL_USE_SSL"]:
            smtp = smtplib.SMTP_SSL(
                server, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(server, port, timeout=timeout)
        with smtp:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(email)
    message_sent.send(current_app._get_current_object(), message=message)  # type: ignore[attr-defined]
