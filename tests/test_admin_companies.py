"""Programme administration of partner companies: the service rules, and the pages.

Service tests call ``skillsup.services.companies`` inside the ``app`` fixture's application
context and commit where a view would; view tests go through the client as a logged-in admin.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.links import PortalLinks
from skillsup.models import (
    AuditEntry,
    CompanyDomain,
    EnrolmentStatus,
    PartnerCompany,
    Role,
    SeatQuota,
    User,
)
from skillsup.services import companies, enrolment_requests, seat_quotas
from skillsup.services.companies import CompanyData, CompanyFilter
from skillsup.services.errors import NotFound, PermissionDenied, ValidationFailed
from skillsup.services.seat_quotas import QuotaData

from .queries import page_queries

#: Links for e-mail, as a view passes them to the services.
LINKS = PortalLinks()


@pytest.fixture(autouse=True)
def in_request(app: Any) -> Iterator[None]:
    """Run each test in a request, as the views call the services (messages are translated)."""
    with app.test_request_context("/"):
        yield


# Helpers ---------------------------------------------------------------------------------

T2_START, T2_END = date(2027, 1, 1), date(2027, 3, 31)
T3_START, T3_END = date(2027, 4, 1), date(2027, 6, 30)


def class_starting(make: Any, day: date, course: Any = None, **fields: Any) -> Any:
    """A class whose first session (11:00 Hong Kong time) is on ``day``."""
    return make.course_class(
        course, first_session=datetime(day.year, day.month, day.day, 3, tzinfo=UTC), **fields
    )


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def company_entries(company: PartnerCompany) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == "partner_companies",
                AuditEntry.object_id == company.id,
            )
            .order_by(AuditEntry.id)
        )
    )


def reload(company: PartnerCompany) -> PartnerCompany:
    db.session.expire_all()
    return db.session.get(PartnerCompany, company.id)


def company_data(**overrides: Any) -> CompanyData:
    values: dict[str, Any] = {
        "name": "Kowloon Data Systems",
        "code": "KDS",
        "domains": ["kds.test", "kowloon-data.example"],
        "requires_approval": True,
        "is_active": True,
    }
    values.update(overrides)
    return CompanyData(**values)


def quota_data(**overrides: Any) -> QuotaData:
    values: dict[str, Any] = {
        "label": "2026/27 Term 2",
        "starts_on": T2_START,
        "ends_on": T2_END,
        "seats": 10,
        "course_id": None,
    }
    values.update(overrides)
    return QuotaData(**values)


def company_form(**overrides: Any) -> dict[str, str]:
    """What the company form posts; ``None`` leaves a field out (an unticked checkbox)."""
    values: dict[str, Any] = {
        "name": "Kowloon Data Systems",
        "code": "kds",
        "domains": "kds.test\nKowloon-Data.example",
        "requires_approval": "y",
        "is_active": "y",
    }
    values.update(overrides)
    return {key: str(value) for key, value in values.items() if value is not None}


def edit_form(company: PartnerCompany, **overrides: Any) -> dict[str, str]:
    values: dict[str, Any] = {
        "name": company.name,
        "code": company.code,
        "domains": "\n".join(company.domain_names),
        "requires_approval": "y" if company.requires_approval else None,
        "is_active": "y" if company.is_active else None,
    }
    values.update(overrides)
    return company_form(**values)


def quota_form(**overrides: Any) -> dict[str, str]:
    values: dict[str, Any] = {
        "label": "2026/27 Term 2",
        "starts_on": T2_START.isoformat(),
        "ends_on": T2_END.isoformat(),
        "seats": "10",
        "course_id": "0",
    }
    values.update(overrides)
    return {f"quota-{key}": str(value) for key, value in values.items() if value is not None}


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def used_scene(make: Any, company: PartnerCompany) -> dict[str, Any]:
    """Enrolments of every status in a Term 2 class, and a few elsewhere.

    Of the company's enrolments, pending, confirmed, completed and not completed ones count;
    the other company's learner does not.
    """
    course_x = make.course(code="SU-CLD-101")
    course_y = make.course(code="SU-SEC-101")
    x1 = class_starting(make, date(2027, 1, 15), course_x)
    y1 = class_starting(make, date(2027, 2, 10), course_y)
    x2 = class_starting(make, date(2027, 5, 3), course_x)
    statuses = [
        EnrolmentStatus.CONFIRMED,
        EnrolmentStatus.PENDING,
        EnrolmentStatus.COMPLETED,
        EnrolmentStatus.NOT_COMPLETED,
        EnrolmentStatus.WAITLISTED,
        EnrolmentStatus.WITHDRAWN,
        EnrolmentStatus.REJECTED,
        EnrolmentStatus.CANCELLED,
    ]
    people = [make.user(role="learner", company=company) for _ in statuses]
    for person, status in zip(people, statuses, strict=True):
        make.enrolment(x1, person, status)
    make.enrolment(y1, people[0], EnrolmentStatus.CONFIRMED)
    make.enrolment(x2, people[1], EnrolmentStatus.CONFIRMED)
    other = make.user(role="learner", company=make.company(code="OTHER"))
    make.enrolment(x1, other, EnrolmentStatus.CONFIRMED)
    return {"course_x": course_x, "course_y": course_y, "x1": x1, "y1": y1, "x2": x2}


# Service: companies ----------------------------------------------------------------------


def test_create_company_normalises_and_records_it(admin):
    company = companies.create_company(
        admin,
        company_data(
            name="  Kowloon   Data Systems ",
            code=" kds2 ",
            domains=["KDS.test", "@kowloon-data.example", "kds.test", "Kowloon-Data.Example."],
        ),
    )
    db.session.commit()

    saved = reload(company)
    assert saved.name == "Kowloon Data Systems"
    assert saved.code == "KDS2"
    assert saved.domain_names == ["kds.test", "kowloon-data.example"]
    assert saved.requires_approval is True
    assert saved.is_active is True
    [entry] = company_entries(saved)
    assert entry.action == "company.created"
    assert entry.actor_id == admin.id
    assert entry.details["domains"] == "kds.test, kowloon-data.example"
    assert entry.details["code"] == "KDS2"


def test_a_company_may_have_no_domains(admin):
    company = companies.create_company(admin, company_data(domains=[]))
    db.session.commit()
    assert reload(company).domain_names == []


def test_split_domains_accepts_lines_commas_and_spaces():
    assert companies.split_domains(" a.test\r\nB.test, c.test;  @d.test\n\na.test ") == [
        "a.test",
        "b.test",
        "c.test",
        "d.test",
    ]
    assert companies.split_domains(None) == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "   "}, "name", "Enter the company's name."),
        ({"name": "N" * 201}, "name", "at most 200 characters"),
        ({"code": "A"}, "code", "2 to 20 capital letters and digits"),
        ({"code": "HB-IT"}, "code", "2 to 20 capital letters and digits"),
        ({"code": "A" * 21}, "code", "2 to 20 capital letters and digits"),
        ({"code": "港鐵"}, "code", "2 to 20 capital letters and digits"),
        ({"domains": ["not a domain"]}, "domains", "not valid domain names: not, a, domain."),
        ({"domains": ["localhost"]}, "domains", "localhost is not a valid domain name"),
        ({"domains": ["-bad.test"]}, "domains", "-bad.test is not a valid domain name"),
        ({"domains": ["a..test"]}, "domains", "a..test is not a valid domain name"),
        ({"domains": ["exa_mple.test"]}, "domains", "exa_mple.test"),
        ({"domains": ["10.0.0.1"]}, "domains", "10.0.0.1 is not a valid domain name"),
        ({"domains": ["name@kds.test"]}, "domains", "name@kds.test"),
        ({"domains": [f"{'a' * 64}.test"]}, "domains", "not a valid domain name"),
        ({"domains": ["ok.test", "bad-.test", "x"]}, "domains", "bad-.test, x"),
        ({"domains": ["Gmail.com"]}, "domains", "anyone can have an address there"),
        ({"domains": [f"d{n}.test" for n in range(51)]}, "domains", "at most 50"),
    ],
)
def test_create_refuses_bad_data_and_saves_nothing(admin, overrides, field, message):
    with pytest.raises(ValidationFailed) as refused:
        companies.create_company(admin, company_data(**overrides))
    db.session.rollback()

    assert refused.value.field == field
    assert message in str(refused.value.message)
    assert count(PartnerCompany) == 0
    assert count(CompanyDomain) == 0
    assert count(AuditEntry) == 0


def test_duplicate_code_and_name_are_refused_whatever_their_case(admin, company):
    with pytest.raises(ValidationFailed) as by_code:
        companies.create_company(admin, company_data(code="hbit"))
    assert by_code.value.field == "code"
    assert "HBIT" in str(by_code.value.message)

    with pytest.raises(ValidationFailed) as by_name:
        companies.create_company(admin, company_data(name="HARBOUR IT SERVICES"))
    assert by_name.value.field == "name"
    db.session.rollback()
    assert count(PartnerCompany) == 1


def test_a_domain_of_another_company_is_refused_naming_it(admin, company):
    with pytest.raises(ValidationFailed) as refused:
        companies.create_company(admin, company_data(domains=["kds.test", "Harbour-IT.test"]))
    db.session.rollback()

    assert refused.value.field == "domains"
    assert "harbour-it.test (Harbour IT Services)" in str(refused.value.message)
    assert count(PartnerCompany) == 1
    assert [d.domain for d in db.session.scalars(select(CompanyDomain))] == ["harbour-it.test"]


def test_the_unique_indexes_catch_what_the_checks_could_not_see(admin, company, monkeypatch):
    # As when another request saves the same code between the check and the insert.
    monkeypatch.setattr(companies, "_check_unused", lambda *args: None)
    monkeypatch.setattr(companies, "_check_domains_free", lambda *args: None)

    with pytest.raises(ValidationFailed) as by_code:
        companies.create_company(admin, company_data(code="HBIT"))
    assert by_code.value.field == "code"
    db.session.rollback()

    with pytest.raises(ValidationFailed) as by_domain:
        companies.create_company(admin, company_data(domains=["harbour-it.test"]))
    assert by_domain.value.field == "domains"
    db.session.rollback()
    assert count(PartnerCompany) == 1


def test_update_records_the_changed_fields_old_and_new(admin, company):
    changes = companies.update_company(
        admin,
        company,
        company_data(
            name="Harbour IT",
            code="HIT",
            domains=["harbour-it.test", "harbour.example"],
            requires_approval=True,
        ),
    )
    db.session.commit()

    saved = reload(company)
    assert (saved.name, saved.code, saved.requires_approval) == ("Harbour IT", "HIT", True)
    assert saved.domain_names == ["harbour-it.test", "harbour.example"]
    assert set(changes) == {"name", "code", "domains", "requires_approval"}
    [entry] = company_entries(saved)
    assert entry.action == "company.updated"
    assert entry.details["name"] == "Harbour IT Services → Harbour IT"
    assert entry.details["code"] == "HBIT → HIT"
    assert entry.details["domains"] == "harbour-it.test → harbour-it.test, harbour.example"
    assert entry.details["requires_approval"] == "no → yes"


def test_update_replaces_domains_and_keeps_its_own(admin, make):
    company = make.company(code="KDS", domains=["a.test", "b.test"])
    kept_id = company.domains[0].id

    companies.update_company(
        admin,
        company,
        company_data(name=company.name, code="KDS", domains=["A.test", "c.test"]),
    )
    db.session.commit()

    saved = reload(company)
    assert saved.domain_names == ["a.test", "c.test"]
    assert saved.domains[0].id == kept_id
    assert count(CompanyDomain) == 2


def test_update_with_nothing_changed_records_nothing(admin, company):
    assert companies.update_company(admin, company, CompanyData.from_company(company)) == {}
    same = company_data(
        name=company.name, code="hbit", domains=["HARBOUR-IT.test"], requires_approval=False
    )
    assert companies.update_company(admin, company, same) == {}
    db.session.commit()
    assert company_entries(company) == []


def test_update_may_swap_nothing_with_another_company(admin, company, make):
    other = make.company(name="Other", code="OTH", domains=["other.test"])
    for overrides, field in [
        ({"code": "OTH"}, "code"),
        ({"name": "other"}, "name"),
        ({"domains": ["harbour-it.test", "other.test"]}, "domains"),
    ]:
        values = {**CompanyData.from_company(company).__dict__, **overrides}
        with pytest.raises(ValidationFailed) as refused:
            companies.update_company(admin, company, CompanyData(**values))
        assert refused.value.field == field
        db.session.rollback()
    assert reload(company).code == "HBIT"
    assert reload(other).domain_names == ["other.test"]
    assert company_entries(company) == []


def test_deactivating_a_company_is_recorded_and_stops_its_people_logging_in(
    admin, company, learner, hr_officer
):
    assert learner.can_log_in and hr_officer.can_log_in
    values = CompanyData.from_company(company)
    values.is_active = False

    changes = companies.update_company(admin, company, values)
    db.session.commit()

    assert changes == {"is_active": "yes → no"}
    saved = reload(company)
    assert saved.is_active is False
    assert not db.session.get(User, learner.id).can_log_in
    assert not db.session.get(User, hr_officer.id).can_log_in
    assert db.session.get(User, learner.id).is_active is True  # the account itself is kept
    [entry] = company_entries(saved)
    assert entry.action == "company.deactivated"

    values.is_active = True
    companies.update_company(admin, saved, values)
    db.session.commit()
    assert db.session.get(User, learner.id).can_log_in
    assert [e.action for e in company_entries(saved)] == [
        "company.deactivated",
        "company.reactivated",
    ]


def test_other_changes_and_deactivation_are_recorded_separately(admin, company):
    values = CompanyData.from_company(company)
    values.is_active = False
    values.name = "Harbour IT (closed)"
    companies.update_company(admin, company, values)
    db.session.commit()
    assert [e.action for e in company_entries(company)] == [
        "company.updated",
        "company.deactivated",
    ]


# Service: quotas -------------------------------------------------------------------------


def test_quota_usage_agrees_with_the_enrolment_rules(make, company):
    scene = used_scene(make, company)
    term = make.quota(company, 10, T2_START, T2_END, label="T2")
    term_x = make.quota(company, 5, T2_START, T2_END, label="T2 X", course=scene["course_x"])
    later = make.quota(company, 3, T3_START, T3_END, label="T3")
    empty = make.quota(company, 3, date(2028, 1, 1), date(2028, 3, 31), label="2028")

    uses = {use.quota.id: use for use in seat_quotas.quota_usage(company)}

    expected = {term.id: 5, term_x.id: 4, later.id: 1, empty.id: 0}
    assert {quota_id: use.used for quota_id, use in uses.items()} == expected
    for quota_id, used in expected.items():
        assert seat_quotas.seats_used(db.session.get(SeatQuota, quota_id)) == used
    for use in seat_quotas.quota_uses(company.id, scene["x1"]):
        assert uses[use.quota.id].used == use.used
    assert uses[term.id].left == 5
    assert uses[later.id].left == 2


def test_quota_usage_lists_the_latest_period_first_company_wide_before_per_course(make, company):
    course = make.course()
    make.quota(company, 1, T2_START, T2_END, label="T2 course", course=course)
    make.quota(company, 1, T2_START, T2_END, label="T2")
    make.quota(company, 1, T3_START, T3_END, label="T3")
    make.quota(make.company(), 1, T3_START, T3_END, label="not theirs")

    assert [use.quota.label for use in seat_quotas.quota_usage(company)] == [
        "T3",
        "T2",
        "T2 course",
    ]


def test_add_company_wide_and_per_course_quotas(admin, company, make):
    course = make.course(code="SU-CLD-101")

    term = seat_quotas.add_quota(admin, company, quota_data(label=" 2026/27  Term 2 "))
    per_course = seat_quotas.add_quota(
        admin, company, quota_data(label="Cloud, Term 2", seats=4, course_id=course.id)
    )
    db.session.commit()

    assert (term.label, term.seats, term.course_id) == ("2026/27 Term 2", 10, None)
    assert (per_course.course_id, per_course.seats) == (course.id, 4)
    entries = company_entries(company)
    assert [e.action for e in entries] == ["company.quota_added", "company.quota_added"]
    assert entries[0].details["course"] == "all courses"
    assert entries[1].details["course"] == "SU-CLD-101"
    assert entries[1].details["quota_id"] == per_course.id


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"label": "  "}, "label", "Name the period"),
        ({"label": "L" * 101}, "label", "at most 100 characters"),
        ({"starts_on": None}, "starts_on", "first day"),
        ({"ends_on": None}, "ends_on", "last day"),
        ({"ends_on": date(2026, 12, 31)}, "ends_on", "cannot end before it starts"),
        ({"seats": -1}, "seats", "from 0 to 100000"),
        ({"seats": 100_001}, "seats", "from 0 to 100000"),
        ({"seats": None}, "seats", "from 0 to 100000"),
        ({"seats": True}, "seats", "from 0 to 100000"),
        ({"course_id": 999_999}, "course_id", "Choose a course from the list."),
    ],
)
def test_add_quota_refuses_bad_data_and_saves_nothing(admin, company, overrides, field, message):
    with pytest.raises(ValidationFailed) as refused:
        seat_quotas.add_quota(admin, company, quota_data(**overrides))
    db.session.rollback()

    assert refused.value.field == field
    assert message in str(refused.value.message)
    assert count(SeatQuota) == 0
    assert company_entries(company) == []


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [
        (date(2027, 3, 31), date(2027, 6, 30)),  # shares the last day
        (date(2026, 9, 1), date(2027, 1, 1)),  # shares the first day
        (date(2027, 2, 1), date(2027, 2, 28)),  # inside
        (date(2026, 9, 1), date(2027, 9, 1)),  # around
    ],
)
def test_overlapping_periods_with_the_same_scope_are_refused(
    admin, company, make, starts_on, ends_on
):
    course = make.course()
    make.quota(company, 10, T2_START, T2_END, label="2026/27 Term 2")
    make.quota(company, 5, T2_START, T2_END, label="Course T2", course=course)

    for course_id in (None, course.id):
        with pytest.raises(ValidationFailed) as refused:
            seat_quotas.add_quota(
                admin,
                company,
                quota_data(label="New", starts_on=starts_on, ends_on=ends_on, course_id=course_id),
            )
        db.session.rollback()
        assert refused.value.field == "starts_on"
        assert "overlaps" in str(refused.value.message)
    assert count(SeatQuota) == 2


def test_overlap_message_names_the_other_quota_and_its_dates(admin, company):
    make_quota = seat_quotas.add_quota(admin, company, quota_data())
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        seat_quotas.add_quota(admin, company, quota_data(label="Again"))
    message = str(refused.value.message)
    assert make_quota.label in message
    assert "1 Jan 2027" in message
    assert "31 Mar 2027" in message


def test_adjacent_periods_other_scopes_and_other_companies_do_not_overlap(admin, company, make):
    course = make.course()
    other_course = make.course()
    make.quota(company, 10, T2_START, T2_END, label="T2")
    make.quota(company, 5, T2_START, T2_END, label="T2 course", course=course)
    make.quota(make.company(), 10, T3_START, T3_END, label="theirs")

    seat_quotas.add_quota(
        admin, company, quota_data(label="T3", starts_on=T3_START, ends_on=T3_END)
    )
    seat_quotas.add_quota(admin, company, quota_data(label="T2 other", course_id=other_course.id))
    seat_quotas.add_quota(
        admin,
        company,
        quota_data(label="T3 course", starts_on=T3_START, ends_on=T3_END, course_id=course.id),
    )
    db.session.commit()
    assert count(SeatQuota) == 6


def test_a_new_quota_cannot_give_fewer_seats_than_are_already_used(admin, company, make):
    used_scene(make, company)

    with pytest.raises(ValidationFailed) as refused:
        seat_quotas.add_quota(admin, company, quota_data(seats=4))
    db.session.rollback()
    assert refused.value.field == "seats"
    assert "5 seats are already used" in str(refused.value.message)

    seat_quotas.add_quota(admin, company, quota_data(seats=5))
    db.session.commit()
    assert count(SeatQuota) == 1


def test_update_quota_records_changes_and_may_go_down_to_what_is_used(admin, company, make):
    used_scene(make, company)
    quota = make.quota(company, 10, T2_START, T2_END, label="T2")

    changes = seat_quotas.update_quota(
        admin, quota, quota_data(label="2026/27 Term 2", seats=5, ends_on=date(2027, 4, 15))
    )
    db.session.commit()

    saved = db.session.get(SeatQuota, quota.id)
    assert (saved.label, saved.seats, saved.ends_on) == ("2026/27 Term 2", 5, date(2027, 4, 15))
    assert changes == {
        "label": "T2 → 2026/27 Term 2",
        "ends_on": "2027-03-31 → 2027-04-15",
        "seats": "10 → 5",
    }
    [entry] = company_entries(company)
    assert entry.action == "company.quota_updated"
    assert entry.details["seats"] == "10 → 5"
    assert entry.details["quota_id"] == quota.id


def test_reducing_seats_below_what_is_used_is_a_field_error(admin, company, make):
    used_scene(make, company)
    quota = make.quota(company, 10, T2_START, T2_END, label="T2")

    with pytest.raises(ValidationFailed) as refused:
        seat_quotas.update_quota(admin, quota, quota_data(label="T2", seats=4))
    db.session.rollback()

    assert refused.value.field == "seats"
    assert "5 seats are already used" in str(refused.value.message)
    assert db.session.get(SeatQuota, quota.id).seats == 10
    assert company_entries(company) == []


def test_changing_the_period_counts_the_seats_used_in_the_new_period(admin, company, make):
    used_scene(make, company)  # one seat used in May 2027
    quota = make.quota(company, 0, date(2027, 6, 1), date(2027, 6, 30), label="June")

    with pytest.raises(ValidationFailed) as refused:
        seat_quotas.update_quota(
            admin,
            quota,
            quota_data(
                label="June", starts_on=date(2027, 5, 1), ends_on=date(2027, 6, 30), seats=0
            ),
        )
    assert refused.value.field == "seats"
    assert "1 seat is already used" in str(refused.value.message)


def test_update_quota_refuses_an_overlap_but_not_with_itself(admin, company, make):
    quota = make.quota(company, 10, T2_START, T2_END, label="T2")
    later = make.quota(company, 10, T3_START, T3_END, label="T3")

    seat_quotas.update_quota(admin, quota, quota_data(label="T2", starts_on=date(2026, 12, 1)))
    with pytest.raises(ValidationFailed) as refused:
        seat_quotas.update_quota(admin, later, quota_data(label="T3", starts_on=T2_END))
    db.session.rollback()

    assert refused.value.field == "starts_on"
    assert "T2" in str(refused.value.message)
    assert db.session.get(SeatQuota, later.id).starts_on == T3_START


def test_update_quota_with_nothing_changed_records_nothing(admin, company, make):
    quota = make.quota(company, 10, T2_START, T2_END, label="2026/27 Term 2")
    assert seat_quotas.update_quota(admin, quota, quota_data()) == {}
    db.session.commit()
    assert company_entries(company) == []


def test_remove_an_unused_quota(admin, company, make):
    used_scene(make, company)
    quota = make.quota(company, 10, date(2028, 1, 1), date(2028, 3, 31), label="2028 T2")

    seat_quotas.remove_quota(admin, quota)
    db.session.commit()

    assert count(SeatQuota) == 0
    [entry] = company_entries(company)
    assert entry.action == "company.quota_removed"
    assert entry.details["label"] == "2028 T2"
    assert entry.details["seats"] == "10"


def test_a_quota_with_seats_counted_against_it_cannot_be_removed(admin, company, make):
    used_scene(make, company)
    quota = make.quota(company, 10, T2_START, T2_END, label="T2")

    with pytest.raises(ValidationFailed) as refused:
        seat_quotas.remove_quota(admin, quota)
    db.session.rollback()

    assert "5 seats have already been counted against T2" in str(refused.value.message)
    assert count(SeatQuota) == 1
    assert company_entries(company) == []


def test_a_quota_used_only_by_withdrawn_places_can_be_removed(admin, company, make, learner):
    course_class = class_starting(make, date(2027, 2, 1))
    make.enrolment(course_class, learner, EnrolmentStatus.WITHDRAWN)
    quota = make.quota(company, 10, T2_START, T2_END, label="T2")

    seat_quotas.remove_quota(admin, quota)
    db.session.commit()
    assert count(SeatQuota) == 0


def test_a_lowered_quota_holds_for_the_next_request(admin, company, make, learner):
    course_class = make.course_class(capacity=5)
    other = make.user(role="learner", company=company)
    make.enrolment(course_class, other, EnrolmentStatus.CONFIRMED)
    quota = make.quota(company, 5, course_class.starts_on, course_class.starts_on, label="Now")

    seat_quotas.update_quota(
        admin,
        quota,
        quota_data(label="Now", starts_on=quota.starts_on, ends_on=quota.ends_on, seats=1),
    )
    db.session.commit()

    with pytest.raises(seat_quotas.QuotaExceeded):
        enrolment_requests.request_enrolment(learner, learner, course_class)


# Service: permissions and reading --------------------------------------------------------


@pytest.mark.parametrize("role", ["learner", "hr_officer", "trainer"])
def test_only_admins_manage_companies(request, role, company, make):
    actor = request.getfixturevalue(role)
    quota = make.quota(company, 10, T2_START, T2_END, label="T2")
    officer = make.user(role="hr", company=company, email="officer@harbour-it.test")
    users = count(User)
    calls = [
        lambda: companies.create_company(actor, company_data()),
        lambda: companies.update_company(actor, company, company_data()),
        lambda: seat_quotas.add_quota(
            actor, company, quota_data(starts_on=T3_START, ends_on=T3_END)
        ),
        lambda: seat_quotas.update_quota(actor, quota, quota_data(seats=20)),
        lambda: seat_quotas.remove_quota(actor, quota),
        lambda: companies.invite_hr_officer(
            actor, company, name="N", email="n@harbour-it.test", links=LINKS
        ),
        lambda: companies.set_hr_officer_active(actor, company, officer, False),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
        db.session.rollback()
    assert count(PartnerCompany) == 1
    assert reload(company).name == "Harbour IT Services"
    assert db.session.get(SeatQuota, quota.id).seats == 10
    assert count(User) == users
    assert db.session.get(User, officer.id).is_active is True
    assert company_entries(company) == []


def test_invite_hr_officer_records_it_on_the_company(admin, company, outbox):
    officer = companies.invite_hr_officer(
        admin, company, name="Hana Lee", email="Hana.Lee@Harbour-IT.test", links=LINKS
    )
    db.session.commit()

    assert (officer.role, officer.company_id) == (Role.HR, company.id)
    assert officer.email == "hana.lee@harbour-it.test"
    [entry] = company_entries(company)
    assert entry.action == "company.hr_officer_invited"
    assert entry.details["user_id"] == officer.id
    assert [message.to for message in outbox] == ["hana.lee@harbour-it.test"]


def test_no_hr_officer_is_invited_into_an_inactive_company_or_without_a_name(admin, make, outbox):
    closed = make.company(name="Closed Ltd", code="CLSD", is_active=False)
    with pytest.raises(ValidationFailed) as refused:
        companies.invite_hr_officer(
            admin, closed, name="Hana Lee", email="hana@clsd.test", links=LINKS
        )
    assert "Closed Ltd is inactive" in str(refused.value.message)
    db.session.rollback()

    open_company = make.company(code="OPEN")
    with pytest.raises(ValidationFailed) as nameless:
        companies.invite_hr_officer(
            admin, open_company, name="  ", email="hana@open.test", links=LINKS
        )
    assert nameless.value.field == "name"
    db.session.rollback()

    assert db.session.scalar(select(User).where(User.role == Role.HR)) is None
    assert outbox == []


def test_set_hr_officer_active_records_on_the_company_and_checks_the_company(
    admin, company, hr_officer, learner, make
):
    assert companies.set_hr_officer_active(admin, company, hr_officer, False) is True
    assert companies.set_hr_officer_active(admin, company, hr_officer, False) is False
    db.session.commit()
    assert db.session.get(User, hr_officer.id).is_active is False
    assert [e.action for e in company_entries(company)] == ["company.hr_officer_deactivated"]

    other = make.company(code="OTH")
    for company_given, person in [(other, hr_officer), (company, learner)]:
        with pytest.raises(NotFound):
            companies.set_hr_officer_active(admin, company_given, person, True)
    assert db.session.get(User, hr_officer.id).is_active is False
    assert db.session.get(User, learner.id).is_active is True


def test_admin_list_searches_name_code_and_domain_and_filters_by_status(make):
    make.company(name="Harbour IT Services", code="HBIT", domains=["harbour-it.test"])
    make.company(name="Kowloon Data", code="KDS", domains=["kds.test"], is_active=False)
    make.company(name="Lantau_Logistics", code="LL", domains=["lantau.test"])

    def names(q: str | None = None, status: str | None = None) -> list[str]:
        return [c.name for c in db.session.scalars(companies.company_admin_list(q, status))]

    assert names() == ["Harbour IT Services", "Kowloon Data", "Lantau_Logistics"]
    assert names("harbour") == ["Harbour IT Services"]
    assert names("kds") == ["Kowloon Data"]
    assert names("lantau.TEST") == ["Lantau_Logistics"]
    assert names("_") == ["Lantau_Logistics"]  # a literal underscore, not a wildcard
    assert names("%") == []
    assert names(status=CompanyFilter.ACTIVE) == ["Harbour IT Services", "Lantau_Logistics"]
    assert names(status=CompanyFilter.INACTIVE) == ["Kowloon Data"]
    assert names("harbour", CompanyFilter.INACTIVE) == []


def test_people_counts_count_active_learners_and_hr_officers(make, company):
    other = make.company()
    for _ in range(3):
        make.user(role="learner", company=company)
    make.user(role="learner", company=company, is_active=False)
    make.user(role="hr", company=company)
    make.user(role="hr", company=company, is_active=False)
    make.user(role="learner", company=other)
    empty = make.company()

    counts = companies.people_counts([company.id, other.id, empty.id])

    assert counts[company.id] == companies.PeopleCount(staff=3, hr=1)
    assert counts[other.id] == companies.PeopleCount(staff=1, hr=0)
    assert counts[empty.id] == companies.PeopleCount(staff=0, hr=0)
    assert companies.people_counts([]) == {}


def test_company_page_lists_only_its_own_hr_officers(make, company, hr_officer):
    make.user(role="hr", company=make.company(), name="Someone Else")
    make.user(role="learner", company=company, name="A Learner")
    second = make.user(role="hr", company=company, name="Aaron Wong", is_active=False)

    page = companies.company_admin_page(company)

    assert [officer.id for officer in page.hr_officers] == [second.id, hr_officer.id]
    assert page.domains == ["harbour-it.test"]
    assert page.people == companies.PeopleCount(staff=1, hr=1)


# Pages: permissions ----------------------------------------------------------------------

ROUTES = [
    ("GET", "/admin/companies"),
    ("GET", "/admin/companies/new"),
    ("POST", "/admin/companies/new"),
    ("GET", "/admin/companies/{company}"),
    ("GET", "/admin/companies/{company}/edit"),
    ("POST", "/admin/companies/{company}/edit"),
    ("POST", "/admin/companies/{company}/quotas"),
    ("GET", "/admin/companies/{company}/quotas/{quota}/edit"),
    ("POST", "/admin/companies/{company}/quotas/{quota}/edit"),
    ("POST", "/admin/companies/{company}/quotas/{quota}/delete"),
    ("POST", "/admin/companies/{company}/hr-officers"),
    ("POST", "/admin/companies/{company}/hr-officers/{officer}/deactivate"),
    ("POST", "/admin/companies/{company}/hr-officers/{officer}/reactivate"),
]


def _scene_for_routes(make: Any, company: PartnerCompany) -> dict[str, Any]:
    quota = make.quota(company, 10, T2_START, T2_END, label="T2")
    officer = make.user(role="hr", company=company, email="officer@harbour-it.test")
    return {"company": company.id, "quota": quota.id, "officer": officer.id}


def _request(client: Any, method: str, path: str, ids: dict[str, Any]) -> Any:
    url = path.format(**ids)
    if method == "GET":
        return client.get(url)
    data = {
        **company_form(name="Changed", code="CHG", domains="changed.test", is_active=None),
        **quota_form(seats="0", starts_on="2030-01-01", ends_on="2030-03-31"),
        "hr-name": "New Officer",
        "hr-email": "new.officer@harbour-it.test",
    }
    return client.post(url, data=data)


def _assert_nothing_changed(company: PartnerCompany, ids: dict[str, Any], users: int) -> None:
    saved = reload(company)
    assert (saved.name, saved.code, saved.is_active) == ("Harbour IT Services", "HBIT", True)
    assert saved.domain_names == ["harbour-it.test"]
    assert db.session.scalar(select(PartnerCompany).where(PartnerCompany.code == "CHG")) is None
    quotas = list(db.session.scalars(select(SeatQuota)))
    assert [(q.id, q.seats) for q in quotas] == [(ids["quota"], 10)]
    assert count(User) == users
    assert db.session.get(User, ids["officer"]).is_active is True
    assert company_entries(company) == []


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("role", ["learner", "hr_officer", "trainer"])
def test_other_roles_are_refused_every_company_admin_route(
    request, make, company, login_as, method, path, role
):
    # The HR officer is of this very company: even so, these pages are not theirs.
    ids = _scene_for_routes(make, company)
    client = login_as(request.getfixturevalue(role))
    users = count(User)

    response = _request(client, method, path, ids)

    assert response.status_code == 403
    _assert_nothing_changed(company, ids, users)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_log_in_on_every_company_admin_route(
    client, make, company, method, path
):
    ids = _scene_for_routes(make, company)
    users = count(User)

    response = _request(client, method, path, ids)

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    _assert_nothing_changed(company, ids, users)


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if "{company}" in r[1]])
def test_an_unknown_company_is_404(admin, make, company, login_as, method, path):
    ids = _scene_for_routes(make, company)
    users = count(User)
    client = login_as(admin)

    response = _request(client, method, path, {**ids, "company": 999_999})

    assert response.status_code == 404
    _assert_nothing_changed(company, ids, users + 0)


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if "{quota}" in r[1]])
def test_a_quota_of_another_company_is_404_under_this_one(
    admin, make, company, login_as, method, path
):
    ids = _scene_for_routes(make, company)
    other = make.company(code="OTH")
    users = count(User)
    client = login_as(admin)

    response = _request(client, method, path, {**ids, "company": other.id})

    assert response.status_code == 404
    _assert_nothing_changed(company, ids, users)


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if "{officer}" in r[1]])
def test_someone_who_is_not_an_hr_officer_of_this_company_is_404(
    admin, make, company, learner, login_as, method, path
):
    ids = _scene_for_routes(make, company)
    other = make.company(code="OTH")
    outsider = make.user(role="hr", company=other)
    users = count(User)
    client = login_as(admin)

    for officer_id in (outsider.id, learner.id, admin.id, 999_999):
        response = _request(client, method, path, {**ids, "officer": officer_id})
        assert response.status_code == 404
    # The right officer under the other company's address is not found either.
    response = _request(client, method, path, {**ids, "company": other.id})
    assert response.status_code == 404

    _assert_nothing_changed(company, ids, users)
    assert db.session.get(User, outsider.id).is_active is True
    assert db.session.get(User, learner.id).is_active is True


def test_posts_without_a_csrf_token_are_refused(app, admin, make, company, login_as):
    ids = _scene_for_routes(make, company)
    users = count(User)
    client = login_as(admin)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for method, path in ROUTES:
            if method == "POST":
                assert _request(client, method, path, ids).status_code == 400, path
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    _assert_nothing_changed(company, ids, users)


# Pages: the list -------------------------------------------------------------------------


def test_company_list_shows_counts_and_searches(admin, make, company, login_as):
    make.user(role="learner", company=company)
    make.user(role="learner", company=company)
    make.user(role="hr", company=company)
    make.company(name="Kowloon Data", code="KDS", domains=["kds.test"], is_active=False)
    client = login_as(admin)

    body = text(client.get("/admin/companies"))
    assert "2 companies" in body
    assert "Harbour IT Services" in body and "Kowloon Data" in body
    assert "harbour-it.test" in body
    row = body.split("Harbour IT Services</a>")[1].split("</tr>")[0]
    assert re.search(r'<td class="numeric"[^>]*>2</td>', row)
    assert re.search(r'<td class="numeric"[^>]*>1</td>', row)

    found = text(client.get("/admin/companies?q=kds.test"))
    assert "1 company" in found
    assert "Kowloon Data" in found and "Harbour IT Services" not in found

    inactive = text(client.get("/admin/companies?status=inactive"))
    assert "Kowloon Data" in inactive and "Harbour IT Services" not in inactive


def test_company_list_ignores_unknown_filter_values(admin, company, login_as):
    client = login_as(admin)
    response = client.get(f"/admin/companies?status=bogus&q={'x' * 101}&page=1")
    assert response.status_code == 200
    assert "Harbour IT Services" in text(response)


def test_company_list_pages_keep_the_filters(admin, make, login_as):
    for n in range(27):
        make.company(name=f"Acme {n:02d}", code=f"ACME{n:02d}")
    client = login_as(admin)

    body = text(client.get("/admin/companies?q=acme&status=active"))
    assert "27 companies" in body
    assert "Acme 24" in body and "Acme 25" not in body
    assert "/admin/companies?page=2&q=acme&status=active" in body
    assert "Acme 26" in text(client.get("/admin/companies?page=2&q=acme&status=active"))


# Pages: creating and editing -------------------------------------------------------------


def test_admin_adds_a_company(admin, login_as):
    client = login_as(admin)
    assert client.get("/admin/companies/new").status_code == 200

    response = client.post("/admin/companies/new", data=company_form())

    company = db.session.scalar(select(PartnerCompany))
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/admin/companies/{company.id}"
    assert (company.name, company.code) == ("Kowloon Data Systems", "KDS")
    assert company.domain_names == ["kds.test", "kowloon-data.example"]
    assert company.requires_approval is True
    page = text(client.get(f"/admin/companies/{company.id}"))
    assert "Kowloon Data Systems has been added." in page
    assert "Created the partner company" in page and "company.created" not in page


def test_new_company_form_starts_active_without_approval(admin, login_as):
    body = text(login_as(admin).get("/admin/companies/new"))
    [is_active] = [tag for tag in body.split("<input") if 'name="is_active"' in tag]
    [approval] = [tag for tag in body.split("<input") if 'name="requires_approval"' in tag]
    assert "checked" in is_active.split(">")[0]
    assert "checked" not in approval.split(">")[0]


BAD_COMPANY_INPUTS = [
    ({"name": ""}, "name", "This field is required."),
    ({"code": "H"}, "code", "Use 2 to 20 capital letters and digits"),
    ({"code": "HB IT"}, "code", "Use 2 to 20 capital letters and digits"),
    ({"code": "HBIT"}, "code", "Another company already has the code HBIT."),
    ({"name": "harbour it services"}, "name", "Another company is already called"),
    ({"domains": "kds.test\nharbour-it.test"}, "domains", "harbour-it.test (Harbour IT Services)"),
    ({"domains": "kds.test\nnot_a domain"}, "domains", "not_a, domain"),
    ({"domains": "yahoo.com.hk"}, "domains", "anyone can have an address there"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_COMPANY_INPUTS)
def test_bad_input_on_the_new_company_form_is_shown_and_nothing_is_saved(
    admin, company, login_as, overrides, field, message
):
    client = login_as(admin)

    response = client.post("/admin/companies/new", data=company_form(**overrides))

    assert response.status_code == 200
    body = text(response)
    error = body.split(f'id="{field}-error">')[1].split("</p>")[0]
    assert message in error
    assert 'aria-invalid="true"' in body
    assert count(PartnerCompany) == 1
    assert count(CompanyDomain) == 1


def test_edit_form_shows_the_company_as_it_is(admin, make, login_as):
    company = make.company(
        name="Kowloon Data", code="KDS", domains=["b.test", "a.test"], requires_approval=True
    )
    body = text(login_as(admin).get(f"/admin/companies/{company.id}/edit"))
    assert 'value="Kowloon Data"' in body
    assert 'value="KDS"' in body
    assert "a.test\nb.test</textarea>" in body
    assert body.count("checked") == 2


def test_editing_a_company_saves_and_shows_the_history(admin, company, login_as):
    client = login_as(admin)

    response = client.post(
        f"/admin/companies/{company.id}/edit",
        data=edit_form(company, name="Harbour IT", domains="harbour-it.test\nhbit.example"),
    )

    assert response.status_code == 302
    saved = reload(company)
    assert saved.name == "Harbour IT"
    assert saved.domain_names == ["harbour-it.test", "hbit.example"]
    page = text(client.get(f"/admin/companies/{company.id}"))
    assert "The changes to Harbour IT have been saved." in page
    assert "Harbour IT Services → Harbour IT" in page
    assert "hbit.example" in page


def test_saving_an_unchanged_company_says_so(admin, company, login_as):
    client = login_as(admin)
    client.post(f"/admin/companies/{company.id}/edit", data=edit_form(company))
    assert "Nothing was changed." in text(client.get(f"/admin/companies/{company.id}"))
    assert company_entries(company) == []


def test_a_domain_of_another_company_on_the_edit_form_names_it(admin, company, make, login_as):
    make.company(name="Kowloon Data", code="KDS", domains=["kds.test"])
    client = login_as(admin)

    response = client.post(
        f"/admin/companies/{company.id}/edit",
        data=edit_form(company, name="Renamed", domains="harbour-it.test\nkds.test"),
    )

    assert response.status_code == 200
    assert "Already used by another company: kds.test (Kowloon Data)." in text(response)
    saved = reload(company)
    assert saved.name == "Harbour IT Services"
    assert saved.domain_names == ["harbour-it.test"]


def test_deactivating_a_company_logs_its_people_out(app, admin, company, learner, login_as):
    learner_client = app.test_client()
    learner_client.post(
        "/login", data={"email": learner.email, "password": "correct horse battery staple"}
    )
    assert learner_client.get("/my-learning").status_code == 200
    client = login_as(admin)

    response = client.post(
        f"/admin/companies/{company.id}/edit", data=edit_form(company, is_active=None)
    )

    assert response.status_code == 302
    assert reload(company).is_active is False
    assert "can no longer log in" in text(client.get(f"/admin/companies/{company.id}"))
    refused = learner_client.get("/my-learning")
    assert refused.status_code == 302
    assert urlsplit(refused.headers["Location"]).path == "/login"
    assert [e.action for e in company_entries(company)] == ["company.deactivated"]


# Pages: a company's page -----------------------------------------------------------------


def test_company_page_shows_quotas_with_seats_used_and_left(admin, company, make, login_as):
    scene = used_scene(make, company)
    make.quota(company, 5, T2_START, T2_END, label="2026/27 Term 2")
    make.quota(company, 9, T2_START, T2_END, label="Cloud T2", course=scene["course_x"])
    make.user(role="hr", company=company, name="Hana Lee", email="hana@harbour-it.test")
    client = login_as(admin)

    body = text(client.get(f"/admin/companies/{company.id}"))

    term = body.split('<th scope="row">2026/27 Term 2</th>')[1].split("</tr>")[0]
    assert [cell.split(">")[1] for cell in term.split('<td class="numeric')[1:]] == [
        "5</td",
        "5</td",
        "0</td",
    ]
    assert "quota-exhausted" in term
    cloud = body.split('<th scope="row">Cloud T2</th>')[1].split("</tr>")[0]
    assert "SU-CLD-101" in cloud
    assert [cell.split(">")[1] for cell in cloud.split('<td class="numeric')[1:]] == [
        "9</td",
        "4</td",
        "5</td",
    ]
    # Used quotas cannot be removed, so they offer no button for it.
    assert f"/quotas/{company.quotas[0].id}/delete" not in body
    assert "Hana Lee" in body and "hana@harbour-it.test" in body
    assert "Active" in body.split('<th scope="row">Hana Lee</th>')[1].split("</tr>")[0]


def test_admin_adds_a_quota_from_the_company_page(admin, company, make, login_as):
    course = make.course(code="SU-CLD-101")
    client = login_as(admin)
    assert "SU-CLD-101" in text(client.get(f"/admin/companies/{company.id}"))

    response = client.post(
        f"/admin/companies/{company.id}/quotas",
        data=quota_form(label="Cloud T2", seats="4", course_id=str(course.id)),
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/companies/{company.id}#quotas")
    quota = db.session.scalar(select(SeatQuota))
    assert (quota.label, quota.seats, quota.course_id) == ("Cloud T2", 4, course.id)
    assert (quota.starts_on, quota.ends_on) == (T2_START, T2_END)
    assert "The quota for Cloud T2 has been added." in text(
        client.get(f"/admin/companies/{company.id}")
    )


BAD_QUOTA_INPUTS = [
    ({"label": ""}, "label", "This field is required."),
    ({"starts_on": "2027-02-30"}, "starts_on", "Not a valid date value."),
    ({"ends_on": ""}, "ends_on", "This field is required."),
    ({"ends_on": "2026-12-31"}, "ends_on", "The period cannot end before it starts."),
    ({"seats": "-3"}, "seats", "from 0 to 100000"),
    ({"seats": "ten"}, "seats", "Not a valid integer value."),
    ({"seats": "99999999999999999999"}, "seats", "from 0 to 100000"),
    ({"seats": "4"}, "seats", "5 seats are already used in this period: give at least 5."),
    ({"course_id": "999999"}, "course_id", "Choose a course from the list."),
    ({"course_id": "abc"}, "course_id", "Invalid Choice"),
    ({"starts_on": "2027-03-01", "ends_on": "2027-04-30"}, "starts_on", "overlaps T3"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_QUOTA_INPUTS)
def test_bad_quota_input_is_shown_on_the_company_page_and_nothing_is_saved(
    admin, company, make, login_as, overrides, field, message
):
    used_scene(make, company)
    make.quota(company, 3, T3_START, T3_END, label="T3")
    client = login_as(admin)

    response = client.post(f"/admin/companies/{company.id}/quotas", data=quota_form(**overrides))

    assert response.status_code == 200
    body = text(response)
    error = body.split(f'id="quota-{field}-error">')[1].split("</p>")[0]
    assert message in error
    assert count(SeatQuota) == 1
    assert company_entries(company) == []


def test_admin_edits_a_quota(admin, company, make, login_as):
    used_scene(make, company)
    quota = make.quota(company, 10, T2_START, T2_END, label="T2")
    client = login_as(admin)

    page = text(client.get(f"/admin/companies/{company.id}/quotas/{quota.id}/edit"))
    assert 'value="T2"' in page
    assert 'value="2027-01-01"' in page
    assert "5 seats of this quota are used now." in page

    response = client.post(
        f"/admin/companies/{company.id}/quotas/{quota.id}/edit",
        data=quota_form(label="2026/27 Term 2", seats="6"),
    )

    assert response.status_code == 302
    saved = db.session.get(SeatQuota, quota.id)
    assert (saved.label, saved.seats) == ("2026/27 Term 2", 6)
    assert "10 → 6" in text(client.get(f"/admin/companies/{company.id}"))


def test_reducing_a_quota_below_its_use_on_the_edit_page(admin, company, make, login_as):
    used_scene(make, company)
    quota = make.quota(company, 10, T2_START, T2_END, label="T2")
    client = login_as(admin)

    response = client.post(
        f"/admin/companies/{company.id}/quotas/{quota.id}/edit",
        data=quota_form(label="T2", seats="2"),
    )

    assert response.status_code == 200
    assert "5 seats are already used in this period: give at least 5." in text(response)
    assert db.session.get(SeatQuota, quota.id).seats == 10


def test_removing_quotas_from_the_company_page(admin, company, make, login_as):
    used_scene(make, company)
    used = make.quota(company, 10, T2_START, T2_END, label="T2")
    unused = make.quota(company, 10, date(2028, 1, 1), date(2028, 3, 31), label="2028 T2")
    client = login_as(admin)
    assert f"/quotas/{unused.id}/delete" in text(client.get(f"/admin/companies/{company.id}"))

    refused = client.post(f"/admin/companies/{company.id}/quotas/{used.id}/delete")
    assert refused.status_code == 302
    assert "5 seats have already been counted against T2" in text(
        client.get(f"/admin/companies/{company.id}")
    )

    removed = client.post(f"/admin/companies/{company.id}/quotas/{unused.id}/delete")
    assert removed.status_code == 302
    assert [q.id for q in db.session.scalars(select(SeatQuota))] == [used.id]
    assert "The quota for 2028 T2 has been removed." in text(
        client.get(f"/admin/companies/{company.id}")
    )


# Pages: HR officers ----------------------------------------------------------------------


def test_admin_invites_an_hr_officer(admin, company, login_as, outbox):
    client = login_as(admin)

    response = client.post(
        f"/admin/companies/{company.id}/hr-officers",
        data={"hr-name": " Hana Lee ", "hr-email": "Hana.Lee@harbour-it.test"},
    )

    assert response.status_code == 302
    officer = db.session.scalar(select(User).where(User.email == "hana.lee@harbour-it.test"))
    assert officer.role == Role.HR
    assert officer.company_id == company.id
    assert officer.name == "Hana Lee"
    assert officer.password_hash is None
    assert [message.to for message in outbox] == ["hana.lee@harbour-it.test"]
    page = text(client.get(f"/admin/companies/{company.id}"))
    assert "We have sent hana.lee@harbour-it.test an invitation" in page
    assert "Invited an HR officer" in page and "company.hr_officer_invited" not in page
    assert "Invited" in page.split('<th scope="row">Hana Lee</th>')[1].split("</tr>")[0]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"hr-name": "", "hr-email": "x@harbour-it.test"}, "name", "This field is required."),
        ({"hr-name": "X", "hr-email": "not an address"}, "email", "valid e-mail address"),
        (
            {"hr-name": "X", "hr-email": "HR@harbour-it.test"},
            "email",
            "already has an account",
        ),
    ],
)
def test_bad_hr_officer_invitations_are_shown_and_nothing_is_sent(
    admin, company, hr_officer, login_as, outbox, data, field, message
):
    client = login_as(admin)
    users = count(User)

    response = client.post(f"/admin/companies/{company.id}/hr-officers", data=data)

    assert response.status_code == 200
    error = text(response).split(f'id="hr-{field}-error">')[1].split("</p>")[0]
    assert message in error
    assert count(User) == users
    assert outbox == []


def test_an_inactive_company_gets_no_hr_officer_invitations(admin, make, login_as, outbox):
    closed = make.company(name="Closed Ltd", code="CLSD", is_active=False)
    client = login_as(admin)

    response = client.post(
        f"/admin/companies/{closed.id}/hr-officers",
        data={"hr-name": "Hana Lee", "hr-email": "hana@clsd.test"},
    )

    assert response.status_code == 200
    assert "Closed Ltd is inactive: reactivate it before inviting HR officers." in text(response)
    assert db.session.scalar(select(User).where(User.email == "hana@clsd.test")) is None
    assert outbox == []


def test_deactivating_and_reactivating_an_hr_officer(app, admin, company, hr_officer, login_as):
    hr_client = app.test_client()
    hr_client.post(
        "/login", data={"email": hr_officer.email, "password": "correct horse battery staple"}
    )
    assert hr_client.get("/hr/").status_code == 200
    client = login_as(admin)
    base = f"/admin/companies/{company.id}/hr-officers/{hr_officer.id}"

    response = client.post(f"{base}/deactivate")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("#hr-officers")
    assert db.session.get(User, hr_officer.id).is_active is False
    assert urlsplit(hr_client.get("/hr/").headers["Location"]).path == "/login"
    page = text(client.get(f"/admin/companies/{company.id}"))
    assert "has been deactivated and logged out everywhere" in page
    assert (
        "Deactivated" in page.split(f'<th scope="row">{hr_officer.name}</th>')[1].split("</tr>")[0]
    )

    client.post(f"{base}/deactivate")
    assert "Nothing was changed." in text(client.get(f"/admin/companies/{company.id}"))

    client.post(f"{base}/reactivate")
    assert db.session.get(User, hr_officer.id).is_active is True
    assert [e.action for e in company_entries(company)] == [
        "company.hr_officer_deactivated",
        "company.hr_officer_reactivated",
    ]
    actions = list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "users", AuditEntry.object_id == hr_officer.id)
            .order_by(AuditEntry.id)
        )
    )
    assert actions[-2:] == ["account.deactivated", "account.reactivated"]


# Pages: a fixed number of queries --------------------------------------------------------


def _grow(make: Any, company: PartnerCompany, start: int, size: int) -> None:
    course = make.course(code=f"SU-Q-{start:03d}")
    for n in range(start, start + size):
        other = make.company(name=f"Company {n:03d}", code=f"C{n:03d}", domains=[f"c{n}.test"])
        make.user(role="learner", company=other)
        make.user(role="hr", company=other)
        make.user(role="hr", company=company)
        make.quota(
            company,
            5,
            date(2030 + n, 1, 1),
            date(2030 + n, 3, 31),
            label=f"Q{n}",
            course=course if n % 2 else None,
        )


def test_the_company_pages_run_the_same_number_of_queries_whatever_the_data(
    admin, company, make, login_as
):
    client = login_as(admin)
    _grow(make, company, 0, 2)
    quota_id = company.quotas[0].id
    urls = [
        "/admin/companies",
        f"/admin/companies/{company.id}",
        f"/admin/companies/{company.id}/edit",
        f"/admin/companies/{company.id}/quotas/{quota_id}/edit",
    ]
    client.get(urls[0])
    few = [page_queries(client, url) for url in urls]

    _grow(make, company, 2, 8)
    many = [page_queries(client, url) for url in urls]

    assert "3 companies" in text(few[0][0])
    assert "11 companies" in text(many[0][0])
    assert "Q9" in text(many[1][0])
    for (few_response, few_statements), (many_response, many_statements) in zip(
        few, many, strict=True
    ):
        assert few_response.status_code == many_response.status_code == 200
        assert len(few_statements) == len(many_statements), "\n".join(many_statements)
    assert len(many[0][1]) <= 6
    assert len(many[1][1]) <= 9
