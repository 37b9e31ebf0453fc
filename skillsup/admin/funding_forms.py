"""Forms for the funding schemes: a scheme's names, and the figures of a version.

The rules the figures must keep (ranges, which figures each kind of subsidy uses) are
:func:`skillsup.services.funding_figures.clean_figures`'s; these forms only turn what was
typed into numbers, and the service's refusals are shown on the field they name.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..forms import DayField, PortalForm
from ..labels import LABELS
from ..models import FundingPayee, SubsidyKind
from ..services.funding_figures import (
    CODE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    SchemeFigures,
)
from ..services.funding_schemes import SchemeDetails
from .course_forms import CHINESE, DecimalPlaces

PERCENT_MESSAGE = _l("Enter a percentage from 0 to 100, with at most two decimals.")
AMOUNT_MESSAGE = _l(
    "Enter an amount in Hong Kong dollars: zero or more, with at most two decimals."
)
MONTHS = [
    _l("January"),
    _l("February"),
    _l("March"),
    _l("April"),
    _l("May"),
    _l("June"),
    _l("July"),
    _l("August"),
    _l("September"),
    _l("October"),
    _l("November"),
    _l("December"),
]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _percent(label: Any, **kwargs: Any) -> DecimalField:
    return DecimalField(
        label,
        places=None,
        validators=[
            Optional(),
            NumberRange(min=0, max=100, message=PERCENT_MESSAGE),
            DecimalPlaces(2, PERCENT_MESSAGE),
        ],
        render_kw={"inputmode": "decimal"},
        **kwargs,
    )


def _amount(label: Any, **kwargs: Any) -> DecimalField:
    return DecimalField(
        label,
        places=None,
        validators=[
            Optional(),
            NumberRange(min=0, message=AMOUNT_MESSAGE),
            DecimalPlaces(2, AMOUNT_MESSAGE),
        ],
        render_kw={"inputmode": "decimal"},
        **kwargs,
    )


def _whole(label: Any, low: int, high: int, **kwargs: Any) -> IntegerField:
    message = _l("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)
    return IntegerField(
        label,
        validators=[Optional(), NumberRange(min=low, max=high, message=message)],
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
        **kwargs,
    )


class FiguresForm(PortalForm):
    """The figures of a version, from a date."""

    effective_from = DayField(
        _l("In force from"),
        validators=[InputRequired()],
        description=_l(
            "The figures apply to the classes starting on or after this date. Written as"
            " YYYY-MM-DD."
        ),
    )
    min_attendance_pct = IntegerField(
        _l("Minimum attendance (%)"),
        validators=[
            InputRequired(),
            NumberRange(
                min=0,
                max=100,
                message=_l("Enter a whole number from %(low)d to %(high)d.", low=0, high=100),
            ),
        ],
        render_kw={"min": 0, "max": 100, "inputmode": "numeric"},
    )
    class_rules_apply = BooleanField(
        _l("The class's own rules apply where stricter"),
        description=_l("Its minimum attendance when higher, and its assessment when it has one."),
    )
    assessment_required = BooleanField(_l("The learner must pass the class's assessment"))
    pass_mark_pct = _percent(
        _l("Pass mark (%)"),
        description=_l("Leave empty for the trainer's pass or fail to decide."),
    )
    subsidy_kind = SelectField(
        _l("Subsidy"),
        choices=[SelectChoice(kind.value, LABELS[kind]) for kind in SubsidyKind],
    )
    first_tier_limit = _amount(
        _l("First tier of subsidy (HKD)"),
        description=_l("For a fee less a co-payment, in tiers."),
    )
    first_tier_co_payment_pct = _percent(_l("Co-payment in the first tier (%)"))
    later_co_payment_pct = _percent(_l("Co-payment beyond the first tier (%)"))
    fee_share_numerator = _whole(
        _l("Share of the fee: numerator"),
        0,
        1000,
        description=_l("For a share of the fee: two thirds is 2 over 3."),
    )
    fee_share_denominator = _whole(_l("Share of the fee: denominator"), 1, 1000)
    person_lifetime_cap = _amount(
        _l("Cap per person, for life (HKD)"), description=_l("Leave empty for no cap.")
    )
    company_cap_per_year = _amount(
        _l("Cap per company per financial year (HKD)"),
        description=_l("Leave empty for no cap."),
    )
    year_starts_month = SelectField(
        _l("The financial year starts in"),
        coerce=int,
        choices=[SelectChoice(str(number), name) for number, name in enumerate(MONTHS, 1)],
        default=4,
    )
    note_en = TextAreaField(
        _l("Note in English"),
        validators=[Optional(), Length(max=NOTE_MAX_LENGTH)],
        filters=[_strip],
        description=_l("What the scheme publishes about these figures; shown beside them."),
        render_kw={"rows": 3},
    )
    note_zh = TextAreaField(
        _l("Note in Traditional Chinese"),
        validators=[Optional(), Length(max=NOTE_MAX_LENGTH)],
        filters=[_strip],
        render_kw={**CHINESE, "rows": 3},
    )
    # Set by the confirmation page: the change has been seen and is to be made.
    confirmed = HiddenField()

    def figures(self) -> SchemeFigures:
        return SchemeFigures(
            min_attendance_pct=self.min_attendance_pct.data or 0,
            class_rules_apply=bool(self.class_rules_apply.data),
            assessment_required=bool(self.assessment_required.data),
            pass_mark_pct=self.pass_mark_pct.data,
            subsidy_kind=self.subsidy_kind.data or SubsidyKind.NONE.value,
            first_tier_limit=self.first_tier_limit.data,
            first_tier_co_payment_pct=self.first_tier_co_payment_pct.data,
            later_co_payment_pct=self.later_co_payment_pct.data,
            fee_share_numerator=self.fee_share_numerator.data,
            fee_share_denominator=self.fee_share_denominator.data,
            person_lifetime_cap=self.person_lifetime_cap.data,
            company_cap_per_year=self.company_cap_per_year.data,
            year_starts_month=self.year_starts_month.data or 4,
            note_en=self.note_en.data or "",
            note_zh=self.note_zh.data,
        )

    def fill_from(self, figures: SchemeFigures) -> None:
        """Show ``figures`` (those of the version in force) to start from."""
        for name in SchemeFigures.__dataclass_fields__:
            value = getattr(figures, name)
            getattr(self, name).data = getattr(value, "value", value)

    def carried(self) -> dict[str, str]:
        """What was posted, to post again from the confirmation page (not the CSRF token,
        which the page carries itself, nor the confirmation)."""
        return {
            field.name: str(field.raw_data[0])
            for field in self
            if field.raw_data and field.short_name not in ("csrf_token", "confirmed")
        }


class SchemeNamesForm(PortalForm):
    """A scheme's names, and whether it may be chosen."""

    name_en = StringField(
        _l("Name in English"),
        validators=[InputRequired(), Length(max=NAME_MAX_LENGTH)],
        filters=[_strip],
    )
    name_zh = StringField(
        _l("Name in Traditional Chinese"),
        validators=[Optional(), Length(max=NAME_MAX_LENGTH)],
        filters=[_strip],
        render_kw=CHINESE,
    )
    is_active = BooleanField(
        _l("Offered: may be chosen for courses and classes"),
        description=_l("A scheme no longer offered still applies where it was chosen."),
    )

    def details(self, code: str, paid_to: FundingPayee | str) -> SchemeDetails:
        return SchemeDetails(
            code=code,
            name_en=self.name_en.data or "",
            name_zh=self.name_zh.data,
            paid_to=paid_to,
            is_active=bool(self.is_active.data),
        )


class NewSchemeForm(FiguresForm):
    """A new scheme: its code, names and whom it pays, with its first figures."""

    code = StringField(
        _l("Scheme code"),
        validators=[InputRequired(), Length(max=CODE_MAX_LENGTH)],
        filters=[lambda value: value.strip().upper() if isinstance(value, str) else value],
        description=_l("Capital letters, digits and hyphens, for example CEF. It cannot change."),
    )
    name_en = SchemeNamesForm.name_en
    name_zh = SchemeNamesForm.name_zh
    paid_to = SelectField(
        _l("Who is paid"),
        choices=[SelectChoice(payee.value, LABELS[payee]) for payee in FundingPayee],
        description=_l("It cannot change once the scheme is created."),
    )
    is_active = SchemeNamesForm.is_active

    def details(self) -> SchemeDetails:
        return SchemeDetails(
            code=self.code.data or "",
            name_en=self.name_en.data or "",
            name_zh=self.name_zh.data,
            paid_to=self.paid_to.data or "",
            is_active=bool(self.is_active.data),
        )
