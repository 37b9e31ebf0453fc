"""The catalogue's search and filter form: it lives in the URL, so it needs no CSRF token."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from ..labels import LABELS
from ..models import DeliveryMode, SkillArea, TeachingLanguage


def _choices(enum_class: type) -> list[SelectChoice]:
    return [SelectChoice("", _l("Any"))] + [
        SelectChoice(member.value, LABELS[member]) for member in enum_class
    ]


class CatalogueFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(
        _l("Search courses"),
        validators=[Optional(), Length(max=100)],
        description=_l("Code, title, topic or skill"),
    )
    skill_area = SelectField(_l("Skill area"), choices=_choices(SkillArea), validators=[Optional()])
    qf_level = SelectField(
        _l("QF level"),
        choices=[SelectChoice("", _l("Any"))] + [SelectChoice(str(n), str(n)) for n in range(1, 8)],
        validators=[Optional()],
    )
    delivery_mode = SelectField(
        _l("Delivery"), choices=_choices(DeliveryMode), validators=[Optional()]
    )
    teaching_language = SelectField(
        _l("Teaching language"), choices=_choices(TeachingLanguage), validators=[Optional()]
    )
    start_month = SelectField(_l("Starting in"), validators=[Optional()])
    open_seats = BooleanField(_l("Only courses with open seats"))
    sort = SelectField(
        _l("Sort by"),
        choices=[
            SelectChoice("start", _l("Next start date")),
            SelectChoice("title", _l("Title")),
            SelectChoice("level", _l("QF level")),
        ],
    )

    def set_month_choices(self, months: list[date], labels: list[str]) -> None:
        self.start_month.choices = [SelectChoice("", _l("Any time"))] + [
            SelectChoice(f"{m:%Y-%m}", label) for m, label in zip(months, labels, strict=True)
        ]
