"""The figures of a funding scheme's version: what they are, the ones each scheme publishes,
and the rules an admin's figures must keep (:func:`clean_figures`).

The versions themselves, and which one a class runs under, are :mod:`.funding_schemes`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from ..models import FundingPayee, FundingSchemeVersion, SubsidyKind
from .errors import ValidationFailed

CEF = "CEF"
NITTP = "NITTP"
ERB = "ERB"
COMPANY = "COMPANY"

CODE_MAX_LENGTH = 20
NAME_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 1000
#: The largest amount the columns hold: Numeric(12, 2).
MAX_AMOUNT = Decimal("9999999999.99")
_CENTS = Decimal("0.01")
_HUNDRED = Decimal("100")


@dataclass(frozen=True)
class SchemeFigures:
    """The figures of one version of a scheme, as an admin sets them.

    Conditions: ``min_attendance_pct``; ``class_rules_apply`` (the class's own rules apply
    too where stricter: its minimum attendance when higher, and its assessment when it has
    one); ``assessment_required`` (a pass in the class's assessment); ``pass_mark_pct`` (the
    score out of 100 that passes where a score is recorded; ``None``: the trainer's pass or
    fail decides). Subsidy: ``subsidy_kind`` with the tier figures (co-payment tiers) or the
    share of the fee (share of fee), the caps, and the financial year's first month.
    """

    min_attendance_pct: int = 0
    class_rules_apply: bool = True
    assessment_required: bool = False
    pass_mark_pct: Decimal | None = None
    subsidy_kind: SubsidyKind | str = SubsidyKind.NONE
    first_tier_limit: Decimal | None = None
    first_tier_co_payment_pct: Decimal | None = None
    later_co_payment_pct: Decimal | None = None
    fee_share_numerator: int | None = None
    fee_share_denominator: int | None = None
    person_lifetime_cap: Decimal | None = None
    company_cap_per_year: Decimal | None = None
    year_starts_month: int = 4
    note_en: str = ""
    note_zh: str | None = None

    @classmethod
    def of(cls, version: FundingSchemeVersion) -> SchemeFigures:
        """A version's figures, for pre-filling a form or changing a few of them."""
        return cls(**{f.name: getattr(version, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class PublishedScheme:
    code: str
    name_en: str
    name_zh: str
    paid_to: FundingPayee
    effective_from: date
    figures: SchemeFigures


#: The schemes the portal ships, with the figures each publishes.
PUBLISHED_SCHEMES: tuple[PublishedScheme, ...] = (
    PublishedScheme(
        CEF,
        "Continuing Education Fund",
        "持續進修基金",
        FundingPayee.LEARNER,
        date(2022, 8, 1),
        SchemeFigures(
            min_attendance_pct=70,
            class_rules_apply=True,
            assessment_required=True,
            pass_mark_pct=Decimal("50.00"),
            subsidy_kind=SubsidyKind.CO_PAYMENT_TIERS,
            first_tier_limit=Decimal("10000.00"),
            first_tier_co_payment_pct=Decimal("20.00"),
            later_co_payment_pct=Decimal("40.00"),
            person_lifetime_cap=Decimal("25000.00"),
            note_en="For courses starting on or after 1 August 2022.",
            note_zh="適用於2022年8月1日或之後開始的課程。",
        ),
    ),
    PublishedScheme(
        NITTP,
        "New Industrialisation and Technology Training Programme",
        "新型工業化及科技培訓計劃",
        FundingPayee.COMPANY,
        date(2000, 1, 1),
        SchemeFigures(
            min_attendance_pct=0,
            class_rules_apply=True,
            subsidy_kind=SubsidyKind.SHARE_OF_FEE,
            fee_share_numerator=2,
            fee_share_denominator=3,
            company_cap_per_year=Decimal("500000.00"),
            note_en="Two thirds of the fee for staff who complete an approved course, up to"
            " HK$500,000 per company per financial year (April to March).",
            note_zh="僱員修畢認可課程，資助課程費用的三分之二；每間公司每個財政年度"
            "（4月至翌年3月）上限為港幣500,000元。",
        ),
    ),
    PublishedScheme(
        ERB,
        "Employees Retraining Board course",
        "僱員再培訓局課程",
        FundingPayee.LEARNER,
        date(2000, 1, 1),
        SchemeFigures(
            min_attendance_pct=80,
            class_rules_apply=False,
            note_en="At least 80 % attendance.",
            note_zh="出席率最少80%。",
        ),
    ),
    PublishedScheme(
        COMPANY,
        "Company-sponsored, without a scheme",
        "公司資助（不屬任何計劃）",
        FundingPayee.NONE,
        date(2000, 1, 1),
        SchemeFigures(min_attendance_pct=0, class_rules_apply=True, note_en="", note_zh=""),
    ),
)


def clean_figures(figures: SchemeFigures) -> dict[str, Any]:
    """The column values of ``figures``, checked and normalised (figures a subsidy of another
    kind does not use are cleared), or :class:`ValidationFailed` naming the field at fault."""
    values: dict[str, Any] = {}
    values["min_attendance_pct"] = _whole(figures.min_attendance_pct, 0, 100, "min_attendance_pct")
    values["class_rules_apply"] = bool(figures.class_rules_apply)
    values["assessment_required"] = bool(figures.assessment_required)
    values["pass_mark_pct"] = _percent(figures.pass_mark_pct, "pass_mark_pct", optional=True)
    kind = choice(SubsidyKind, figures.subsidy_kind, "subsidy_kind")
    values["subsidy_kind"] = kind
    tiers = kind is SubsidyKind.CO_PAYMENT_TIERS
    share = kind is SubsidyKind.SHARE_OF_FEE
    values["first_tier_limit"] = (
        _amount(figures.first_tier_limit, "first_tier_limit", optional=False) if tiers else None
    )
    for name in ("first_tier_co_payment_pct", "later_co_payment_pct"):
        values[name] = _percent(getattr(figures, name), name, optional=False) if tiers else None
    values["fee_share_numerator"] = values["fee_share_denominator"] = None
    if share:
        denominator = _whole(figures.fee_share_denominator, 1, 1000, "fee_share_denominator")
        values["fee_share_denominator"] = denominator
        values["fee_share_numerator"] = _whole(
            figures.fee_share_numerator, 0, denominator, "fee_share_numerator"
        )
    values["person_lifetime_cap"] = (
        _amount(figures.person_lifetime_cap, "person_lifetime_cap", optional=True)
        if kind is not SubsidyKind.NONE
        else None
    )
    values["company_cap_per_year"] = (
        _amount(figures.company_cap_per_year, "company_cap_per_year", optional=True)
        if kind is not SubsidyKind.NONE
        else None
    )
    values["year_starts_month"] = _whole(figures.year_starts_month, 1, 12, "year_starts_month")
    note_en = (figures.note_en or "").strip()
    note_zh = (figures.note_zh or "").strip() or None
    for name, value in (("note_en", note_en), ("note_zh", note_zh)):
        if value and len(value) > NOTE_MAX_LENGTH:
            raise ValidationFailed(
                _l("Use at most %(num)d characters.", num=NOTE_MAX_LENGTH), field=name
            )
    values["note_en"] = note_en
    values["note_zh"] = note_zh
    return values


def _whole(value: Any, low: int, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(
            _l("Enter a whole number from %(low)d to %(high)d.", low=low, high=high), field=name
        )
    return value


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _percent(value: Any, name: str, *, optional: bool) -> Decimal | None:
    if optional and (value is None or str(value).strip() == ""):
        return None
    number = _decimal(value)
    if number is None or not 0 <= number <= _HUNDRED or number != number.quantize(_CENTS):
        raise ValidationFailed(
            _l("Enter a percentage from 0 to 100, with at most two decimals."), field=name
        )
    return number.quantize(_CENTS)


def _amount(value: Any, name: str, *, optional: bool) -> Decimal | None:
    if optional and (value is None or str(value).strip() == ""):
        return None
    number = _decimal(value)
    if number is None or not 0 <= number <= MAX_AMOUNT or number != number.quantize(_CENTS):
        raise ValidationFailed(
            _l("Enter an amount in Hong Kong dollars: zero or more, with at most two decimals."),
            field=name,
        )
    return number.quantize(_CENTS)


def choice(enum_class: Any, value: Any, name: str) -> Any:
    try:
        return enum_class(value)
    except ValueError as error:
        raise ValidationFailed(_l("Choose one of the options."), field=name) from error
