"""The admin's funding pages: the list of schemes, a scheme's versions and classes, its names,
changing its figures from a date (with the confirmation of the classes it applies to),
creating a scheme, and a class's own schemes; hostile input gets form errors and saves
nothing."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
    AuditEntry,
    ClassStatus,
    CourseClass,
    FundingScheme,
    FundingSchemeVersion,
)
from skillsup.services import funding_schemes
from skillsup.services.funding_figures import CEF, COMPANY, ERB, NITTP
from skillsup.timeutil import today_hk

from .queries import page_queries

ZH = {"Accept-Language": "zh-HK"}


@pytest.fixture
def schemes(app):
    schemes = funding_schemes.ensure_published_schemes()
    db.session.commit()
    return schemes


@pytest.fixture
def admin_client(admin, login_as):
    return login_as(admin)


def _text(response: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def _class_on(make, course, day: date, **fields):
    return make.course_class(
        course=course, first_session=datetime(day.year, day.month, day.day, 2, tzinfo=UTC), **fields
    )


def _versions(scheme: FundingScheme) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(FundingSchemeVersion)
            .where(FundingSchemeVersion.scheme_id == scheme.id)
        )
        or 0
    )


def _figures(**overrides: Any) -> dict[str, str]:
    """The figures form as the CEF's figures fill it, with ``overrides``."""
    values = {
        "effective_from": (today_hk() + timedelta(days=30)).isoformat(),
        "min_attendance_pct": "75",
        "class_rules_apply": "y",
        "assessment_required": "y",
        "pass_mark_pct": "50",
        "subsidy_kind": "co_payment_tiers",
        "first_tier_limit": "10000",
        "first_tier_co_payment_pct": "20",
        "later_co_payment_pct": "40",
        "fee_share_numerator": "",
        "fee_share_denominator": "",
        "person_lifetime_cap": "25000",
        "company_cap_per_year": "",
        "year_starts_month": "4",
        "note_en": "From next month.",
        "note_zh": "",
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


# The list and a scheme's page ----------------------------------------------------------------


def test_the_list_shows_each_scheme_with_who_is_paid_and_the_figures_in_force(
    schemes, admin_client
):
    page = _text(admin_client.get("/admin/funding"))
    for code in (CEF, NITTP, ERB, COMPANY):
        assert code in page
    assert "Continuing Education Fund" in page
    assert "The company" in page and "The learner" in page
    assert "2/3 of the fee" in page
    assert "70 %" in page
    chinese = _text(admin_client.get("/admin/funding", headers=ZH))
    assert "持續進修基金" in chinese
    assert "資助計劃" in chinese


def test_the_admin_menu_leads_to_the_funding_schemes(schemes, admin_client):
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/funding"' in page


def test_a_schemes_page_shows_its_versions_and_the_classes_under_each(
    make, admin, schemes, admin_client
):
    cef = schemes[CEF]
    today = today_hk()
    course = make.course(funding_schemes=[cef])
    earlier = _class_on(make, course, today - timedelta(days=40), status=ClassStatus.RUNNING)
    later = _class_on(make, course, today + timedelta(days=60))
    funding_schemes.change_figures(
        admin,
        cef,
        funding_schemes.SchemeFigures.of(cef.versions[0]).__class__(
            **{**vars(funding_schemes.SchemeFigures.of(cef.versions[0])), "min_attendance_pct": 90}
        ),
        today + timedelta(days=30),
    )
    db.session.commit()
    response = admin_client.get(f"/admin/funding/{cef.id}")
    assert response.status_code == 200
    page = _text(response)
    planned = page.index("Planned")
    in_force = page.index("In force")
    assert planned < page.index(later.code) < in_force < page.index(earlier.code)
    assert "90 %" in page and "70 %" in page
    assert "changed the figures of CEF" in page or "CEF" in page


def test_the_pages_run_a_fixed_number_of_queries(make, schemes, admin_client):
    cef = schemes[CEF]
    course = make.course(funding_schemes=[cef])
    _class_on(make, course, today_hk() + timedelta(days=10))
    db.session.commit()
    _, few = page_queries(admin_client, f"/admin/funding/{cef.id}")
    _, list_few = page_queries(admin_client, "/admin/funding")
    for n in range(6):
        _class_on(make, make.course(funding_schemes=[cef]), today_hk() + timedelta(days=20 + n))
    db.session.commit()
    _, many = page_queries(admin_client, f"/admin/funding/{cef.id}")
    _, list_many = page_queries(admin_client, "/admin/funding")
    assert len(many) == len(few)
    assert len(list_many) == len(list_few)


def test_an_unknown_scheme_is_not_found(schemes, admin_client):
    assert admin_client.get("/admin/funding/999999").status_code == 404
    assert admin_client.get("/admin/funding/999999/figures").status_code == 404
    assert admin_client.post("/admin/funding/999999/edit").status_code == 404


# Names -----------------------------------------------------------------------------------------


def test_an_admin_renames_a_scheme_and_stops_offering_it(schemes, admin_client):
    erb = schemes[ERB]
    form = admin_client.get(f"/admin/funding/{erb.id}/edit")
    assert "Employees Retraining Board course" in _text(form)
    response = admin_client.post(
        f"/admin/funding/{erb.id}/edit",
        data={"name_en": "ERB course", "name_zh": "僱員再培訓局"},
    )
    assert response.status_code == 302
    db.session.refresh(erb)
    assert (erb.name_en, erb.name_zh, erb.is_active) == ("ERB course", "僱員再培訓局", False)
    page = _text(admin_client.get(response.headers["Location"]))
    assert "The changes to ERB have been saved." in page
    assert "Not offered" in page
    again = admin_client.post(
        f"/admin/funding/{erb.id}/edit",
        data={"name_en": "ERB course", "name_zh": "僱員再培訓局"},
        follow_redirects=True,
    )
    assert "Nothing was changed." in _text(again)


def test_a_scheme_needs_its_english_name(schemes, admin_client):
    erb = schemes[ERB]
    response = admin_client.post(f"/admin/funding/{erb.id}/edit", data={"name_en": "  "})
    assert response.status_code == 200
    assert "Enter the English name." in _text(response)
    db.session.refresh(erb)
    assert erb.name_en == "Employees Retraining Board course"


# Changing the figures --------------------------------------------------------------------------


def test_the_figures_form_starts_from_the_figures_in_force(schemes, admin_client):
    nittp = schemes[NITTP]
    page = admin_client.get(f"/admin/funding/{nittp.id}/figures").get_data(as_text=True)
    assert re.search(r'<option selected value="share_of_fee">', page)
    assert re.search(r'name="fee_share_numerator"[^>]*value="2"', page)
    assert re.search(r'name="company_cap_per_year"[^>]*value="500000.00"', page)
    assert re.search(rf'name="effective_from"[^>]*value="{today_hk().isoformat()}"', page)


def test_changing_the_figures_lists_the_classes_first_and_then_saves_a_version(
    make, schemes, admin_client
):
    cef = schemes[CEF]
    today = today_hk()
    course = make.course(funding_schemes=[cef])
    started = _class_on(make, course, today - timedelta(days=3), status=ClassStatus.RUNNING)
    taking = _class_on(make, course, today + timedelta(days=45))
    own = _class_on(make, make.course(), today + timedelta(days=50), funding_override=True)
    own.funding_schemes = [cef]
    db.session.commit()
    url = f"/admin/funding/{cef.id}/figures"
    preview = admin_client.post(url, data=_figures())
    assert preview.status_code == 200
    page = _text(preview)
    assert "What the change does" in page
    assert taking.code in page and own.code in page
    assert started.code not in page
    assert "It applies to 2 classes" in page
    assert _versions(cef) == 1  # nothing saved yet
    # The confirmation carries the figures back.
    body = preview.get_data(as_text=True)
    assert 'name="confirmed" type="hidden" value="1"' in body or 'value="1"' in body
    done = admin_client.post(url, data=_figures(confirmed="1"))
    assert done.status_code == 302
    assert _versions(cef) == 2
    version = db.session.scalar(
        select(FundingSchemeVersion)
        .where(FundingSchemeVersion.scheme_id == cef.id)
        .order_by(FundingSchemeVersion.effective_from.desc())
        .limit(1)
    )
    assert version is not None
    assert version.effective_from == today + timedelta(days=30)
    assert version.min_attendance_pct == 75
    assert version.note_en == "From next month."
    assert db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "funding_scheme.figures_changed")
    )
    shown = _text(admin_client.get(done.headers["Location"]))
    assert "have been saved" in shown


