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


def test_an_hr_dashboard_without_training_draws_no_empty_charts(login_as, hr_officer):
    html = login_as(hr_officer).get("/hr/").get_data(as_text=True)
    charts = html[html.index('id="charts-heading"') :]
    assert "Nothing to chart yet" in charts
    assert '<a href="/hr/classes">Nominate staff into a class</a>' in charts
    assert '<a href="/courses">Browse the course catalogue</a>' in charts
    assert 'class="chart-grid"' not in html and 'class="bar-chart"' not in html
    assert "chart-empty" not in html


def test_an_hr_dashboard_with_training_draws_its_charts(login_as, hr_officer, learner, make):
    from datetime import timedelta

    from skillsup.extensions import db
    from skillsup.models import Attendance, AttendanceStatus, utcnow

    course_class = make.course_class(sessions=1, first_session=utcnow() - timedelta(days=1))
    enrolment = make.enrolment(course_class, learner)
    db.session.add(
        Attendance(
            enrolment=enrolment,
            session=course_class.sessions[0],
            status=AttendanceStatus.PRESENT,
        )
    )
    db.session.commit()
    html = login_as(hr_officer).get("/hr/").get_data(as_text=True)
    assert 'class="chart-grid"' in html and "<svg" in html
    assert "Nothing to chart yet" not in html


def test_an_hr_dashboard_without_training_in_chinese(login_as, hr_officer):
    _chinese(hr_officer)
    html = login_as(hr_officer).get("/hr/").get_data(as_text=True)
    assert "暫時未有數據可繪製圖表" in html and '<a href="/courses">瀏覽課程目錄</a>' in html


def test_an_account_without_history_says_what_shows_there_and_what_to_do(
    login_as, hr_officer, learner
):
    html = login_as(hr_officer).get(f"/hr/staff/{learner.id}").get_data(as_text=True)
    history = html[html.index('id="account-history"') : html.index('id="account"')]
    assert f"No change to {learner.name}'s account has been recorded yet" in history
    assert "“Forgot your password?” on the log-in page" in history


def test_a_deactivated_account_without_history_points_to_reactivation(
    login_as, hr_officer, learner
):
    from skillsup.extensions import db
    from skillsup.models import User

    db.session.get(User, learner.id).is_active = False
    db.session.commit()
    html = login_as(hr_officer).get(f"/hr/staff/{learner.id}").get_data(as_text=True)
    history = html[html.index('id="account-history"') :]
    assert '<a href="#account">Reactivate the account below.</a>' in history


def test_account_history_names_each_event_in_the_readers_language(
    login_as, hr_officer, learner, admin
):
    from skillsup.extensions import db
    from skillsup.services import audit

    audit.record(admin, "account.changed", learner, "changed the name", {})
    db.session.commit()
    html = login_as(hr_officer).get(f"/hr/staff/{learner.id}").get_data(as_text=True)
    history = html[html.index('id="account-history"') : html.index('id="account"')]
    assert "Person&#39;s details changed" in history and "account.changed" not in history


def test_an_empty_staff_directory_points_to_the_invitations(login_as, hr_officer, make):
    client = login_as(hr_officer)
    html = client.get("/hr/staff").get_data(as_text=True)
    assert "None of your company's staff is on the portal yet." in html
    assert '<a href="/hr/staff/invite">Invite an employee</a>' in html
    assert '<a href="/hr/staff/import">Invite staff from a CSV file</a>' in html
    make.user(company=hr_officer.company)
    html = client.get("/hr/staff?q=nobody-is-called-this").get_data(as_text=True)
    assert "No employee matches these filters." in html
    assert '<a href="/hr/staff">Clear the filters</a>' in html


def test_an_empty_class_list_for_hr_points_to_the_catalogue(login_as, hr_officer):
    client = login_as(hr_officer)
    html = client.get("/hr/classes").get_data(as_text=True)
    assert "No class is open for enrolment at the moment." in html
    assert '<a href="/courses">Browse the course catalogue</a>' in html
    html = client.get("/hr/classes?q=nothing-is-called-this").get_data(as_text=True)
    assert '<a href="/hr/classes">Show every class open for enrolment</a>' in html


def test_admin_course_and_company_pages_point_to_their_forms(login_as, admin, make):
    client = login_as(admin)
    company = make.company()
    html = client.get(f"/admin/companies/{company.id}").get_data(as_text=True)
    assert '<a href="#add-quota">Add a quota with the form below.</a>' in html
    assert 'id="add-quota"' in html
    course = make.course(title_zh=None)
    html = client.get(f"/admin/courses/{course.id}").get_data(as_text=True)
    create = f'<a href="/admin/classes/new?course_id={course.id}">'
    assert f"{create}Create a class of this course</a>" in html
    assert f'<a href="/admin/courses/{course.id}/edit">Write it on the edit page</a>' in html


def test_a_class_without_learners_sends_the_trainer_to_the_roster(login_as, trainer, make):
    course_class = make.course_class(sessions=1, trainers=[trainer])
    client = login_as(trainer)
    roster = f'<a href="/trainer/classes/{course_class.code}">'
    roster += "See the roster for how learners join</a>"
    session_id = course_class.sessions[0].id
    for url in (
        f"/trainer/classes/{course_class.code}/results",
        f"/trainer/classes/{course_class.code}/sessions/{session_id}/attendance",
    ):
        html = client.get(url).get_data(as_text=True)
        assert "No learner is confirmed in this class." in html and roster in html, url
