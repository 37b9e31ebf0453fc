"""``flask`` commands, thin over the services. Each change a command makes is one unit of work
(:func:`unit_of_work`): committed once, or rolled back with the refusal as the command's error.

The commands that write e-mail outside a request (``send-mail``, ``send-reminders``) build its
links from the portal's configured address (:meth:`skillsup.links.PortalLinks.for_server`),
and in production refuse to start without it.

The seeding commands (``seed-demo``, ``seed-bench``) import :mod:`skillsup.devdata` only when
they run, so that the portal itself never loads it.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .extensions import db
from .links import PortalLinks, ServerNameMissing
from .services.errors import DomainError


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Run a command's change as one unit: commit once when the block ends (the outbox then
    delivers the e-mail it queued, where so configured). A service's refusal rolls everything
    back and ends the command with its message and exit status 1; any other error rolls back
    and propagates."""
    try:
        yield
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(enrol_command)
    app.cli.add_command(send_mail_command)
    app.cli.add_command(send_webhooks_command)
    app.cli.add_command(send_reminders_command)
    app.cli.add_command(seed_bench_command)


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo data (safe to run again: existing records are kept)."""
    from .devdata.demo import seed_demo

    with unit_of_work():
        report = seed_demo()
    click.echo(report.summary())


@click.command("seed-bench")
@click.option(
    "--scale", type=float, default=1.0, show_default=True, help="1 = 20,000 employees and so on."
)
@click.option(
    "--seed", type=int, default=None, help="Random seed (default: a fixed one: every run alike)."
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the history is built around (default: today in Hong Kong).",
)
@click.option(
    "--reset",
    is_flag=True,
    help="Empty every table of a benchmark database first (all its data is lost).",
)
@click.option("--force", is_flag=True, help="Add the bench data beside the data already there.")
@with_appcontext
def seed_bench_command(
    scale: float, seed: int | None, today: datetime | None, reset: bool, force: bool
) -> None:
    """Load a large, realistic data set for benchmarks, in bulk."""
    from .devdata.bench import DEFAULT_SEED, analyse, seed_bench
    from .services import caching

    if reset and force:
        raise click.UsageError("Give --reset or --force, not both.")
    with unit_of_work():
        report = seed_bench(
            scale,
            seed=DEFAULT_SEED if seed is None else seed,
            today=today.date() if today else None,
            reset=reset,
            force=force,
        )
    # The bulk load writes past the unit of work and starts the ids again: nothing kept
    # in the cache from the data before may be served.
    caching.forget_everything()
    analyse()
    click.echo(report.summary())


@click.command("create-admin")
@click.option("--email", prompt=True, help="The admin's e-mail address.")
@click.option("--name", prompt=True, help="The admin's full name.")
def create_admin_command(email: str, name: str) -> None:
    """Create an institute admin account, asking for its password."""
    from .services import accounts

    if accounts.find_user_by_email(email) is not None:
        raise click.ClickException(f"{email} already has an account.")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat the password: "):
        raise click.ClickException("The passwords do not match.")
    with unit_of_work():
        user = accounts.create_admin(email, name, password)
    click.echo(f"Created admin {user.email}.")


@click.command("enrol")
@click.argument("learner_email")
@click.argument("class_code")
@click.option("--by", "admin_email", required=True, help="The admin on whose behalf to act.")
@click.option(
    "--reason",
    default=None,
    help="Why, when the class's last session has ended or the learner's company approves "
    "its staff's enrolments (kept in the enrolment's history).",
)
def enrol_command(
    learner_email: str, class_code: str, admin_email: str, reason: str | None
) -> None:
    """Enrol a learner in a class, under every rule of the enrolment service."""
    from .models import EnrolmentSource
    from .services.accounts import find_user_by_email
    from .services.enrolment import find_class_by_code
    from .services.enrolment_requests import describe, request_enrolment

    admin = find_user_by_email(admin_email)
    learner = find_user_by_email(learner_email)
    course_class = find_class_by_code(class_code)
    if admin is None or learner is None or course_class is None:
        missing = [
            name
            for name, found in (("admin", admin), ("learner", learner), ("class", course_class))
            if found is None
        ]
        raise click.ClickException(f"Not found: {', '.join(missing)}.")
    with unit_of_work():
        outcome = request_enrolment(
            admin, learner, course_class, EnrolmentSource.ADMIN, reason=reason
        )
        message = str(describe(outcome, for_self=False))
    click.echo(f"{learner.email}: {message}")


@click.command("send-mail")
@click.option("--limit", default=500, show_default=True, help="Most messages to send in one run.")
def send_mail_command(limit: int) -> None:
    """Deliver the e-mail waiting in the outbox (run it from cron or a worker every minute)."""
    from .services import mail

    # Messages queued to be written at delivery are written now, with links to the portal:
    # refuse before writing any with links that lead nowhere.
    _links_outside_request()
    report = mail.deliver_pending(limit=limit)
    click.echo(report.summary())


@click.command("send-webhooks")
@click.option(
    "--limit", default=500, show_default=True, help="Most webhook deliveries to send in one run."
)
def send_webhooks_command(limit: int) -> None:
    """Send the webhook events that are due to the partner companies' endpoints, retrying with
    back-off (run it from cron or a worker every minute, beside send-mail)."""
    from .services import webhook_delivery

    report = webhook_delivery.deliver_due(limit=limit)
    click.echo(report.summary())


@click.command("send-reminders")
def send_reminders_command() -> None:
    """Send the reminders that are due (safe to run every few minutes, even twice at once)."""
    from .services import funding_warnings, reminders

    links = _links_outside_request()
    report = reminders.ReminderReport()
    # First the subsidies that have recovered since they were warned of, so that a learner
    # who has fallen back since is warned again below.
    with unit_of_work():
        report.recovered = funding_warnings.clear_recovered()
    for reminder in reminders.due_reminders(links=links):
        # One unit per reminder: its claim and its e-mail are saved together.
        with unit_of_work():
            sent = reminders.claim_and_send(reminder)
        if sent:
            report.sent[reminder.kind] += 1
        else:
            report.skipped += 1
    click.echo(report.summary())


def _links_outside_request() -> PortalLinks:
    """The links for e-mail a command writes, to the portal's configured address. Raises a
    :class:`click.ClickException` naming the setting when production has none."""
    try:
        return PortalLinks.for_server(current_app)
    except ServerNameMissing as error:
        raise click.ClickException(str(error)) from error