def test_the_confirmation_goes_back_to_the_form_with_the_figures_typed(schemes, admin_client):
    cef = schemes[CEF]
    response = admin_client.post(
        f"/admin/funding/{cef.id}/figures", data=_figures(min_attendance_pct="77", back="1")
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "See what the change does" in page
    assert re.search(r'name="min_attendance_pct"[^>]*value="77"', page)
    assert _versions(cef) == 1


def test_the_same_figures_change_nothing(schemes, admin_client):
    erb = schemes[ERB]
    same = {
        "effective_from": today_hk().isoformat(),
        "min_attendance_pct": "80",
        "subsidy_kind": "none",
        "year_starts_month": "4",
        "note_en": "At least 80 % attendance.",
        "note_zh": "出席率最少80%。",
    }
    response = admin_client.post(f"/admin/funding/{erb.id}/figures", data=same)
    assert response.status_code == 200
    assert "there is nothing to change" in _text(response)
    assert "Save the new figures" not in _text(response)
    assert _versions(erb) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"min_attendance_pct": "101"}, "Enter a whole number from 0 to 100."),
        ({"min_attendance_pct": "-1"}, "Enter a whole number from 0 to 100."),
        (
            {"later_co_payment_pct": "100.5"},
            "Enter a percentage from 0 to 100, with at most two decimals.",
        ),
        (
            {"pass_mark_pct": "50.123"},
            "Enter a percentage from 0 to 100, with at most two decimals.",
        ),
        ({"first_tier_limit": "1e30"}, "Enter a number from"),
        ({"first_tier_limit": "NaN"}, "Enter a number from"),
        ({"person_lifetime_cap": "99999999999999"}, "Enter a number from"),
        ({"first_tier_limit": "-5"}, "Enter an amount in Hong Kong dollars"),
        ({"first_tier_limit": ""}, "Enter an amount in Hong Kong dollars"),
        ({"min_attendance_pct": "99999999999999999999999"}, "Enter a whole number from 0 to 100."),
        ({"effective_from": "2026-02-30"}, "Enter a date such as 2025-09-01."),
        ({"effective_from": "yesterday"}, "Enter a date such as 2025-09-01."),
        ({"effective_from": "99999-01-01"}, "Enter a date such as 2025-09-01."),
        (
            {"effective_from": (today_hk() - timedelta(days=3)).isoformat()},
            "New figures apply from today or a later date",
        ),
        ({"subsidy_kind": "everything"}, "Not a valid choice."),
        ({"year_starts_month": "13"}, "Not a valid choice."),
        ({"note_en": "x" * 1001}, "1000"),
        (
            {
                "subsidy_kind": "share_of_fee",
                "fee_share_numerator": "4",
                "fee_share_denominator": "3",
            },
            "Enter a whole number from 0 to 3.",
        ),
    ],
)
@pytest.mark.parametrize("confirmed", ["", "1"])
def test_figures_out_of_range_are_form_errors_and_save_nothing(
    schemes, admin_client, overrides, message, confirmed
):
    cef = schemes[CEF]
    response = admin_client.post(
        f"/admin/funding/{cef.id}/figures", data=_figures(confirmed=confirmed, **overrides)
    )
    assert response.status_code in (200, 400, 422)
    page = _text(response)
    assert message in page, page[page.find("<main") : page.find("<main") + 3000]
    assert "See what the change does" in page  # the form again
    assert _versions(cef) == 1


