"""The main menu marks the section of the current page (aria-current) for every role, folds
behind a Menu button without JavaScript, and lists each role's entries from one place."""

from __future__ import annotations

import re
from typing import Any

import pytest

from skillsup.models import Role
from skillsup.web import MENUS

NAV = re.compile(r'<nav aria-label="Main" class="main-nav[^"]*">(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]*)"( aria-current="page")?>(?:<svg [^>]*>.*?</svg>)?([^<]*)</a>')


def _menu(client: Any, path: str) -> list[tuple[str, str, bool]]:
    """The main menu of the page at ``path``: each entry's address, label and currentness."""
    response = client.get(path)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    found = NAV.search(response.get_data(as_text=True))
    assert found, f"{path} has no main menu"
    return [(href, label.strip(), bool(current)) for href, current, label in LINK.findall(found[1])]


def _current(client: Any, path: str) -> list[str]:
    return [label for _href, label, current in _menu(client, path) if current]


ADMIN_PAGES = [
    ("/admin/", "Admin"),
    ("/admin/audit", "Admin"),
    ("/admin/courses", "Manage courses"),
    ("/admin/courses/new", "Manage courses"),
    ("/admin/classes", "Classes"),
    ("/admin/companies/new", "Companies"),
    ("/admin/users", "Users"),
    ("/admin/users/invite", "Users"),
    ("/admin/funding", "Funding"),
    ("/admin/funding/new", "Funding"),
    ("/courses", "Courses"),
]

HR_PAGES = [
    ("/hr/", "Dashboard"),
    ("/hr/audit", "Dashboard"),
    ("/hr/approvals", "Approvals"),
    ("/hr/staff", "Staff"),
    ("/hr/staff/invite", "Staff"),
    ("/hr/staff/import", "Staff"),
    ("/hr/classes", "Classes"),
    ("/hr/nominations/import", "Classes"),
    ("/hr/progress", "Progress"),
    ("/hr/reports", "Reports"),
    ("/hr/certificates", "Reports"),
    ("/hr/webhooks", "Reports"),
    ("/hr/webhooks/new", "Reports"),
    ("/hr/funding", "Funding"),
    ("/hr/funding/claims", "Funding"),
    ("/hr/value", "Funding"),
    ("/courses", "Courses"),
]


@pytest.mark.parametrize(("path", "label"), ADMIN_PAGES)
def test_admin_menu_marks_the_current_section(client, login_as, admin, path, label):
    login_as(admin)
    assert _current(client, path) == [label]


@pytest.mark.parametrize(("path", "label"), HR_PAGES)
def test_hr_menu_marks_the_current_section(client, login_as, hr_officer, path, label):
    login_as(hr_officer)
    assert _current(client, path) == [label]


def test_admin_pages_of_one_object_mark_their_section(client, login_as, admin, make):
    course = make.course(code="SU-NAV-101")
    cls = make.course_class(course=course)
    login_as(admin)
    assert _current(client, f"/admin/courses/{course.id}/edit") == ["Manage courses"]
    assert _current(client, f"/admin/classes/{cls.id}") == ["Classes"]
    assert _current(client, f"/admin/users/{admin.id}") == ["Users"]


def test_learner_and_trainer_menus_mark_their_pages(client, login_as, learner, make):
    login_as(learner)
    assert _current(client, "/my-learning") == ["My learning"]
    course = make.course(code="SU-NAV-201")
    assert _current(client, f"/courses/{course.code}") == ["Courses"]
    # The account page is not in the menu: nothing there is current, the name link is.
    assert _current(client, "/account") == []
    body = client.get("/account").get_data(as_text=True)
    assert re.search(r'class="account-link" aria-current="page"', body)
    assert 'class="account-link" aria-current' not in client.get("/my-learning").get_data(
        as_text=True
    )


def test_trainer_menu_marks_my_classes(client, login_as, trainer):
    login_as(trainer)
    assert _current(client, "/trainer/") == ["My classes"]


def test_pages_outside_the_menu_mark_nothing(client):
    assert _current(client, "/") == []
    assert _current(client, "/login") == []
    assert _current(client, "/courses") == ["Courses"]


def test_each_role_sees_its_entries_in_order(client, login_as, admin, hr_officer):
    for user, role in ((admin, Role.ADMIN), (hr_officer, Role.HR)):
        login_as(user)
        labels = [label for _href, label, _current in _menu(client, "/courses")]
        assert labels == ["Courses"] + [str(entry.label) for entry in MENUS[role]]
        client.post("/logout", data={})


def test_menu_folds_behind_a_button_that_needs_no_javascript(client, login_as, hr_officer):
    login_as(hr_officer)
    body = client.get("/hr/").get_data(as_text=True)
    menu = re.search(
        r'<details class="site-menu">\s*<summary class="menu-button">(.*?)</details>', body, re.S
    )
    assert menu, "the menu is not folded in a <details> element"
    assert "Menu</summary>" in menu[1]
    assert 'aria-label="Main"' in menu[1] and "Log out" in menu[1]
    # The language switch stays outside the fold, one tap away on a phone.
    assert 'class="language-switch"' not in menu[1]


def test_menu_is_translated(client, login_as, admin):
    login_as(admin)
    client.post("/language", data={"lang": "zh_Hant_HK", "next": "/admin/companies"})
    body = client.get("/admin/companies").get_data(as_text=True)
    assert "選單</summary>" in body
    assert re.search(r'aria-current="page">(?:<svg [^>]*>.*?</svg>)?企業</a>', body)
