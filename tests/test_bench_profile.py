"""The benchmark's profiler (bench/profile.py): each page's CPU per request in process, and a
profile of one page, through the test client against the test database."""

from __future__ import annotations

import pytest
from flask import Flask

from bench import profile
from bench.scenarios import Actor, Plan, Scenario
from skillsup.extensions import db


@pytest.fixture
def plan(make) -> Plan:
    course = make.course(code="SU-PRF-101")
    make.course_class(course=course, sessions=2)
    learner_id = make.user().id
    # The profiler's requests run in contexts of their own, as a server's would: this one
    # holds no transaction open while they write.
    db.session.commit()
    db.session.close()
    return Plan(
        actors={"anonymous": Actor("anonymous"), "learner": Actor("learner", learner_id)},
        scenarios=[
            Scenario("catalogue", "Catalogue", "/courses", "anonymous"),
            Scenario("course", "Course page", "/courses/SU-PRF-101", "learner"),
            Scenario("export", "An export", "/hr/reports/enrolments.csv", "anonymous", "export"),
        ],
    )


def test_every_page_but_the_exports_gets_its_median_cpu(app: Flask, plan: Plan) -> None:
    medians = profile.cpu_per_request(app, plan, repeat=3, keys=[])
    assert set(medians) == {"catalogue", "course"}
    assert all(value > 0 for value in medians.values())
    assert set(profile.cpu_per_request(app, plan, repeat=1, keys=["course"])) == {"course"}


def test_a_page_that_does_not_answer_200_stops_the_measure(app: Flask, plan: Plan) -> None:
    plan.scenarios.append(Scenario("missing", "Missing", "/courses/SU-NOT-THERE", "anonymous"))
    with pytest.raises(RuntimeError, match="missing: /courses/SU-NOT-THERE answered 404"):
        profile.cpu_per_request(app, plan, repeat=1, keys=["missing"])


def test_the_calls_of_one_request_hardly_move_between_runs(app: Flask, plan: Plan) -> None:
    first = profile.calls_per_request(app, plan, keys=[])
    assert set(first) == {"catalogue", "course"}
    # A page does some hundreds of calls at least; the course page, signed in, more.
    assert all(count > 500 for count in first.values())
    again = profile.calls_per_request(app, plan, keys=[])
    # Only the odd bookkeeping differs (a session's last activity, written once a minute).
    assert all(abs(again[key] - first[key]) <= first[key] // 100 for key in first)
    assert set(profile.calls_per_request(app, plan, keys=["course"])) == {"course"}


def test_counting_calls_stops_at_a_page_that_does_not_answer_200(app: Flask, plan: Plan) -> None:
    plan.scenarios.append(Scenario("missing", "Missing", "/courses/SU-NOT-THERE", "anonymous"))
    with pytest.raises(RuntimeError, match="missing: /courses/SU-NOT-THERE answered 404"):
        profile.calls_per_request(app, plan, keys=["missing"])


def test_the_profile_names_the_pages_own_functions(app: Flask, plan: Plan) -> None:
    summary = profile.profile_page(app, plan, "course", repeat=2, top=200)
    assert "Ordered by: cumulative time" in summary
    assert "Ordered by: internal time" in summary
    assert "course_detail" in summary


def test_the_statements_of_one_request_are_listed_in_order(app: Flask, plan: Plan) -> None:
    statements = profile.page_statements(app, plan, "course")
    # The signed-in reader's session first (after SQLite's BEGIN), then the course by code.
    reads = [s for s in statements if s.startswith("SELECT")]
    assert reads[0].startswith("SELECT user_sessions.id")
    assert any("FROM courses WHERE courses.code =" in s for s in statements)
    assert all("\n" not in s for s in statements)
    # A second look lists the same statements: nothing is left listening in between.
    assert profile.page_statements(app, plan, "course") == statements
