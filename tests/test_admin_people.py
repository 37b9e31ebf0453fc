"""A person's page for admins, through the client: details, edit, invitations, new address."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import EnrolmentStatus, Role, User
from tests.conftest import login
from tests.test_accounts_service import link_in, reload


def form_data(user: User, **changes: Any) -> dict[str, Any]:
    data = {
        "name": user.name,
        "email": user.email,
        "role": user.role.value,
        "company": str(user.company_id or 0),
        "staff_number": user.staff_number or "",
        "department": user.department or "",
        "job_title": user.job_title or "",
    }
    data.update(changes)
    return data


def test_the_user_list_links_to_a_page_per_person(login_as, admin, learner, make):
    make.enrolment(make.course_class(), learner, EnrolmentStatus.COMPLETED)
    client = login_as(admin)
    assert f"/admin/users/{learner.id}" in client.get("/admin/users").get_data(as_text=True)
    page = client.get(f"/admin/users/{learner.id}").get_data(as_text=True)
    assert learner.email in page
    assert "Change history" in page
    assert "1 enrolment in all" in page


def test_the_edit_form_is_filled_in_and_saves(login_as, admin, learner):
    client = login_as(admin)
    page = client.get(f"/admin/users/{learner.id}/edit").get_data(as_text=True)
    assert f'value="{learner.email}"' in page
    response = client.post(
        f"/admin/users/{learner.id}/edit", data=form_data(learner, name="Amy Chan Tai-man")
    )
    assert response.status_code == 302
    assert reload(learner).name == "Amy Chan Tai-man"
    page = client.get(response.location).get_data(as_text=True)
    assert "details have been saved" in page
    assert "Changed the person&#39;s details" in page
    assert "Amy Chan Tai-man" in page and "account.changed" not in page


def test_a_refusal_is_shown_on_the_form_and_saves_nothing(login_as, admin, learner, make):
    make.enrolment(make.course_class(), learner, EnrolmentStatus.CONFIRMED)
    client = login_as(admin)
    response = client.post(
        f"/admin/users/{learner.id}/edit", data=form_data(learner, role="trainer", company="0")
    )
    assert response.status_code == 200
    assert "active enrolments" in response.get_data(as_text=True)
    assert reload(learner).role is Role.LEARNER


def test_bad_input_is_a_form_error_not_a_crash(login_as, admin, learner):
    client = login_as(admin)
    for changes in ({"role": "emperor"}, {"company": "abc"}, {"email": "x" * 300}, {"name": ""}):
        response = client.post(
            f"/admin/users/{learner.id}/edit", data=form_data(learner, **changes)
        )
        assert response.status_code == 200, changes
    assert client.get("/admin/users/999999").status_code == 404


def test_an_hr_officer_demoted_is_logged_out(app, admin, hr_officer):
    officer_client = app.test_client()
    assert login(officer_client, hr_officer).status_code == 302
    assert officer_client.get("/hr/").status_code == 200
    admin_client = app.test_client()
    login(admin_client, admin)
    response = admin_client.post(
        f"/admin/users/{hr_officer.id}/edit", data=form_data(hr_officer, role="learner")
    )
    assert response.status_code == 302
    assert officer_client.get("/hr/").status_code == 302  # back to the login page


def test_a_new_address_is_confirmed_from_the_link(client, login_as, admin, learner, outbox):
    admin_client = login_as(admin)
    admin_client.post(
        f"/admin/users/{learner.id}/edit",
        data=form_data(learner, email="amy.new@harbour-it.test"),
    )
    assert reload(learner).pending_email == "amy.new@harbour-it.test"
    path = link_in(outbox[0], "/confirm-new-address/")
    admin_client.post("/logout")
    page = client.get(path).get_data(as_text=True)
    assert "amy.new@harbour-it.test" in page
    assert client.post(path).status_code == 302
    assert reload(learner).email == "amy.new@harbour-it.test"
    response = client.get(path)
    assert response.status_code == 400


def test_pending_invitations_can_be_resent_and_withdrawn(client, login_as, admin, company, outbox):
    admin_client = login_as(admin)
    admin_client.post(
        "/admin/users/invite",
        data={"name": "Eve Lam", "email": "eve@harbour-it.test", "role": "learner",
              "company": str(company.id)},
    )  # fmt: skip
    invitee = db.session.scalar(select(User).where(User.email == "eve@harbour-it.test"))
    assert invitee is not None
    assert "eve@harbour-it.test" in admin_client.get("/admin/users/invitations").get_data(
        as_text=True
    )
    first = link_in(outbox[0], "/invitation/")
    response = admin_client.post(
        f"/admin/users/{invitee.id}/invitation/resend", data={"from": "invitations"}
    )
    assert response.location.endswith("/admin/users/invitations")
    assert "newer invitation" in client.get(first).get_data(as_text=True)
    second = link_in(outbox[1], "/invitation/")
    admin_client.post(f"/admin/users/{invitee.id}/invitation/revoke")
    response = client.get(second)
    assert response.status_code == 400
    assert "withdrawn" in response.get_data(as_text=True)
    assert "eve@harbour-it.test" not in admin_client.get("/admin/users/invitations").get_data(
        as_text=True
    )


def test_refused_invitation_actions_are_a_message(login_as, admin, learner):
    client = login_as(admin)
    response = client.post(f"/admin/users/{learner.id}/invitation/revoke", follow_redirects=True)
    assert "deactivate the account instead" in response.get_data(as_text=True)
    assert reload(learner).is_active
