"""The HR approvals queue: the figures on each row, ticking every row, each request's outcome,
and rejecting only after a confirmation page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import Enrolment, EnrolmentStatus, EnrolmentStatusChange
from skillsup.services import approvals, enrolment_requests
from skillsup.services.approvals import Decision
from skillsup.services.enrolment import EnrolmentRefused
from skillsup.services.errors import NotFound, ValidationFailed

from .queries import page_queries


@pytest.fixture
def approval_company(make):
    return make.company(requires_approval=True, code="APPR", domains=["approve.test"])


@pytest.fixture
def officer(make, approval_company):
    return make.user(role="hr", company=approval_company)


def _pending(make, company, course_class=None, **fields: Any) -> Enrolment:
    course_class = course_class or make.course_class(sessions=1)
    return make.enrolment(
        course_class, make.user(company=company, **fields), EnrolmentStatus.PENDING
    )


def _ticked(body: str) -> set[int]:
    return {
        int(match)
        for match in re.findall(r'name="enrolment_ids" value="(\d+)"[^>]*\bchecked\b', body)
    }


def _status(enrolment: Enrolment) -> EnrolmentStatus:
    return db.session.scalar(select(Enrolment.status).where(Enrolment.id == enrolment.id))


def _history_count(enrolment: Enrolment) -> int:
    return db.session.scalar(
        select(func.count(EnrolmentStatusChange.id)).where(
            EnrolmentStatusChange.enrolment_id == enrolment.id
        )
    )


# The page --------------------------------------------------------------------------------


def test_each_row_shows_dates_seats_left_quota_left_and_fee(
    client, make, login_as, approval_company, officer
):
    course = make.course(fee=Decimal("5200"))
    course_class = make.course_class(course=course, capacity=3, sessions=2)
    make.enrolment(course_class, make.user(company=approval_company))  # takes a seat
    pending = _pending(make, approval_company, course_class)
    make.quota(
        approval_company,
        seats=10,
        starts_on=course_class.starts_on - timedelta(days=60),
        ends_on=course_class.starts_on + timedelta(days=60),
        label="Term 2",
    )
    login_as(officer)
    body = client.get("/hr/approvals").get_data(as_text=True)
    row = body[body.index(f'value="{pending.id}"') :].split("</tr>")[0]
    assert pending.learner.name in row
    assert course_class.code in row
    assert '<td data-label="Seats left">2</td>' in row  # 3 less the confirmed one
    # The confirmed place and the pending request both count: 8 of 10 left.
    assert "8 of 10" in row and "Term 2" in row
    assert "HK$5,200.00" in row
    assert "Seats left" in body and "Quota left" in body and "Fee" in body


def test_a_full_class_says_that_approving_waitlists(
    client, make, login_as, approval_company, officer
):
    full = make.course_class(capacity=0, sessions=1)
    _pending(make, approval_company, full)
    login_as(officer)
    body = client.get("/hr/approvals").get_data(as_text=True)
    assert "Full: approving waitlists" in body
    assert "No quota" in body


def test_the_page_runs_the_same_number_of_queries_whatever_the_number_of_rows(
    client, make, login_as, approval_company, officer
):
    def add_request() -> None:
        course_class = make.course_class(course=make.course(), sessions=1)
        make.quota(
            approval_company,
            seats=5,
            starts_on=course_class.starts_on,
            ends_on=course_class.starts_on,
            course_id=course_class.course_id,
            label=f"Quota {course_class.code}",
        )
        _pending(make, approval_company, course_class)

    add_request()
    login_as(officer)
    client.get("/hr/approvals")  # the first visit warms caches
    response, one_row = page_queries(client, "/hr/approvals")
    assert response.status_code == 200
    for _ in range(6):
        add_request()
    response, seven_rows = page_queries(client, "/hr/approvals")
    assert response.get_data(as_text=True).count('name="enrolment_ids"') == 7
    assert len(seven_rows) == len(one_row), seven_rows


def test_the_quota_shown_is_the_one_with_fewest_seats_left(make, app, approval_company, officer):
    course_class = make.course_class(sessions=1)
    pending = _pending(make, approval_company, course_class)
    period = {"starts_on": date(2000, 1, 1), "ends_on": date(2100, 1, 1)}
    make.quota(approval_company, seats=50, label="Company-wide", **period)
    make.quota(
        approval_company, seats=3, label="This course", course_id=course_class.course_id, **period
    )
    with app.test_request_context():
        (row,) = approvals.approval_queue(officer)
    assert row.enrolment.id == pending.id
    assert row.quota is not None and row.quota.quota.label == "This course"
    assert row.quota.left == 2


# Ticking every row -------------------------------------------------------------------------


def test_select_all_ticks_every_row_without_javascript_and_clear_unticks(
    client, make, login_as, approval_company, officer
):
    requests = [_pending(make, approval_company) for _ in range(3)]
    login_as(officer)
    body = client.post("/hr/approvals", data={"decision": "select_all"}).get_data(as_text=True)
    assert _ticked(body) == {r.id for r in requests}
    assert all(_status(r) == EnrolmentStatus.PENDING for r in requests)
    body = client.post(
        "/hr/approvals",
        data={"decision": "select_none", "enrolment_ids": [requests[0].id]},
    ).get_data(as_text=True)
    assert _ticked(body) == set()


def test_an_error_keeps_the_ticked_rows_ticked(client, make, login_as, approval_company, officer):
    a, b, c = (_pending(make, approval_company) for _ in range(3))
    login_as(officer)
    # No button's decision (a form posted by other means): shown again, the ticks kept.
    response = client.post("/hr/approvals", data={"enrolment_ids": [a.id, c.id]})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Choose what to do with the ticked requests." in body
    assert _ticked(body) == {a.id, c.id}
    # A malformed id among good ones: the good ones stay ticked, nothing is decided.
    response = client.post(
        "/hr/approvals",
        data={"enrolment_ids": [str(b.id), "abc", "99999999999"], "decision": "approve"},
    )
    assert response.status_code == 400
    assert _ticked(response.get_data(as_text=True)) == {b.id}
    assert {_status(r) for r in (a, b, c)} == {EnrolmentStatus.PENDING}


def test_deciding_nothing_ticked_says_so(client, make, login_as, approval_company, officer):
    _pending(make, approval_company)
    login_as(officer)
    for decision in ("approve", "reject"):
        response = client.post("/hr/approvals", data={"decision": decision})
        assert response.status_code == 400
        assert "Choose at least one request." in response.get_data(as_text=True)


# Approving ---------------------------------------------------------------------------------


def test_approving_into_a_full_class_says_each_learner_went_onto_the_waitlist(
    client, make, login_as, approval_company, officer, outbox
):
    course_class = make.course_class(capacity=1, sessions=1)
    make.enrolment(course_class, make.user(company=approval_company), EnrolmentStatus.WAITLISTED)
    first = _pending(make, approval_company, course_class)
    second = _pending(make, approval_company, course_class)
    login_as(officer)
    response = client.post(
        "/hr/approvals", data={"enrolment_ids": [second.id, first.id], "decision": "approve"}
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "1 request approved and confirmed" in body
    assert "1 request approved onto the waitlist (the class is full)" in body
    outcomes = body[body.index("What happened to each request") :].split("</table>")[0]
    # Oldest request first: it got the seat; the other is second in line.
    assert re.search(rf"{first.learner.name}</th>.*?Approved: confirmed", outcomes, re.S)
    assert re.search(
        rf"{second.learner.name}</th>.*?the class is full: 2nd on the waitlist", outcomes, re.S
    )
    assert _status(first) == EnrolmentStatus.CONFIRMED
    assert _status(second) == EnrolmentStatus.WAITLISTED
    assert {m.to for m in outbox} == {first.learner.email, second.learner.email}
    assert _ticked(body) == set()


def test_a_refused_request_is_left_untouched_and_the_others_are_approved(
    client, make, login_as, approval_company, officer, outbox
):
    good = _pending(make, approval_company)
    blocked = _pending(make, approval_company, is_active=False)
    login_as(officer)
    response = client.post(
        "/hr/approvals", data={"enrolment_ids": [good.id, blocked.id], "decision": "approve"}
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "1 request approved and confirmed; 1 request refused and left unchanged." in body
    assert "flash-warning" in body
    assert re.search(
        rf"{blocked.learner.name}</th>.*?Not changed:.*?it or its company is inactive",
        body,
        re.S,
    )
    assert _status(good) == EnrolmentStatus.CONFIRMED
    assert _status(blocked) == EnrolmentStatus.PENDING
    assert _history_count(blocked) == 0
    assert [m.to for m in outbox] == [good.learner.email]
    # The refused request is still waiting, and still ticked for another decision.
    assert _ticked(body) == {blocked.id}


def test_a_request_decided_meanwhile_is_not_decided_again(make, app, approval_company, officer):
    course_class = make.course_class(capacity=5, sessions=1)
    already = make.enrolment(course_class, make.user(company=approval_company))
    waiting = _pending(make, approval_company, course_class)
    with app.test_request_context():
        outcomes = approvals.decide_requests(
            officer, [already.id, waiting.id], Decision.REJECT, "Not this term"
        )
        db.session.commit()
    by_id = {outcome.enrolment.id: outcome for outcome in outcomes}
    assert by_id[already.id].refused
    assert "no longer waiting for approval" in str(by_id[already.id].refusal)
    assert by_id[waiting.id].status == EnrolmentStatus.REJECTED
    # The confirmed place was not taken away by a rejection meant for a request.
    assert _status(already) == EnrolmentStatus.CONFIRMED


def test_the_service_refuses_no_ids_and_another_companys_request(
    make, app, approval_company, officer
):
    other = _pending(make, make.company(requires_approval=True))
    mine = _pending(make, approval_company)
    with app.test_request_context():
        with pytest.raises(ValidationFailed):
            approvals.decide_requests(officer, [], Decision.APPROVE)
        with pytest.raises(NotFound):
            approvals.decide_requests(officer, [mine.id, other.id], Decision.APPROVE)
        db.session.rollback()
    assert _status(mine) == EnrolmentStatus.PENDING
    assert _status(other) == EnrolmentStatus.PENDING


# Rejecting ---------------------------------------------------------------------------------


def test_rejecting_asks_for_confirmation_first_and_changes_nothing(
    client, make, login_as, approval_company, officer, outbox
):
    a, b = (_pending(make, approval_company) for _ in range(2))
    login_as(officer)
    response = client.post(
        "/hr/approvals", data={"enrolment_ids": [a.id, b.id], "decision": "reject"}
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Reject 2 requests?" in body
    assert "Each learner is told by e-mail, with your reason." in body
    assert a.learner.name in body and b.learner.name in body
    assert a.learner.email in body
    assert 'name="confirmed" type="hidden" value="yes"' in body
    assert body.count('type="hidden" name="enrolment_ids"') == 2
    assert 'href="/hr/approvals"' in body  # cancel
    assert {_status(a), _status(b)} == {EnrolmentStatus.PENDING}
    assert outbox == []


def test_confirming_a_rejection_without_a_reason_shows_the_page_again(
    client, make, login_as, approval_company, officer, outbox
):
    pending = _pending(make, approval_company)
    login_as(officer)
    response = client.post(
        "/hr/approvals",
        data={"enrolment_ids": [pending.id], "decision": "reject", "confirmed": "yes"},
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Give a reason for the rejection." in body
    assert "Reject 1 request?" in body
    assert f'name="enrolment_ids" value="{pending.id}"' in body
    assert _status(pending) == EnrolmentStatus.PENDING
    assert outbox == []


def test_a_reason_too_long_shows_the_confirmation_page_again(
    client, make, login_as, approval_company, officer
):
    pending = _pending(make, approval_company)
    login_as(officer)
    response = client.post(
        "/hr/approvals",
        data={
            "enrolment_ids": [pending.id],
            "decision": "reject",
            "confirmed": "yes",
            "reason": "x" * 501,
        },
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Reject 1 request?" in body
    assert "500 characters" in body
    assert _status(pending) == EnrolmentStatus.PENDING


def test_confirmed_rejection_rejects_and_tells_each_learner_with_the_reason(
    client, make, login_as, approval_company, officer, outbox
):
    a, b = (_pending(make, approval_company) for _ in range(2))
    keep = _pending(make, approval_company)
    login_as(officer)
    response = client.post(
        "/hr/approvals",
        data={
            "enrolment_ids": [a.id, b.id],
            "decision": "reject",
            "confirmed": "yes",
            "reason": "Not this term",
        },
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "2 requests rejected" in body
    assert body.count("Rejected: the learner has been told by e-mail.") == 2
    assert {_status(a), _status(b)} == {EnrolmentStatus.REJECTED}
    assert _status(keep) == EnrolmentStatus.PENDING
    assert keep.learner.name in body  # still in the queue below
    assert {m.to for m in outbox} == {a.learner.email, b.learner.email}
    assert all("Not this term" in m.text for m in outbox)


def test_another_companys_request_cannot_be_shown_for_rejection(
    client, make, login_as, officer, approval_company
):
    other = _pending(make, make.company(requires_approval=True))
    login_as(officer)
    response = client.post(
        "/hr/approvals", data={"enrolment_ids": [other.id], "decision": "reject"}
    )
    assert response.status_code == 404
    assert other.learner.name not in response.get_data(as_text=True)


def test_the_pages_are_in_chinese(client, make, login_as, approval_company, officer):
    pending = _pending(make, approval_company)
    login_as(officer)
    chinese = {"Accept-Language": "zh-HK"}
    body = client.get("/hr/approvals", headers=chinese).get_data(as_text=True)
    assert "Select all on this page" not in body and "Seats left" not in body
    body = client.post(
        "/hr/approvals",
        data={"enrolment_ids": [pending.id], "decision": "reject"},
        headers=chinese,
    ).get_data(as_text=True)
    assert "What rejecting does" not in body
    assert pending.learner.name in body


def test_a_request_past_its_class_is_refused_with_the_reason(
    client, make, login_as, approval_company, officer
):
    started = datetime.now(UTC) - timedelta(days=30)
    over = make.course_class(sessions=1, first_session=started)
    late = _pending(make, approval_company, over)
    login_as(officer)
    body = client.post(
        "/hr/approvals", data={"enrolment_ids": [late.id], "decision": "approve"}
    ).get_data(as_text=True)
    assert "1 request refused and left unchanged" in body
    assert _status(late) == EnrolmentStatus.PENDING


# One decision at a time (the API) ------------------------------------------------------------


def test_one_request_is_decided_as_the_page_decides_each(make, officer, approval_company, admin):
    pending = _pending(make, approval_company)
    outcome = approvals.decide_request(officer, pending, Decision.APPROVE)
    db.session.commit()
    assert outcome.status == EnrolmentStatus.CONFIRMED
    with pytest.raises(enrolment_requests.InvalidTransition) as refused:
        approvals.decide_request(officer, pending, Decision.APPROVE)
    db.session.rollback()
    assert str(refused.value.message) == (
        "This request is no longer waiting for approval: it has been decided."
    )
    # A confirmed place is not rejected from its seat.
    with pytest.raises(enrolment_requests.InvalidTransition):
        approvals.decide_request(officer, pending, Decision.REJECT, "Too late")
    db.session.rollback()
    assert _status(pending) == EnrolmentStatus.CONFIRMED
    # An admin decides any company's requests.
    other = _pending(make, make.company(requires_approval=True))
    approvals.decide_request(admin, other, Decision.REJECT, "Not this term")
    db.session.commit()
    assert _status(other) == EnrolmentStatus.REJECTED


def test_one_decision_on_another_companys_request_is_not_found(make, officer):
    theirs = _pending(make, make.company(requires_approval=True))
    with pytest.raises(NotFound):
        approvals.decide_request(officer, theirs, Decision.APPROVE)
    db.session.rollback()
    assert _status(theirs) == EnrolmentStatus.PENDING


def test_one_rejection_needs_a_reason(make, officer, approval_company):
    pending = _pending(make, approval_company)
    with pytest.raises(EnrolmentRefused) as refused:
        approvals.decide_request(officer, pending, Decision.REJECT, "  ")
    db.session.rollback()
    assert refused.value.field == "reason"
    assert _history_count(pending) == 0
