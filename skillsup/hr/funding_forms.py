"""Forms of the HR funding and value pages: the period they report on, and money received."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField, ValidationError
from wtforms.validators import InputRequired, Length

from ..forms import DayField, PortalForm
from ..services.hr_dashboard import Period
from .report_forms import DateRequired, PeriodForm

#: The longest range the pages work out at once: three years, whatever their dates.
LONGEST_RANGE_DAYS = 3 * 366


class FundingPeriodForm(PeriodForm):
    """A period from the list (quota periods, calendar years), or a range of days of one's
    own: both days or neither."""

    starts_on = DayField(_l("From"))
    ends_on = DayField(_l("Up to and including"))

    def set_periods(self, periods: Sequence[Period]) -> None:
        super().set_periods(periods)
        # The period is chosen from the list unless a range of days is given.
        if self.has_range():
            self.period.validators = []

    def has_range(self) -> bool:
        return bool(self.starts_on.raw_data and self.starts_on.raw_data[0]) or bool(
            self.ends_on.raw_data and self.ends_on.raw_data[0]
        )

    def validate_starts_on(self, field: Field) -> None:
        if self.has_range() and field.data is None and not field.process_errors:
            raise ValidationError(_l("Enter the first day of the range."))

    def validate_ends_on(self, field: Field) -> None:
        if not self.has_range() or field.process_errors:
            return
        if field.data is None:
            raise ValidationError(_l("Enter the last day of the range."))
        starts_on = self.starts_on.data
        if starts_on is None:
            return
        if field.data < starts_on:
            raise ValidationError(_l("The last day cannot be before the first."))
        if (field.data - starts_on).days >= LONGEST_RANGE_DAYS:
            raise ValidationError(_l("Choose a range of at most three years."))

    def chosen_range(self) -> tuple[date, date] | None:
        """The range of days given, once the form is valid."""
        if self.has_range() and self.starts_on.data and self.ends_on.data:
            return self.starts_on.data, self.ends_on.data
        return None


class ClaimReceivedForm(PortalForm):
    """Money received on a claim: how much, and when."""

    amount = StringField(
        _l("Amount received (HK$)"),
        validators=[InputRequired(_l("Enter the amount received.")), Length(max=20)],
    )
    received_on = DayField(
        _l("Received on"), validators=[DateRequired(_l("Enter the day the money arrived."))]
    )

    def set_defaults(self, amount: Any, received_on: date | None) -> None:
        if not self.is_submitted():
            self.amount.data = "" if amount is None else str(amount)
            self.received_on.data = received_on