def test_a_nul_byte_is_refused_with_a_message(schemes, admin_client):
    cef = schemes[CEF]
    response = admin_client.post(
        f"/admin/funding/{cef.id}/figures", data=_figures(note_en="a\x00b", confirmed="1")
    )
    assert response.status_code == 400
    assert "not allowed" in _text(response)
    assert _versions(cef) == 1


def test_form_errors_in_chinese(schemes, admin_client):
    cef = schemes[CEF]
    response = admin_client.post(
        f"/admin/funding/{cef.id}/figures",
        data=_figures(effective_from="2026-02-30", min_attendance_pct="101"),
        headers=ZH,
    )
    page = _text(response)
    assert "Enter a" not in page
    assert "更改" in page


# Creating a scheme ---------------------------------------------------------------------------


def _new_scheme(**overrides: Any) -> dict[str, str]:
    values = {
        "code": "rtts",
        "name_en": "Reindustrialisation training",
        "name_zh": "再工業化培訓",
        "paid_to": "company",
        "is_active": "y",
        **_figures(
            effective_from="2020-01-01",
            subsidy_kind="share_of_fee",
            fee_share_numerator="1",
            fee_share_denominator="2",
            min_attendance_pct="80",
        ),
    }
    values.update(overrides)
    return values


def test_an_admin_creates_a_scheme(schemes, admin_client):
    assert "Create the scheme" in _text(admin_client.get("/admin/funding/new"))
    response = admin_client.post("/admin/funding/new", data=_new_scheme())
    assert response.status_code == 302
    scheme = funding_schemes.scheme_by_code("RTTS")
    assert scheme is not None
    assert scheme.paid_to.value == "company"
    version = scheme.versions[0]
    assert (version.fee_share_numerator, version.fee_share_denominator) == (1, 2)
    assert version.first_tier_limit is None  # a share of the fee uses no tiers
    assert version.effective_from == date(2020, 1, 1)
    page = _text(admin_client.get(response.headers["Location"]))
    assert "Funding scheme RTTS has been created." in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": "CEF"}, "Another scheme has this code."),
        ({"code": "A B"}, "Use 1 to 20 capital letters, digits and hyphens."),
        ({"code": "X" * 21}, "Field cannot be longer than 20 characters."),
        ({"name_en": ""}, "This field is required."),
        ({"paid_to": "me"}, "Not a valid choice."),
        ({"fee_share_denominator": "0"}, "Enter a whole number from 1 to 1000."),
        ({"effective_from": "2025-13-01"}, "Enter a date such as 2025-09-01."),
    ],
)
def test_a_new_scheme_with_bad_input_is_not_created(schemes, admin_client, overrides, message):
    before = db.session.scalar(select(func.count()).select_from(FundingScheme))
    response = admin_client.post("/admin/funding/new", data=_new_scheme(**overrides))
    assert response.status_code in (200, 400, 422)
    assert message in _text(response)
    assert db.session.scalar(select(func.count()).select_from(FundingScheme)) == before


