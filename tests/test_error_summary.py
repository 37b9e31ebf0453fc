"""Every form error is listed at the top of its form, each linked to its field.

Bad input posted to a representative set of forms: the page shows the summary under its
heading, lists each field's error with a link to ``#<field id>`` (an element that is on the
page), lists errors tied to no field without a link, and the fields keep their own errors
(tied to them by ``aria-describedby``). The security walk (tests/security/test_fuzz.py) checks
the same on every page that hostile input gets a form error on.
"""

from __future__ import annotations

import re
from typing import Any

from .error_summary import summary_of


def _check(html: str) -> Any:
    summary = summary_of(html)
    assert summary.shown, "no error summary on the page"
    assert summary.problems() == []
    assert summary.field_errors, "no field shows its own error"
    # Each field's own error is listed in the summary under the same words, and the field
    # points at its own error.
    for error_id in summary.field_errors:
        field_id = error_id.removesuffix("-error")
        inline = re.search(rf'<p class="field-error" id="{re.escape(error_id)}">(.*?)</p>', html)
        assert inline is not None
        listed = [text for target, text in summary.links if target == field_id]
        assert listed, field_id
        # Listed as "<label>: <error>" (the summary is read away from the field).
        for text in listed:
            assert re.split(": |：", text, maxsplit=1)[-1] in inline.group(1), text
        assert re.search(rf'aria-describedby="[^"]*\b{re.escape(error_id)}\b', html), error_id
    return summary


def test_login_lists_its_errors(client):
    # The e-mail step: its one box.
    response = client.post("/login", data={"email": "", "password": ""})
    summary = _check(response.get_data(as_text=True))
    assert summary.headings == ["There is a problem"]
    assert {target for target, _ in summary.links} == {"email"}
    # The password step, which shows the address as text: the password's box.
    response = client.post(
        "/login", data={"email": "amy.chan@harbour-it.test", "password": "", "step": "password"}
    )
    summary = _check(response.get_data(as_text=True))
    assert summary.headings == ["There is a problem"]
    assert {target for target, _ in summary.links} == {"password"}


def test_register_lists_each_field_error(client, company):
    response = client.post(
        "/register", data={"name": "", "email": "not an address", "password": "x", "confirm": "y"}
    )
    summary = _check(response.get_data(as_text=True))
    assert {"name", "email"} <= {target for target, _ in summary.links}


def test_the_summary_is_in_chinese_in_the_chinese_interface(client):
    response = client.post(
        "/login", data={"email": "", "password": ""}, headers={"Accept-Language": "zh-HK"}
    )
    summary = _check(response.get_data(as_text=True))
    assert summary.headings == ["有問題需要處理"]


def test_admin_forms_list_their_errors(login_as, admin, make):
    client = login_as(admin)
    course = make.course()
    course_class = make.course_class(course=course)
    cases = [
        (
            "/admin/users/invite",
            {"name": "", "email": "nope", "role": "learner"},
            {"name", "email"},
        ),
        (f"/admin/courses/{course.id}/edit", {"code": "", "title_en": ""}, {"code", "title_en"}),
        (f"/admin/classes/{course_class.id}/edit", {"capacity": "many"}, {"capacity"}),
    ]
    for url, data, expected in cases:
        response = client.post(url, data=data)
        assert response.status_code in (200, 400, 409, 422), (url, response.status_code)
        summary = _check(response.get_data(as_text=True))
        assert expected <= {target for target, _ in summary.links}, url


def test_hr_invite_lists_its_errors(login_as, hr_officer):
    client = login_as(hr_officer)
    response = client.post("/hr/staff/invite", data={"name": "", "email": ""})
    summary = _check(response.get_data(as_text=True))
    assert {"name", "email"} <= {target for target, _ in summary.links}


def test_a_form_wide_error_is_listed_without_a_link(client, learner):
    response = client.post("/login", data={"email": learner.email, "password": "wrong password"})
    html = response.get_data(as_text=True)
    summary = summary_of(html)
    assert summary.shown
    assert summary.unlinked and not summary.links
    assert summary.problems() == []


def test_a_filter_with_a_bad_value_lists_it_at_the_top(client):
    response = client.get("/courses?sort=nonsense")
    summary = _check(response.get_data(as_text=True))
    assert [target for target, _ in summary.links] == ["sort"]


def test_a_form_in_a_section_has_a_heading_under_the_section_s(login_as, learner):
    client = login_as(learner)
    response = client.post(
        "/account/password", data={"current_password": "", "password": "", "confirm": ""}
    )
    html = response.get_data(as_text=True)
    _check(html)
    assert '<h3 class="error-summary-title">' in html
