"""Funding schemes as data: versions of their figures, and the schemes courses and classes run
under."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from skillsup.audit_text import readable_entries
from skillsup.extensions import db
from skillsup.models import AuditEntry, ClassStatus, FundingPayee, SubsidyKind
from skillsup.services import funding_schemes
from skillsup.services.classes import ClassLocked
from skillsup.services.errors import PermissionDenied, ValidationFailed
from skillsup.services.funding_figures import CEF, ERB, NITTP, SchemeFigures
from skillsup.services.funding_schemes import SchemeDetails, class_funding

TODAY = date(2030, 1, 10)


@pytest.fixture
def schemes(app):
    schemes = funding_schemes.ensure_published_schemes()
    db.session.commit()
    return schemes


def _class_on(make, course, day: date, **fields):
    return make.course_class(
        course=course, first_session=datetime(day.year, day.month, day.day, 2, tzinfo=UTC), **fields
    )


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_installing_the_published_schemes_twice_changes_nothing(schemes):
    again = funding_schemes.ensure_published_schemes()
    assert {code: s.id for code, s in again.items()} == {code: s.id for code, s in schemes.items()}
    listed = funding_schemes.scheme_list()
    assert [s.code for s in listed] == ["CEF", "COMPANY", "ERB", "NITTP"]
    assert all(len(s.versions) == 1 for s in listed)
    cef = schemes[CEF].versions[0]
    assert (cef.min_attendance_pct, cef.pass_mark_pct, cef.person_lifetime_cap) == (
        70,
        Decimal("50.00"),
        Decimal("25000.00"),
    )
    assert cef.effective_from == date(2022, 8, 1)
    assert schemes[NITTP].paid_to is FundingPayee.COMPANY


def test_new_figures_apply_to_classes_starting_from_their_date_only(make, admin, schemes):
    course = make.course(funding_schemes=[schemes[CEF]])
    started = _class_on(make, course, date(2030, 1, 6), status=ClassStatus.RUNNING)
    on_the_day = _class_on(make, course, TODAY)
    later = _class_on(make, course, date(2030, 3, 2))
    figures = replace(SchemeFigures.of(schemes[CEF].versions[0]), min_attendance_pct=75)

    assert [c.id for c in funding_schemes.classes_taking_version(schemes[CEF], TODAY)] == [
        on_the_day.id,
        later.id,
    ]
    version = funding_schemes.change_figures(admin, schemes[CEF], figures, today=TODAY)
    db.session.commit()

    assert version.effective_from == TODAY
    funding = class_funding([started.id, on_the_day.id, later.id])
    assert funding[started.id][0].version.min_attendance_pct == 70
    assert funding[on_the_day.id][0].version.min_attendance_pct == 75
    assert funding[later.id][0].version.min_attendance_pct == 75
    assert _actions() == ["funding_scheme.figures_changed"]
    [entry] = db.session.scalars(select(AuditEntry))
    assert entry.details["min_attendance_pct"] == "70 → 75"


def test_a_planned_version_ends_the_one_before_it(make, admin, schemes):
    course = make.course(funding_schemes=[schemes[CEF]])
    march = _class_on(make, course, date(2030, 3, 2))
    june = _class_on(make, course, date(2030, 6, 2))
    figures = SchemeFigures.of(schemes[CEF].versions[0])
    funding_schemes.change_figures(
        admin, schemes[CEF], replace(figures, min_attendance_pct=90), date(2030, 6, 1), today=TODAY
    )
    funding_schemes.change_figures(
        admin, schemes[CEF], replace(figures, min_attendance_pct=80), date(2030, 2, 1), today=TODAY
    )
    db.session.commit()

    funding = class_funding([march.id, june.id])
    assert funding[march.id][0].version.min_attendance_pct == 80
    assert funding[june.id][0].version.min_attendance_pct == 90
    # Only the classes until the next version's date take one from 1 February.
    assert funding_schemes.classes_taking_version(schemes[CEF], date(2030, 2, 1)) == [march]


def test_figures_cannot_change_for_classes_that_have_started(admin, schemes):
    figures = SchemeFigures.of(schemes[CEF].versions[0])
    with pytest.raises(ValidationFailed) as caught:
        funding_schemes.change_figures(admin, schemes[CEF], figures, date(2030, 1, 9), today=TODAY)
    assert caught.value.field == "effective_from"


def test_a_second_change_the_same_day_corrects_that_version(admin, schemes):
    figures = SchemeFigures.of(schemes[ERB].versions[0])
    first = funding_schemes.change_figures(
        admin, schemes[ERB], replace(figures, min_attendance_pct=85), today=TODAY
    )
    second = funding_schemes.change_figures(
        admin, schemes[ERB], replace(figures, min_attendance_pct=90), today=TODAY
    )
    db.session.commit()
    assert second.id == first.id and second.min_attendance_pct == 90
    assert len(schemes[ERB].versions) == 2
    # The same figures again change nothing.
    funding_schemes.change_figures(
        admin, schemes[ERB], replace(figures, min_attendance_pct=90), today=TODAY
    )
    assert _actions() == ["funding_scheme.figures_changed"] * 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_attendance_pct", 101),
        ("min_attendance_pct", -1),
        ("min_attendance_pct", True),
        ("pass_mark_pct", Decimal("100.01")),
        ("pass_mark_pct", "fifty"),
        ("first_tier_limit", None),
        ("first_tier_co_payment_pct", Decimal("20.001")),
        ("later_co_payment_pct", None),
        ("person_lifetime_cap", Decimal("-1")),
        ("year_starts_month", 13),
        ("subsidy_kind", "lottery"),
        ("note_en", "x" * 1001),
    ],
)
def test_figures_out_of_range_are_refused_naming_the_field(admin, schemes, field, value):
    figures = replace(SchemeFigures.of(schemes[CEF].versions[0]), **{field: value})
    with pytest.raises(ValidationFailed) as caught:
        funding_schemes.change_figures(admin, schemes[CEF], figures, today=TODAY)
    assert caught.value.field == field


def test_a_share_of_the_fee_is_a_fraction_at_most_one(admin, schemes):
    figures = SchemeFigures.of(schemes[NITTP].versions[0])
    for numerator, denominator, field in (
        (4, 3, "fee_share_numerator"),
        (1, 0, "fee_share_denominator"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            funding_schemes.change_figures(
                admin,
                schemes[NITTP],
                replace(figures, fee_share_numerator=numerator, fee_share_denominator=denominator),
                today=TODAY,
            )
        assert caught.value.field == field


def test_figures_a_subsidy_does_not_use_are_cleared(admin, schemes):
    figures = replace(
        SchemeFigures.of(schemes[ERB].versions[0]),
        first_tier_limit=Decimal("1"),
        fee_share_numerator=1,
        company_cap_per_year=Decimal("5"),
    )
    version = funding_schemes.change_figures(admin, schemes[ERB], figures, today=TODAY)
    assert version.subsidy_kind is SubsidyKind.NONE
    assert (version.first_tier_limit, version.fee_share_numerator) == (None, None)
    assert version.company_cap_per_year is None


def test_only_admins_change_or_choose_schemes(make, learner, trainer, schemes):
    course = make.course()
    figures = SchemeFigures.of(schemes[CEF].versions[0])
    for actor in (learner, trainer, None):
        with pytest.raises(PermissionDenied):
            funding_schemes.change_figures(actor, schemes[CEF], figures, today=TODAY)
        with pytest.raises(PermissionDenied):
            funding_schemes.set_course_schemes(actor, course, [schemes[CEF].id])


def test_a_course_names_its_schemes_and_its_classes_take_them(make, admin, schemes):
    course = make.course()
    course_class = make.course_class(course=course)
    assert class_funding([course_class.id]) == {course_class.id: []}

    assert funding_schemes.set_course_schemes(admin, course, [schemes[NITTP].id, schemes[CEF].id])
    assert not funding_schemes.set_course_schemes(
        admin, course, [schemes[CEF].id, schemes[NITTP].id]
    )
    db.session.commit()

    assert [cs.scheme.code for cs in class_funding([course_class.id])[course_class.id]] == [
        CEF,
        NITTP,
    ]
    [entry] = db.session.scalars(select(AuditEntry))
    assert entry.action == "course.funding_changed"
    assert entry.details == {"funding_schemes": "— → CEF, NITTP"}


def test_a_class_overrides_and_inherits_again(make, admin, schemes):
    course = make.course(funding_schemes=[schemes[CEF]])
    course_class = make.course_class(course=course)

    assert funding_schemes.set_class_schemes(admin, course_class, [schemes[ERB].id])
    assert funding_schemes.set_class_schemes(admin, course_class, [])
    assert not funding_schemes.set_class_schemes(admin, course_class, [])
    db.session.commit()
    assert class_funding([course_class.id]) == {course_class.id: []}
    assert funding_schemes.set_class_schemes(admin, course_class, None)
    db.session.commit()
    assert [cs.scheme.code for cs in class_funding([course_class.id])[course_class.id]] == [CEF]
    details = [
        e.details["funding_schemes"]
        for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]
    assert details == ["course (CEF) → ERB", "ERB → —", "— → course (CEF)"]


def test_a_finished_class_keeps_its_schemes(make, admin, schemes):
    course_class = make.course_class(status=ClassStatus.COMPLETED)
    with pytest.raises(ClassLocked):
        funding_schemes.set_class_schemes(admin, course_class, [schemes[CEF].id])


def test_unknown_and_inactive_schemes_are_refused_but_kept_where_chosen(make, admin, schemes):
    course = make.course(funding_schemes=[schemes[ERB]])
    with pytest.raises(ValidationFailed) as caught:
        funding_schemes.set_course_schemes(admin, course, [987654])
    assert caught.value.field == "funding_schemes"
    with pytest.raises(ValidationFailed):
        funding_schemes.set_course_schemes(admin, course, ["x"])

    funding_schemes.update_scheme(
        admin,
        schemes[ERB],
        SchemeDetails(code=ERB, name_en=schemes[ERB].name_en, name_zh=None, is_active=False),
    )
    db.session.commit()
    # Still chosen where it was: kept when another scheme is added.
    funding_schemes.set_course_schemes(admin, course, [schemes[ERB].id, schemes[CEF].id])
    other = make.course()
    with pytest.raises(ValidationFailed) as caught:
        funding_schemes.set_course_schemes(admin, other, [schemes[ERB].id])
    assert "ERB" in str(caught.value.message)
    assert [s.code for s in funding_schemes.scheme_list(active_only=True)] == [
        "CEF",
        "COMPANY",
        "NITTP",
    ]


def test_creating_a_scheme(admin, schemes):
    scheme = funding_schemes.create_scheme(
        admin,
        SchemeDetails(code=" rtt ", name_en="Reindustrialisation training", paid_to="company"),
        SchemeFigures(
            subsidy_kind=SubsidyKind.SHARE_OF_FEE, fee_share_numerator=1, fee_share_denominator=2
        ),
        date(2024, 4, 1),
    )
    db.session.commit()
    assert (scheme.code, scheme.paid_to, scheme.versions[0].fee_share_numerator) == (
        "RTT",
        FundingPayee.COMPANY,
        1,
    )
    for details, field in (
        (SchemeDetails(code="RTT", name_en="Again"), "code"),
        (SchemeDetails(code="no spaces", name_en="X"), "code"),
        (SchemeDetails(code="NEW", name_en="  "), "name_en"),
        (SchemeDetails(code="NEW", name_en="X", paid_to="everyone"), "paid_to"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            funding_schemes.create_scheme(admin, details, SchemeFigures(), date(2024, 4, 1))
        assert caught.value.field == field


def test_the_changes_read_in_both_languages(app, admin, schemes):
    figures = replace(SchemeFigures.of(schemes[CEF].versions[0]), pass_mark_pct=Decimal("60"))
    funding_schemes.change_figures(admin, schemes[CEF], figures, today=TODAY)
    db.session.commit()
    entries = list(db.session.scalars(select(AuditEntry)))
    with app.test_request_context():
        with force_locale("en"):
            [english] = readable_entries(entries)
        with force_locale("zh_Hant_HK"):
            [chinese] = readable_entries(entries)
    assert english.sentence == "Changed the funding scheme's figures"
    assert ("Pass mark (%)", "50.00 → 60.00") in english.details
    assert chinese.sentence != english.sentence
    assert ("合格分數（%）", "50.00 → 60.00") in chinese.details
