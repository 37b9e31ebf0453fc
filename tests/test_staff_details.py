"""The services behind keeping a company's staff in step: an employee's details, creating or
updating by staff number or address, and an admin's deactivation of a company's learner."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.links import PortalLinks
from skillsup.models import AuditEntry, EnrolmentStatus, Role, User
from skillsup.services import accounts, staff, staff_details
from skillsup.services.errors import (
    EmailTaken,
    NotAtCompanyDomain,
    NotFound,
    PermissionDenied,
    StaffNumberTaken,
    ValidationFailed,
)

from .factories import Factory


@pytest.fixture
def links(app: Any) -> Any:
    with app.test_request_context():
        yield PortalLinks()


def test_an_invitation_needs_a_name_and_may_go_unsent(
    make: Factory, hr_officer: User, company: Any, links: Any
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        accounts.invite_user(
            hr_officer,
            email="fay@harbour-it.test",
            name="   ",
            role=Role.LEARNER,
            company=company,
            links=links,
        )
    assert refused.value.field == "name"
    user = accounts.invite_user(
        hr_officer,
        email="fay@harbour-it.test",
        name=" Fay Tam ",
        role=Role.LEARNER,
        company=company,
        links=links,
        send_email=False,
    )
    assert (user.name, user.invited_at, user.invited_by) == ("Fay Tam", None, hr_officer)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == user.id)).one()
    assert entry.action == "account.created"


def test_the_shared_checks_refuse_as_conflicts(
    make: Factory, hr_officer: User, company: Any, learner: User, links: Any
) -> None:
    def invite(email: str, staff_number: str | None = None) -> None:
        accounts.invite_user(
            hr_officer,
            email=email,
            name="Fay Tam",
            role=Role.LEARNER,
            company=company,
            staff_number=staff_number,
            links=links,
        )

    with pytest.raises(NotAtCompanyDomain) as outside:
        invite("fay@gmail.example")
    with pytest.raises(EmailTaken) as taken:
        invite(learner.email)
    with pytest.raises(StaffNumberTaken) as number:
        invite("fay@harbour-it.test", learner.staff_number)
    assert {outside.value.status_code, taken.value.status_code, number.value.status_code} == {409}
    assert number.value.field == "staff_number"


def test_updating_keeps_to_the_actors_company(
    make: Factory, hr_officer: User, learner: User, admin: User
) -> None:
    other = make.user(company=make.company(), name="Kim Lo")
    with pytest.raises(NotFound):
        staff_details.update_employee(hr_officer, other, {"name": "Kim"})
    with pytest.raises(NotFound):
        staff_details.update_employee(hr_officer, hr_officer, {"name": "Kim"})
    with pytest.raises(PermissionDenied):
        staff_details.update_employee(learner, learner, {"name": "Me"})
    changes = staff_details.update_employee(admin, other, {"department": " Data "})
    assert changes == {"department": (None, "Data")}
    assert staff_details.update_employee(admin, other, {"department": "Data"}) == {}
    with pytest.raises(ValueError):
        staff_details.update_employee(hr_officer, learner, {"email": "x@harbour-it.test"})


def test_syncing_needs_the_company_of_an_admin(admin: User, links: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        staff_details.sync_employee(
            admin, None, email="fay@harbour-it.test", details={"name": "Fay"}, links=links
        )
    assert refused.value.field == "company"


def test_an_admin_deactivates_a_companys_learner_as_hr_would(
    make: Factory, admin: User, learner: User, hr_officer: User
) -> None:
    to_come = make.course_class()
    upcoming = make.enrolment(to_come, learner, EnrolmentStatus.CONFIRMED)
    withdrawn = staff.deactivate_employee(admin, learner, "Contract ended")
    assert withdrawn == [upcoming]
    assert upcoming.status == EnrolmentStatus.WITHDRAWN
    assert not learner.is_active
    assert staff.deactivate_employee(admin, learner, "Again", already_ok=True) == []
    with pytest.raises(staff.StaffActionRefused):
        staff.deactivate_employee(admin, learner, "Again")
    assert staff.reactivate_employee(admin, learner) is True
    assert staff.reactivate_employee(admin, learner, already_ok=True) is False
    # Not an HR officer, and not a learner: nobody's staff.
    with pytest.raises(NotFound):
        staff.deactivate_employee(admin, hr_officer, "No")
