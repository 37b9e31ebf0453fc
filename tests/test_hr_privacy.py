"""Privacy between partner companies when a person moves from one to another.

Amy works for company A: A's HR officer deactivates her (with a reason) and reactivates her,
and she enrols in a class there. An admin moves her to company B, whose HR officer later
deactivates her with a reason of their own. Each company's HR sees only what happened while
she was theirs (``skillsup.services.hr_scope``): on her page at B no event of her time at A,
and in each company's part of the audit log only its own part of her history; the move itself
(which holds both companies' details) is the admins' alone. Each test runs on SQLite and,
where configured, PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from skillsup.extensions import db
from skillsup.models import AuditEntry, EnrolmentStatus, User
from skillsup.services import audit_log, employee_records, staff
from skillsup.services.audit_log import AuditFilters

from .test_company_moves import client_of
from .test_people_service import change

A_REASON = "On secondment to the Harbour data centre"
B_REASON = "Left Kowloon Data in March"


@dataclass
class Mover:
    company_a: Any
    company_b: Any
    hr_a: User
    hr_b: User
    admin: User
    amy: User
    #: Her enrolment made at A, and the one made at B after the move.
    at_a: Any
    at_b: Any


def entries(**conditions: Any) -> list[AuditEntry]:
    statement = db.select(AuditEntry).filter_by(**conditions).order_by(AuditEntry.id)
    return list(db.session.scalars(statement))


@pytest.fixture
def mover(make: Any, admin: User, app: Flask) -> Mover:
    company_a = make.company(name="Harbour IT", code="HBIT", domains=["harbour-it.test"])
    company_b = make.company(name="Kowloon Data", code="KLD", domains=["kowloon.test"])
    hr_a = make.user("hr", company=company_a, email="hr@harbour-it.test", name="Helen Ho")
    hr_b = make.user("hr", company=company_b, email="hr@kowloon.test", name="Kit Kwok")
    amy = make.user(
        company=company_a, email="amy@harbour-it.test", name="Amy Chan", staff_number="A-001"
    )
    at_a = make.enrolment(make.course_class(code="CLD-A"), amy, EnrolmentStatus.COMPLETED)
    db.session.commit()
    with app.test_request_context("/"):
        staff.deactivate_employee(hr_a, amy, A_REASON)
        db.session.commit()
        staff.reactivate_employee(hr_a, amy, "Back from the secondment")
        db.session.commit()
    change(admin, amy, company=company_b, email="amy@kowloon.test", staff_number="K-777")
    amy = db.session.get(User, amy.id)
    assert amy is not None and amy.company_id == company_b.id
    at_b = make.enrolment(make.course_class(code="DAT-B"), amy, EnrolmentStatus.COMPLETED)
    db.session.commit()
    with app.test_request_context("/"):
        staff.deactivate_employee(hr_b, amy, B_REASON)
        db.session.commit()
    return Mover(company_a, company_b, hr_a, hr_b, admin, amy, at_a, at_b)


@pytest.fixture
def in_request(app: Flask) -> Iterator[None]:
    with app.test_request_context("/"):
        yield


def reasons(history: list[AuditEntry]) -> list[str]:
    return [entry.details.get("reason", "") for entry in history]


def test_each_entry_about_a_person_records_the_company_they_were_at(mover):
    about_amy = entries(object_type="users", object_id=mover.amy.id)
    by_action = [(entry.action, entry.company_id) for entry in about_amy]
    a, b = mover.company_a.id, mover.company_b.id
    assert ("account.deactivated", a) in by_action and ("account.reactivated", a) in by_action
    assert ("account.deactivated", b) in by_action
    # The move holds both companies' details: it is neither's.
    assert [c for action, c in by_action if action == "account.changed"] == [None]


def test_the_new_company_sees_none_of_the_account_history_from_the_old(mover, in_request):
    history = employee_records.employee_record(mover.hr_b, mover.amy).account_history
    assert [entry.action for entry in history] == ["account.deactivated"]
    assert reasons(history) == [B_REASON]
    assert all(entry.company_id == mover.company_b.id for entry in history)


def test_the_staff_page_of_the_new_company_leaves_out_the_old_companys_reasons(app, mover):
    page = client_of(app, mover.hr_b).get(f"/hr/staff/{mover.amy.id}").get_data(as_text=True)
    assert B_REASON in page
    assert A_REASON not in page and "Back from the secondment" not in page


def ids(actor: User, **filters: Any) -> set[int]:
    return {e.id for e in db.session.scalars(audit_log.search(actor, AuditFilters(**filters)))}


def test_each_companys_audit_log_holds_its_own_part_of_the_persons_history(mover, in_request):
    about_amy = entries(object_type="users", object_id=mover.amy.id)
    at_a = {e.id for e in about_amy if e.company_id == mover.company_a.id}
    at_b = {e.id for e in about_amy if e.company_id == mover.company_b.id}
    move = {e.id for e in about_amy if e.action == "account.changed"}
    assert at_a and at_b and move
    part_a = ids(mover.hr_a, object_type="users", object_id=mover.amy.id)
    part_b = ids(mover.hr_b, object_type="users", object_id=mover.amy.id)
    assert part_a == at_a
    assert part_b == at_b
    # The admins read all of it.
    assert ids(mover.admin, object_type="users", object_id=mover.amy.id) == {
        e.id for e in about_amy
    }


def test_enrolment_entries_stay_with_the_company_the_enrolment_was_made_under(mover, in_request):
    for enrolment in (mover.at_a, mover.at_b):
        db.session.add(
            AuditEntry(
                action="enrolment.created",
                object_type="enrolments",
                object_id=enrolment.id,
                summary="",
            )
        )
    db.session.commit()
    made_at_a = {e.id for e in entries(object_type="enrolments", object_id=mover.at_a.id)}
    made_at_b = {e.id for e in entries(object_type="enrolments", object_id=mover.at_b.id)}
    part_a = ids(mover.hr_a, object_type="enrolments")
    part_b = ids(mover.hr_b, object_type="enrolments")
    assert made_at_a <= part_a and not made_at_a & part_b
    assert made_at_b <= part_b and not made_at_b & part_a


def test_the_new_companys_audit_page_and_download_leave_out_the_old_companys_reasons(app, mover):
    client = client_of(app, mover.hr_b)
    page = client.get(f"/hr/audit?object_type=users&object_id={mover.amy.id}")
    assert page.status_code == 200
    assert B_REASON in page.get_data(as_text=True)
    assert A_REASON not in page.get_data(as_text=True)
    download = client.get("/hr/audit.csv", buffered=True)
    assert download.status_code == 200
    text = download.get_data(as_text=True)
    assert B_REASON in text and A_REASON not in text and "HBIT" not in text
    # And the old company's HR still reads what happened while Amy was theirs, and no more.
    text = client_of(app, mover.hr_a).get("/hr/audit.csv", buffered=True).get_data(as_text=True)
    assert A_REASON in text and B_REASON not in text
