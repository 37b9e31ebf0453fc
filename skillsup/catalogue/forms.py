"""The catalogue's search and filter form: it lives in the URL, so it needs no CSRF token."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from ..forms import PortalForm
from ..labels import translated_labels
from ..models import DeliveryMode, SkillArea, TeachingLanguage

# The options of the filters, as text, per locale, built at first use. Lazy labels would be
# looked up in the translations twice per option on every page; the catalogues do not
# change while the process runs.
_CHOICES: dict[str, dict[str, list[SelectChoice]]] = {}


def _enum_choices(
    enum_class: type[Enum], any_label: str, labels: Mapping[Any, str]
) -> list[SelectChoice]:
    return [SelectChoice("", any_label)] + [
        SelectChoice(member.value, labels[member]) for member in enum_class
    ]


def _translated_choices() -> dict[str, list[SelectChoice]]:
    """The options of each filter in the current locale; "start_month" has only "Any time"."""
    locale = str(get_locale())
    choices = _CHOICES.get(locale)
    if choices is None:
        labels = translated_labels()
        any_label = str(_l("Any"))
        choices = {
            "skill_area": _enum_choices(SkillArea, any_label, labels),
            "qf_level": [SelectChoice("", any_label)]
            + [SelectChoice(str(n), str(n)) for n in range(1, 8)],
            "delivery_mode": _enum_choices(DeliveryMode, any_label, labels),
            "teaching_language": _enum_choices(TeachingLanguage, any_label, labels),
            "start_month": [SelectChoice("", str(_l("Any time")))],
            "sort": [
                SelectChoice("start", str(_l("Next start date"))),
                SelectChoice("title", str(_l("Title"))),
                SelectChoice("level", str(_l("QF level"))),
            ],
        }
        _CHOICES[locale] = choices
    return choices


class CatalogueFilterForm(PortalForm):
    class Meta:
        csrf = False

    q = SearchField(
        _l("Search courses"),
        validators=[Optional(), Length(max=100)],
        description=_l("Code, title, topic or skill"),
    )
    # The choices are the current locale's, set by __init__.
    skill_area = SelectField(_l("Skill area"), validators=[Optional()])
    qf_level = SelectField(_l("QF level"), validators=[Optional()])
    delivery_mode = SelectField(_l("Delivery"), validators=[Optional()])
    teaching_language = SelectField(_l("Teaching language"), validators=[Optional()])
    start_month = SelectField(_l("Starting in"), validators=[Optional()])
    open_seats = BooleanField(_l("Only courses with open seats"))
    # A visit without a sort in the address sorts by the next start date; without a default
    # the field would hold None and show "Not a valid choice." on every such visit.
    sort = SelectField(_l("Sort by"), default="start")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _translated_choices()
        for name in ("skill_area", "qf_level", "delivery_mode", "teaching_language", "sort"):
            # A copy each: a form may change its own choices, never another request's.
            self[name].choices = list(choices[name])

    def set_month_choices(self, months: list[date], labels: list[str]) -> None:
        self.start_month.choices = _translated_choices()["start_month"] + [
            SelectChoice(f"{m:%Y-%m}", label) for m, label in zip(months, labels, strict=True)
        ]
