"""flask commands."""

from __future__ import annotations

from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import Enrolment, EnrolmentSource, EnrolmentStatus


def test_enrol_command_goes_through_the_enrolment_rules(app, make, admin, learner):
    course_class = make.course_class(capacity=1, sessions=1)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["enrol", learner.email, course_class.code, "--by", admin.email])
    assert result.exit_code == 0, result.output
    assert f"Confirmed in {course_class.code}." in result.output
    db.session.expire_all()
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.source == EnrolmentSource.ADMIN
    assert enrolment.status == EnrolmentStatus.CONFIRMED

    again = runner.invoke(args=["enrol", learner.email, course_class.code, "--by", admin.email])
    assert again.exit_code == 1
    assert "already have a place" in again.output


def test_enrol_command_reports_unknown_names(app, admin):
    result = app.test_cli_runner().invoke(
        args=["enrol", "nobody@nowhere.test", "NO-CLASS", "--by", admin.email]
    )
    assert result.exit_code == 1
    assert "Not found: learner, class." in result.output


def test_enrol_command_refuses_a_non_admin(app, make, learner, hr_officer):
    course_class = make.course_class(sessions=1)
    result = app.test_cli_runner().invoke(
        args=["enrol", learner.email, course_class.code, "--by", hr_officer.email]
    )
    assert result.exit_code == 1
    assert db.session.scalar(select(Enrolment)) is None
