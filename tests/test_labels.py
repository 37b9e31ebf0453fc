"""The human names of the portal's enum values: each enumeration keeps its own."""

from __future__ import annotations

import enum
import itertools
import re

import pytest
from flask_babel import force_locale

from skillsup.admin.forms import InviteUserForm, UserFilterForm
from skillsup.labels import LABELS, LABELS_BY_ENUM, label, translated_labels
from skillsup.models import EnrolmentSource, Role

ROLE_NAMES = {
    "en": {
        Role.LEARNER: "Learner",
        Role.HR: "HR officer",
        Role.TRAINER: "Trainer",
        Role.ADMIN: "Admin",
    },
    "zh_Hant_HK": {
        Role.LEARNER: "學員",
        Role.HR: "人力資源主任",
        Role.TRAINER: "導師",
        Role.ADMIN: "管理員",
    },
}


def _label_enums() -> list[type[enum.Enum]]:
    return list(LABELS_BY_ENUM)


@pytest.mark.parametrize("enum_class", _label_enums(), ids=lambda e: e.__name__)
def test_every_member_of_each_enumeration_has_its_own_label(app, enum_class):
    with app.test_request_context():
        for locale in ("en", "zh_Hant_HK"):
            with force_locale(locale):
                names = [label(member) for member in enum_class]
                assert all(names), (locale, names)
                # Distinct within the enumeration: two members never read alike.
                assert len(set(names)) == len(names), (locale, names)


def test_equal_members_of_two_enumerations_keep_their_own_labels(app):
    """StrEnum members with one value are equal and hash alike: one dict keyed by members
    gave Role.ADMIN the label of EnrolmentSource.ADMIN ("Added by the institute")."""
    pairs = [
        (a, b)
        for first, second in itertools.combinations(_label_enums(), 2)
        for a in first
        for b in second
        if a == b
    ]
    assert any(a is Role.ADMIN or b is Role.ADMIN for a, b in pairs)
    with app.test_request_context():
        for a, b in pairs:
            assert LABELS[a] is LABELS_BY_ENUM[type(a)][a]
            assert LABELS[b] is LABELS_BY_ENUM[type(b)][b]
            assert translated_labels()[a] == str(LABELS_BY_ENUM[type(a)][a])
            assert translated_labels()[b] == str(LABELS_BY_ENUM[type(b)][b])
        assert label(Role.ADMIN) == "Admin"
        assert label(EnrolmentSource.ADMIN) == "Added by the institute"


@pytest.mark.parametrize("locale", ["en", "zh_Hant_HK"])
def test_the_role_labels_say_what_each_role_is(app, locale):
    with app.test_request_context(), force_locale(locale):
        assert {role: label(role) for role in Role} == ROLE_NAMES[locale]
        invite = InviteUserForm(meta={"csrf": False})
        assert [str(choice.label) for choice in invite.role.choices] == [
            ROLE_NAMES[locale][role] for role in Role
        ]
        role_filter = UserFilterForm()
        assert [str(choice.label) for choice in role_filter.role.choices][1:] == [
            ROLE_NAMES[locale][role] for role in Role
        ]


def test_a_plain_string_has_no_label_of_an_enumeration(app):
    with app.test_request_context():
        assert "admin" not in LABELS
        assert Role.ADMIN in LABELS


@pytest.mark.parametrize(("language", "admin_name"), [("en", "Admin"), ("zh-HK", "管理員")])
def test_admins_are_called_admins_on_the_user_list_and_the_admin_home(
    admin, login_as, language, admin_name
):
    client = login_as(admin)
    headers = {"Accept-Language": language}
    users = client.get("/admin/users", headers=headers).get_data(as_text=True)
    source = "Added by the institute" if language == "en" else "由學院加入"
    assert source not in users
    assert re.search(rf"<td[^>]*>{admin_name}</td>", users)
    assert f'<option value="admin">{admin_name}</option>' in users
    invite = client.get("/admin/users/invite", headers=headers).get_data(as_text=True)
    assert source not in invite
    assert f'<option value="admin">{admin_name}</option>' in invite
    home = client.get("/admin/", headers=headers).get_data(as_text=True)
    assert source not in home
    assert f"<li>{admin_name}: 1</li>" in home
