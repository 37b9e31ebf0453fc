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
