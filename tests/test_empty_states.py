"""An empty list says what to do next, with a link where the viewer can act."""

from __future__ import annotations


def test_a_company_without_hr_officers_points_to_the_invitation(login_as, admin, make):
    company = make.company(name="Quiet Ltd", code="QUIET", domains=["quiet.test"])
    html = login_as(admin).get(f"/admin/companies/{company.id}").get_data(as_text=True)
    assert "No HR officers yet." in html
    assert '<a href="#invite-hr">Invite the first HR officer below.</a>' in html
    assert 'id="invite-hr"' in html


def test_a_class_without_sessions_points_to_the_session_forms(login_as, admin, make):
    course_class = make.course_class()
    html = login_as(admin).get(f"/admin/classes/{course_class.id}").get_data(as_text=True)
    assert "No sessions yet." in html
    assert '<a href="#add-session">' in html and 'id="add-session"' in html


def test_a_filter_matching_nothing_offers_to_clear_it(login_as, admin):
    client = login_as(admin)
    for url in ("/admin/companies", "/admin/courses"):
        html = client.get(f"{url}?q=nothing-is-called-this").get_data(as_text=True)
        assert f'<a href="{url}">Clear the filters</a>' in html, url


def _chinese(user):
    from skillsup.extensions import db
    from skillsup.models import User

    db.session.get(User, user.id).preferred_language = "zh_Hant_HK"
    db.session.commit()


def test_admin_lists_point_to_where_the_admin_can_act(login_as, admin, learner):
    client = login_as(admin)
    html = client.get(f"/admin/users/{learner.id}").get_data(as_text=True)
    assert "No enrolments." in html and '<a href="/admin/classes">Enrol ' in html
    html = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "No enrolments." in html and '<a href="/admin/classes">Enrol ' not in html
    html = client.get("/admin/users/invitations").get_data(as_text=True)
    assert '<a href="/admin/users/invite">Invite someone</a>' in html
    html = client.get("/admin/classes").get_data(as_text=True)
    assert '<a href="/admin/classes/new">Create the first class</a>' in html
    html = client.get("/admin/classes?q=nothing-is-called-this").get_data(as_text=True)
    assert '<a href="/admin/classes">Clear the filters</a>' in html
    html = client.get("/admin/audit?person=nobody-is-called-this").get_data(as_text=True)
    assert '<a href="/admin/audit">Show every entry</a>' in html


def test_a_class_without_enrolments_points_to_the_enrol_form(login_as, admin, make):
    course_class = make.course_class()
    html = login_as(admin).get(f"/admin/classes/{course_class.id}").get_data(as_text=True)
    assert '<a href="#email">Enrol a learner with the form above.</a>' in html
    assert 'id="email"' in html


def test_hr_empty_lists_point_to_nominations_and_invitations(login_as, hr_officer, learner):
    client = login_as(hr_officer)
    html = client.get("/hr/approvals").get_data(as_text=True)
    assert "Nothing waits for your approval." in html
    assert '<a href="/hr/classes">Nominate staff into a class</a>' in html
    html = client.get("/hr/").get_data(as_text=True)
    assert '<a href="/hr/classes">Nominate staff into a class</a>' in html
    html = client.get(f"/hr/staff/{learner.id}").get_data(as_text=True)
    assert '<a href="#nominate">Nominate them into a class below.</a>' in html
    html = client.get("/hr/progress?department=Nowhere").get_data(as_text=True)
    if "No employee matches this filter." in html:
        assert '<a href="/hr/progress">Show every employee</a>' in html


def test_hr_class_without_staff_points_to_the_nomination_form(login_as, hr_officer, make):
    course_class = make.course_class()
    html = login_as(hr_officer).get(f"/hr/classes/{course_class.code}").get_data(as_text=True)
    assert "None of your staff is in this class." in html
    assert ('<a href="#nominate">Nominate staff below.</a>' in html) or (
        '<a href="/hr/classes">Find a class open for enrolment</a>' in html
    )


def test_hr_approvals_empty_in_chinese(login_as, hr_officer):
    _chinese(hr_officer)
    html = login_as(hr_officer).get("/hr/approvals").get_data(as_text=True)
    assert "暫時沒有申請等候你審批。" in html and "提名員工參加班別</a>" in html


def test_a_trainer_without_classes_is_told_whom_to_ask(login_as, trainer, admin, make):
    from skillsup.extensions import db
    from skillsup.models import User

    db.session.get(User, trainer.id).invited_by_id = admin.id
    db.session.commit()
    html = login_as(trainer).get("/trainer/").get_data(as_text=True)
    assert "You are not assigned to any class yet." in html
    assert f'<a href="mailto:{admin.email}">Write to {admin.name}</a>' in html


def test_an_admin_on_the_empty_trainer_home_can_create_a_class(login_as, admin):
    html = login_as(admin).get("/trainer/").get_data(as_text=True)
    assert '<a href="/admin/classes/new">Create a class</a>' in html


def test_a_roster_without_learners_or_sessions_says_what_happens(login_as, admin, make):
    course_class = make.course_class()
    html = login_as(admin).get(f"/trainer/classes/{course_class.code}").get_data(as_text=True)
    assert "No learner is confirmed in this class yet." in html
    assert f'href="/admin/classes/{course_class.id}#add-session">Add its sessions</a>' in html


def test_a_learner_without_enrolments_is_sent_to_the_catalogue(login_as, learner):
    html = login_as(learner).get("/my-learning").get_data(as_text=True)
    assert "You are not enrolled in any class at the moment." in html
    assert html.count('<a href="/courses">Browse the course catalogue</a>') >= 2


def test_a_learner_without_enrolments_in_chinese(login_as, learner):
    _chinese(learner)
    html = login_as(learner).get("/my-learning").get_data(as_text=True)
    assert '<a href="/courses">瀏覽課程目錄</a>' in html


def test_an_empty_catalogue_and_a_course_without_classes(client, make):
    html = client.get("/courses").get_data(as_text=True)
    assert "New courses appear here as soon as they are published" in html
    assert '<a href="/">Back to the home page</a>' in html
    course = make.course(status="published")
    html = client.get(f"/courses/{course.code}").get_data(as_text=True)
    assert '<a href="/courses">Browse the other courses</a>' in html
