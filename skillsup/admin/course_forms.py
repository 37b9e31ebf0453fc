"""Forms for the programme administration of courses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ..forms import PortalForm
from ..labels import LABELS
from ..models import (
    Course,
    CourseStatus,
    DeliveryMode,
    FundingScheme,
    SkillArea,
    TeachingLanguage,
)
from ..services.certificate_expiry import MAX_MONTHS, MIN_MONTHS, VALID_MONTHS_MESSAGE
from ..services.courses import (
    CODE_PATTERN,
    MAX_CONTACT_HOURS,
    MAX_FEE,
    MAX_QF_CREDITS,
    TITLE_MAX_LENGTH,
    CourseData,
)

CHINESE = {"lang": "zh-Hant-HK"}
CODE_MESSAGE = _l(
    "Use 3 to 30 capital letters, digits and hyphens, starting with a letter or digit."
)
QF_LEVEL_MESSAGE = _l("The QF level is a whole number from 1 to 7.")
QF_CREDITS_MESSAGE = _l("QF credits are a whole number from 0 to %(max)d.", max=MAX_QF_CREDITS)
CONTACT_HOURS_MESSAGE = _l(
    "Enter the contact hours: more than zero, with at most one decimal place."
)
FEE_MESSAGE = _l("Enter the fee in Hong Kong dollars: zero or more, with at most two decimals.")


def _choices(enum_class: Any) -> list[SelectChoice]:
    return [SelectChoice(member.value, LABELS[member]) for member in enum_class]


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class DecimalPlaces:
    """At most ``places`` digits after the decimal point."""

    def __init__(self, places: int, message: Any) -> None:
        self.places = places
        self.message = message

    def __call__(self, _form: Any, field: Any) -> None:
        value = field.data
        # Read the digits, not quantize() or normalize(): both work within the context's
        # precision, so 1e30 to cents raises and a 31-digit number loses its decimals.
        if isinstance(value, Decimal) and value.is_finite():
            _sign, digits, exponent = value.as_tuple()
            assert isinstance(exponent, int)  # a finite number's exponent
            trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
            if exponent + trailing_zeros < -self.places and any(digits):
                raise ValidationError(self.message)


class PositiveNumber:
    """Strictly more than zero (``NumberRange`` only has inclusive bounds)."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, _form: Any, field: Any) -> None:
        value = field.data
        if value is None:
            return
        # Ordering comparisons with a Decimal NaN raise instead of answering False.
        if (isinstance(value, Decimal) and not value.is_finite()) or not value > 0:
            raise ValidationError(self.message)


def _text_area(label: Any, *, chinese: bool = False, **kwargs: Any) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=20000)],
        filters=[_strip],
        render_kw={**CHINESE, "rows": 5} if chinese else {"rows": 5},
        **kwargs,
    )