# A class's schemes ---------------------------------------------------------------------------


def _class_form(course_class: CourseClass, **overrides: Any) -> dict[str, Any]:
    from skillsup.timeutil import to_hk

    def local(value: datetime) -> str:
        return to_hk(value).strftime("%Y-%m-%dT%H:%M")

    values: dict[str, Any] = {
        "course_id": str(course_class.course_id),
        "code": course_class.code,
        "venue": course_class.venue or "",
        "capacity": str(course_class.capacity),
        "starts_on": course_class.starts_on.isoformat(),
        "ends_on": course_class.ends_on.isoformat(),
        "enrolment_opens_at": local(course_class.enrolment_opens_at),
        "enrolment_closes_at": local(course_class.enrolment_closes_at),
        "withdrawal_deadline_at": local(course_class.withdrawal_deadline_at),
        "min_attendance_pct": str(course_class.min_attendance_pct),
        "funding": "course",
    }
    values.update(overrides)
    return values


def test_a_class_takes_its_own_schemes_or_its_courses(make, schemes, admin_client):
    course = make.course(funding_schemes=[schemes[CEF]])
    course_class = make.course_class(course=course)
    db.session.commit()
    page = _text(admin_client.get(f"/admin/classes/{course_class.id}"))
    assert "Funding" in page and "Continuing Education Fund" in page and "as the course" in page
    url = f"/admin/classes/{course_class.id}/edit"
    form = admin_client.get(url).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="course"', form)
    own = _class_form(
        course_class,
        funding="own",
        funding_schemes=[str(schemes[ERB].id), str(schemes[NITTP].id)],
    )
    response = admin_client.post(url, data=own)
    assert response.status_code == 302, _text(response)
    db.session.refresh(course_class)
    assert course_class.funding_override
    assert {s.code for s in course_class.funding_schemes} == {ERB, NITTP}
    page = _text(admin_client.get(f"/admin/classes/{course_class.id}"))
    assert "Class " in page and "has been updated" in page
    assert "this class's own" in page
    none = admin_client.post(url, data=_class_form(course_class, funding="own"))
    assert none.status_code == 302
    db.session.refresh(course_class)
    assert course_class.funding_override and course_class.funding_schemes == []
    assert "None" in _text(admin_client.get(f"/admin/classes/{course_class.id}"))
    back = admin_client.post(url, data=_class_form(course_class, funding="course"))
    assert back.status_code == 302
    db.session.refresh(course_class)
    assert not course_class.funding_override


