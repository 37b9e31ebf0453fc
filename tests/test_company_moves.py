"""A learner moved to another company: every HR figure, page, report and right follows the
company each enrolment was made under (``skillsup.services.hr_scope``).

Amy completes a class at company A, an admin moves her to company B (through the people
service), and she enrols in a class there. A's HR still counts and sees her completed
enrolment, and nothing of B's; B's HR sees her as their staff with B's enrolment only, and can
neither open nor withdraw A's. Each test runs on SQLite and, where configured, PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from skillsup import permissions
from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    Certificate,
    ClassStatus,
    Enrolment,
    EnrolmentStatus,
    User,
)
from skillsup.services import approvals, exports, hr_dashboard, nominations, staff, staff_progress
from skillsup.services.exports import ExportCriteria

from .conftest import login
from .factories import hk_datetime
from .test_people_service import change

YEAR_2025 = ExportCriteria(date(2025, 1, 1), date(2025, 12, 31))


@dataclass
class Move:
    company_a: Any
    company_b: Any
    hr_a: User
    hr_b: User
    amy: User
    #: Amy's completed enrolment, made while she worked for A (3 hours attended).
    at_a: Enrolment
    #: Amy's confirmed enrolment, made at B after the move.
    at_b: Enrolment
    #: A colleague of Amy's who stays at A, confirmed in the class Amy joins at B.
    ben: User
    class_a: Any
    class_b: Any


@pytest.fixture
def move(make: Any, admin: User) -> Move:
    company_a = make.company(name="Harbour IT", code="HBIT", domains=["harbour-it.test"])
    company_b = make.company(name="Kowloon Data", code="KLD", domains=["kowloon.test"])
    hr_a = make.user("hr", company=company_a, email="hr@harbour-it.test")
    hr_b = make.user("hr", company=company_b, email="hr@kowloon.test")
    amy = make.user(
        company=company_a,
        email="amy@harbour-it.test",
        name="Amy Chan",
        staff_number="A-001",
        department="Cloud team",
    )
    ben = make.user(
        company=company_a, email="ben@harbour-it.test", name="Ben Lee", staff_number="A-002"
    )
    course_a = make.course(code="SU-CLD-101", qf_credits=3)
    course_b = make.course(code="SU-DAT-201", qf_credits=5)
    class_a = make.course_class(
        course_a,
        code="CLD-2025-A",
        sessions=1,
        first_session=hk_datetime(2025, 3, 3, 19),
        status=ClassStatus.COMPLETED,
    )
    class_b = make.course_class(
        course_b,
        code="DAT-2025-B",
        sessions=2,
        first_session=hk_datetime(2025, 9, 1, 19),
        status=ClassStatus.RUNNING,
    )
    at_a = make.enrolment(class_a, amy, EnrolmentStatus.COMPLETED)
    db.session.add(
        Attendance(enrolment=at_a, session=class_a.sessions[0], status=AttendanceStatus.PRESENT)
    )
    db.session.add(
        Certificate(enrolment=at_a, serial_number="SU-2025-000001", verification_code="v" * 40)
    )
    db.session.commit()

    change(
        admin,
        amy,
        company=company_b,
        email="amy@kowloon.test",
        staff_number="K-777",
        department="Analytics",
    )
    amy = db.session.get(User, amy.id)
    assert amy is not None and amy.company_id == company_b.id
    at_b = make.enrolment(class_b, amy, EnrolmentStatus.CONFIRMED)
    make.enrolment(class_b, ben, EnrolmentStatus.CONFIRMED)
    assert (at_a.company_id, at_b.company_id) == (company_a.id, company_b.id)
    return Move(company_a, company_b, hr_a, hr_b, amy, at_a, at_b, ben, class_a, class_b)


@pytest.fixture
def in_request(app: Flask) -> Iterator[None]:
    with app.test_request_context("/"):
        yield


def client_of(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    response = login(client, user)
    assert response.status_code == 302
    return client


# Figures -----------------------------------------------------------------------------------


def test_dashboard_figures_count_each_enrolment_under_its_own_company(move, in_request):
    year = hr_dashboard.year_period(2025)
    a = hr_dashboard.company_dashboard(move.hr_a, year)
    assert (a.completions, a.qf_credits, a.training_hours) == (1, 3, 3.0)
    assert a.by_status[EnrolmentStatus.COMPLETED] == 1
    # Ben's place at A, not Amy's at B.
    assert a.by_status[EnrolmentStatus.CONFIRMED] == 1
    assert (a.enrolments, a.staff_in_training) == (2, 2)

    b = hr_dashboard.company_dashboard(move.hr_b, year)
    assert (b.completions, b.qf_credits, b.training_hours) == (0, 0, 0.0)
    assert b.by_status[EnrolmentStatus.COMPLETED] == 0
    assert b.by_status[EnrolmentStatus.CONFIRMED] == 1
    assert (b.enrolments, b.staff_in_training) == (1, 1)

    # The cached figures are keyed by the same enrolments.
    cached = hr_dashboard.company_dashboard(move.hr_b, year, max_age=60)
    assert (cached.completions, cached.enrolments) == (0, 1)


def test_each_company_reports_on_the_years_of_its_own_enrolments(make, move, in_request):
    late = make.course_class(code="CLD-2027", first_session=hk_datetime(2027, 6, 1, 19), sessions=1)
    make.enrolment(late, db.session.get(User, move.amy.id), EnrolmentStatus.CONFIRMED)
    assert "y2027" in {p.key for p in hr_dashboard.company_periods(move.hr_b)}
    assert "y2027" not in {p.key for p in hr_dashboard.company_periods(move.hr_a)}


def test_staff_progress_keeps_a_leaver_with_the_old_company_only(move, in_request):
    a = {row.name: row for row in staff_progress.staff_progress(move.hr_a)}
    amy_at_a = a["Amy Chan"]
    assert not amy_at_a.is_current
    assert (amy_at_a.enrolments, amy_at_a.completed, amy_at_a.active) == (1, 1, 0)
    assert (amy_at_a.qf_credits, amy_at_a.attended_hours) == (3, 3.0)
    # B's staff number, department, job title and account are not A's business.
    assert (amy_at_a.staff_number, amy_at_a.department, amy_at_a.is_active) == (None, None, None)
    assert a["Ben Lee"].is_current and a["Ben Lee"].active == 1

    b = {row.name: row for row in staff_progress.staff_progress(move.hr_b)}
    assert set(b) == {"Amy Chan"}
    amy_at_b = b["Amy Chan"]
    assert amy_at_b.is_current and amy_at_b.is_active
    assert (amy_at_b.enrolments, amy_at_b.completed, amy_at_b.active) == (1, 0, 1)
    assert (amy_at_b.qf_credits, amy_at_b.attended_hours) == (0, 0.0)
    assert (amy_at_b.staff_number, amy_at_b.department) == ("K-777", "Analytics")


def test_a_department_is_the_present_staffs(move, in_request):
    # Amy was in A's cloud team; she is in none of A's departments now, nor are her rows.
    assert staff.departments(move.hr_a) == []
    assert list(staff_progress.staff_progress(move.hr_a, department="Analytics")) == []
    rows = list(staff_progress.staff_progress(move.hr_b, department="Analytics"))
    assert [(row.name, row.completed, row.active) for row in rows] == [("Amy Chan", 0, 1)]
    export = exports.enrolments_export(
        move.hr_a, ExportCriteria(YEAR_2025.starts_on, YEAR_2025.ends_on, "Analytics")
    )
    assert list(export.rows) == []


def test_a_leaver_with_nothing_in_the_range_is_left_out(move, in_request):
    rows = staff_progress.staff_progress(
        move.hr_a, starts_on=date(2025, 6, 1), ends_on=date(2025, 12, 31)
    )
    assert [row.name for row in rows] == ["Ben Lee"]


# Reports -----------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def read_xlsx(data: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_enrolment_exports_hold_the_enrolments_made_under_the_company(app, move, file_format):
    query = "?starts_on=2025-01-01&ends_on=2025-12-31"
    read = read_csv if file_format == "csv" else read_xlsx
    by_company = {}
    for name, hr in (("a", move.hr_a), ("b", move.hr_b)):
        response = client_of(app, hr).get(
            f"/hr/reports/enrolments.{file_format}{query}", buffered=True
        )
        assert response.status_code == 200
        header, *rows = read(response.get_data())
        columns = [header.index(heading) for heading in ("Name", "Class code", "Status")]
        by_company[name] = (
            header,
            sorted([row[i] for i in columns] for row in rows),
            {row[header.index("Class code")]: row for row in rows},
        )
    header, rows, by_class = by_company["a"]
    assert rows == [["Amy Chan", "CLD-2025-A", "Completed"], ["Ben Lee", "DAT-2025-B", "Confirmed"]]
    amy = by_class["CLD-2025-A"]
    # Her staff number and department are B's now: blank in A's file.
    assert amy[header.index("Staff number")] in ("", None)
    assert amy[header.index("Department")] in ("", None)
    assert amy[header.index("Certificate")] == "SU-2025-000001"
    assert amy[header.index("QF credits earned")] in ("3", 3)

    header, rows, by_class = by_company["b"]
    assert rows == [["Amy Chan", "DAT-2025-B", "Confirmed"]]
    assert by_class["DAT-2025-B"][header.index("Staff number")] == "K-777"


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_progress_exports_count_each_enrolment_once_under_its_company(app, move, file_format):
    query = "?starts_on=2025-01-01&ends_on=2025-12-31"
    read = read_csv if file_format == "csv" else read_xlsx
    counts = {}
    for name, hr in (("a", move.hr_a), ("b", move.hr_b)):
        response = client_of(app, hr).get(
            f"/hr/reports/progress.{file_format}{query}", buffered=True
        )
        assert response.status_code == 200
        header, *rows = read(response.get_data())
        columns = [header.index(h) for h in ("Name", "Enrolments", "Completed", "Staff number")]
        counts[name] = sorted(
            ["" if row[i] is None else str(row[i]) for i in columns] for row in rows
        )
    assert counts["a"] == [["Amy Chan", "1", "1", ""], ["Ben Lee", "1", "0", "A-002"]]
    assert counts["b"] == [["Amy Chan", "1", "0", "K-777"]]


# Pages and rights --------------------------------------------------------------------------


def test_the_progress_page_marks_a_leaver(app, move):
    page = client_of(app, move.hr_a).get("/hr/progress").get_data(as_text=True)
    assert "Amy Chan" in page and "Left the company" in page
    page = client_of(app, move.hr_b).get("/hr/progress").get_data(as_text=True)
    assert "Amy Chan" in page and "Left the company" not in page


def test_staff_pages_show_only_the_enrolments_made_under_the_company(app, move, in_request):
    hr_a = client_of(app, move.hr_a)
    assert "Amy Chan" not in hr_a.get("/hr/staff").get_data(as_text=True)
    assert hr_a.get(f"/hr/staff/{move.amy.id}").status_code == 404

    hr_b = client_of(app, move.hr_b)
    page = hr_b.get(f"/hr/staff/{move.amy.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "DAT-2025-B" in text and "CLD-2025-A" not in text and "SU-2025-000001" not in text
    assert staff.enrolment_counts(move.hr_b, [move.amy.id])[move.amy.id] == staff.EnrolmentCounts(
        current=1, completed=0
    )


def test_class_pages_list_the_enrolments_made_under_the_company(app, move, in_request):
    rows = nominations.class_staff(move.hr_a, move.class_a)
    assert [(row.enrolment.id, row.is_current_staff) for row in rows] == [(move.at_a.id, False)]
    assert nominations.class_staff(move.hr_b, move.class_a) == []
    assert nominations.staff_counts_in_classes(move.hr_b, [move.class_b.id]) == {move.class_b.id: 1}
    assert nominations.staff_counts_in_classes(move.hr_a, [move.class_b.id]) == {move.class_b.id: 1}

    page = client_of(app, move.hr_a).get("/hr/classes/CLD-2025-A").get_data(as_text=True)
    assert "Amy Chan" in page and "Left the company" in page
    assert f"/hr/staff/{move.amy.id}" not in page
    page = client_of(app, move.hr_b).get("/hr/classes/CLD-2025-A").get_data(as_text=True)
    assert "Amy Chan" not in page


def test_the_new_company_cannot_act_on_the_old_companys_enrolment(app, move):
    at_a = db.session.get(Enrolment, move.at_a.id)
    at_b = db.session.get(Enrolment, move.at_b.id)
    assert permissions.can_decide_enrolment(move.hr_a, at_a)
    assert not permissions.can_decide_enrolment(move.hr_b, at_a)
    assert not permissions.can_decide_enrolment(move.hr_a, at_b)
    assert approvals.company_enrolment(move.company_b.id, at_a.id) is None
    assert approvals.company_enrolment(move.company_a.id, at_b.id) is None

    hr_b = client_of(app, move.hr_b)
    response = hr_b.post(f"/hr/enrolments/{at_a.id}/withdraw", data={"reason": "Left"})
    assert response.status_code == 404
    certificate = at_a.certificate
    assert certificate is not None
    assert hr_b.get(f"/certificates/{certificate.id}.pdf").status_code == 404

    # A's HR may not withdraw the enrolment Amy made at B either.
    hr_a = client_of(app, move.hr_a)
    response = hr_a.post(f"/hr/enrolments/{at_b.id}/withdraw", data={"reason": "Left"})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Enrolment, at_b.id).status == EnrolmentStatus.CONFIRMED
    assert db.session.get(Enrolment, at_a.id).status == EnrolmentStatus.COMPLETED


def test_the_old_company_still_downloads_the_certificate_it_paid_for(app, move):
    certificate = db.session.get(Enrolment, move.at_a.id).certificate
    assert permissions.can_download_certificate(move.hr_a, certificate)
    assert not permissions.can_download_certificate(move.hr_b, certificate)
    assert permissions.can_download_certificate(move.amy, certificate)


def test_requests_wait_in_the_queue_of_the_company_they_were_made_under(make, app, move):
    course_class = make.course_class(code="NET-2026")
    pending = make.enrolment(course_class, move.amy, EnrolmentStatus.PENDING)
    assert [e.id for e in approvals.pending_requests(move.company_b.id)] == [pending.id]
    assert approvals.pending_requests(move.company_a.id) == []
    assert "NET-2026" not in client_of(app, move.hr_a).get("/hr/approvals").get_data(as_text=True)
    assert "NET-2026" in client_of(app, move.hr_b).get("/hr/approvals").get_data(as_text=True)