class CourseForm(PortalForm):
    code = StringField(
        _l("Course code"),
        validators=[DataRequired(), Length(max=30), Regexp(CODE_PATTERN, message=CODE_MESSAGE)],
        filters=[_upper],
        description=_l("For example SU-CLD-101. Stored in capital letters."),
    )
    title_en = StringField(
        _l("Title in English"),
        validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)],
        filters=[_strip],
    )
    title_zh = StringField(
        _l("Title in Traditional Chinese"),
        validators=[Optional(), Length(max=TITLE_MAX_LENGTH)],
        filters=[_strip],
        render_kw=CHINESE,
    )
    summary_en = _text_area(
        _l("Summary in English"),
        description=_l("One or two sentences for the catalogue. Needed to publish."),
    )
    summary_zh = _text_area(_l("Summary in Traditional Chinese"), chinese=True)
    description_en = _text_area(_l("Description in English"))
    description_zh = _text_area(_l("Description in Traditional Chinese"), chinese=True)
    outcomes_en = _text_area(
        _l("Learning outcomes in English"), description=_l("One outcome per line.")
    )
    outcomes_zh = _text_area(
        _l("Learning outcomes in Traditional Chinese"),
        chinese=True,
        description=_l("One outcome per line."),
    )
    audience_en = _text_area(_l("Who should attend, in English"))
    audience_zh = _text_area(_l("Who should attend, in Traditional Chinese"), chinese=True)
    skills = StringField(
        _l("Skills keywords"),
        validators=[Optional(), Length(max=1000)],
        filters=[_strip],
        description=_l("Separated by commas. The catalogue search looks at them too."),
    )
    skill_area = SelectField(_l("Skill area"), choices=_choices(SkillArea))
    qf_level = IntegerField(
        _l("QF level"),
        validators=[InputRequired(), NumberRange(min=1, max=7, message=QF_LEVEL_MESSAGE)],
        description=_l("Hong Kong Qualifications Framework level, 1 to 7."),
        render_kw={"min": 1, "max": 7},
    )
    qf_credits = IntegerField(
        _l("QF credits"),
        validators=[
            InputRequired(),
            NumberRange(min=0, max=MAX_QF_CREDITS, message=QF_CREDITS_MESSAGE),
        ],
        render_kw={"min": 0},
    )
    contact_hours = DecimalField(
        _l("Contact hours"),
        places=None,
        validators=[
            InputRequired(),
            PositiveNumber(CONTACT_HOURS_MESSAGE),
            NumberRange(max=MAX_CONTACT_HOURS, message=CONTACT_HOURS_MESSAGE),
            DecimalPlaces(1, CONTACT_HOURS_MESSAGE),
        ],
        render_kw={"inputmode": "decimal"},
    )
    delivery_mode = SelectField(_l("Delivery mode"), choices=_choices(DeliveryMode))
    teaching_language = SelectField(_l("Teaching language"), choices=_choices(TeachingLanguage))
    fee = DecimalField(
        _l("Fee (HKD)"),
        places=None,
        validators=[
            InputRequired(),
            NumberRange(min=0, max=MAX_FEE, message=FEE_MESSAGE),
            DecimalPlaces(2, FEE_MESSAGE),
        ],
        render_kw={"inputmode": "decimal"},
    )
    certificate_valid_months = IntegerField(
        _l("Certificate valid for (months)"),
        validators=[
            Optional(),
            NumberRange(min=MIN_MONTHS, max=MAX_MONTHS, message=VALID_MONTHS_MESSAGE),
        ],
        description=_l(
            "For compliance training whose certificate must be renewed: learners and their HR "
            "are reminded 60 and 14 days before it expires. Leave empty if it never expires. "
            "A change applies to certificates issued from then on."
        ),
        render_kw={"min": MIN_MONTHS, "max": MAX_MONTHS, "inputmode": "numeric"},
    )
    # Checked by the funding schemes' service, which says what is wrong with a choice.
    funding_schemes = SelectMultipleField(
        _l("Funding schemes"),
        coerce=int,
        validate_choice=False,
        description=_l(
            "The schemes the course is offered under; its classes take them unless a class"
            " has its own. Hold Ctrl (Cmd on a Mac) to choose more than one."
        ),
        render_kw={"size": 4},
    )
    # The choices are checked by the service, which can say what is wrong with a choice
    # (a course as its own prerequisite, a loop) better than "not a valid choice".
    prerequisites = SelectMultipleField(
        _l("Prerequisites"),
        coerce=int,
        validate_choice=False,
        description=_l(
            "Courses a learner should have completed first. "
            "Hold Ctrl (Cmd on a Mac) to choose more than one."
        ),
        render_kw={"size": 10},
    )

    def set_prerequisite_choices(self, choices: list[tuple[int, str, CourseStatus]]) -> None:
        self.prerequisites.choices = [
            SelectChoice(
                str(course_id),
                text if status != CourseStatus.ARCHIVED else f"{text} ({LABELS[status]})",
            )
            for course_id, text, status in choices
        ]

    def set_funding_choices(self, schemes: list[FundingScheme], locale: str) -> None:
        self.funding_schemes.choices = [
            SelectChoice(str(scheme.id), f"{scheme.code} {scheme.name(locale)}")
            for scheme in schemes
        ]

    def funding_scheme_ids(self) -> list[int]:
        return list(self.funding_schemes.data or [])

    def course_data(self) -> CourseData:
        return CourseData(
            code=self.code.data or "",
            title_en=self.title_en.data or "",
            title_zh=self.title_zh.data,
            summary_en=self.summary_en.data or "",
            summary_zh=self.summary_zh.data,
            description_en=self.description_en.data or "",
            description_zh=self.description_zh.data,
            outcomes_en=self.outcomes_en.data or "",
            outcomes_zh=self.outcomes_zh.data,
            audience_en=self.audience_en.data or "",
            audience_zh=self.audience_zh.data,
            skills=self.skills.data or "",
            skill_area=self.skill_area.data,
            qf_level=self.qf_level.data,
            qf_credits=self.qf_credits.data,
            contact_hours=self.contact_hours.data,
            delivery_mode=self.delivery_mode.data,
            teaching_language=self.teaching_language.data,
            fee=self.fee.data,
            certificate_valid_months=self.certificate_valid_months.data,
            prerequisite_ids=list(self.prerequisites.data or []),
        )


def course_form_data(course: Course) -> dict[str, Any]:
    """The values of ``course`` as the form shows them, for its edit page."""
    data = CourseData.from_course(course)
    values: dict[str, Any] = {name: getattr(data, name) for name in CourseData.__dataclass_fields__}
    for name in ("skill_area", "delivery_mode", "teaching_language"):
        values[name] = getattr(values[name], "value", values[name])
    values["prerequisites"] = values.pop("prerequisite_ids")
    values["funding_schemes"] = [scheme.id for scheme in course.funding_schemes]
    return values


class CourseFilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(
        _l("Search"),
        validators=[Optional(), Length(max=100)],
        description=_l("Code, English or Chinese title, or skill."),
    )
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("All statuses")), *_choices(CourseStatus)],
        validators=[Optional()],
    )
    skill_area = SelectField(
        _l("Skill area"),
        choices=[SelectChoice("", _l("All skill areas")), *_choices(SkillArea)],
        validators=[Optional()],
    )