def test_a_new_class_can_have_its_own_schemes(make, schemes, admin_client, trainer):
    course = make.course(funding_schemes=[schemes[CEF]])
    template = make.course_class(course=course)
    db.session.commit()
    data = _class_form(
        template,
        code="SU-NEW-2099A",
        funding="own",
        funding_schemes=[str(schemes[COMPANY].id)],
    )
    response = admin_client.post("/admin/classes/new", data=data)
    assert response.status_code == 302, _text(response)
    created = db.session.scalar(select(CourseClass).where(CourseClass.code == "SU-NEW-2099A"))
    assert created is not None and created.funding_override
    assert [s.code for s in created.funding_schemes] == [COMPANY]


def test_a_class_cannot_take_a_scheme_no_longer_offered(make, admin, schemes, admin_client):
    erb = schemes[ERB]
    erb.is_active = False
    course_class = make.course_class(course=make.course())
    db.session.commit()
    response = admin_client.post(
        f"/admin/classes/{course_class.id}/edit",
        data=_class_form(course_class, funding="own", funding_schemes=[str(erb.id)]),
    )
    assert response.status_code == 200
    assert "ERB is no longer offered." in _text(response)
    db.session.refresh(course_class)
    assert not course_class.funding_override


def test_a_class_scheme_that_is_not_a_number_is_a_form_error(make, schemes, admin_client):
    course_class = make.course_class(course=make.course())
    db.session.commit()
    response = admin_client.post(
        f"/admin/classes/{course_class.id}/edit",
        data=_class_form(course_class, funding="own", funding_schemes=["x"]),
    )
    assert response.status_code == 200
    db.session.refresh(course_class)
    assert not course_class.funding_override


@pytest.mark.parametrize(
    ("typed", "refused"),
    [
        ("1e30", False),
        ("123456789012345678901234567890.5", False),
        ("123456789012345678901234567890.125", True),
        ("12.345", True),
        ("12.30", False),
    ],
)
def test_decimal_places_judges_numbers_too_long_to_round(app, typed, refused):
    # Rounding 1e30 to cents overflows the decimal context; the check must answer, not raise.
    from decimal import Decimal

    from wtforms.validators import ValidationError

    from skillsup.admin.course_forms import DecimalPlaces

    class Field:
        data = Decimal(typed)

    check = DecimalPlaces(2, "at most two decimals")
    if refused:
        with pytest.raises(ValidationError):
            check(None, Field())
    else:
        check(None, Field())
