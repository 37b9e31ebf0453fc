"""Forms for administering classes and their sessions.

Times are typed in Hong Kong time; the forms turn them into the services' inputs (aware UTC
datetimes) and back. The rules themselves live in :mod:`skillsup.services.classes` and
:mod:`skillsup.services.class_sessions`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    MonthField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, Optional

from ..forms import CheckboxListField, PortalForm
from ..labels import LABELS
from ..models import ClassSession, ClassStatus, CourseClass, SkillArea
from ..services.class_sessions import MAX_SERIES_WEEKS, SeriesSpec, SessionData
from ..services.classes import ClassData
from ..timeutil import hk_to_utc, to_hk

HK_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]

WEEKDAY_CHOICES = [
    SelectChoice("0", _l("Monday")),
    SelectChoice("1", _l("Tuesday")),
    SelectChoice("2", _l("Wednesday")),
    SelectChoice("3", _l("Thursday")),
    SelectChoice("4", _l("Friday")),
    SelectChoice("5", _l("Saturday")),
    SelectChoice("6", _l("Sunday")),
]


def _utc(value: datetime) -> datetime:
    """A Hong Kong wall-clock time from a form as an aware UTC datetime."""
    return hk_to_utc(value.date(), value.time())


def _hk_wall_clock(value: datetime) -> datetime:
    return to_hk(value).replace(tzinfo=None)


class HKDateTimeField(DateTimeLocalField):
    """A date and time typed in Hong Kong time (``<input type="datetime-local">``)."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("format", HK_DATETIME_FORMATS)
        kwargs.setdefault("description", _l("Hong Kong time."))
        super().__init__(label, validators, **kwargs)


class DateListField(TextAreaField):
    """Dates, one per line as YYYY-MM-DD (commas and spaces also separate them)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = []
        if not valuelist:
            return
        dates = set()
        for word in re.split(r"[\s,]+", str(valuelist[0]).strip()):
            if not word:
                continue
            try:
                dates.add(date.fromisoformat(word))
            except ValueError as error:
                raise ValueError(
                    _l("“%(value)s” is not a date written as YYYY-MM-DD.", value=word)
                ) from error
        self.data = sorted(dates)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "\n".join(day.isoformat() for day in self.data or [])


class ClassForm(PortalForm):
    course_id = SelectField(_l("Course"), coerce=int, validate_choice=False)
    code = StringField(
        _l("Class code"),
        validators=[InputRequired(), Length(max=40)],
        description=_l("Unique; stored in capitals, for example SU-CLD-101-2027A."),
    )
    trainer_ids = SelectMultipleField(
        _l("Trainers"),
        coerce=int,
        validate_choice=False,
        description=_l("Hold Ctrl (or Cmd on a Mac) to choose more than one."),
    )
    venue = StringField(
        _l("Venue"),
        validators=[Optional(), Length(max=200)],
        description=_l("A venue, an online link, or both."),
    )
    online_url = StringField(
        _l("Online link"),
        validators=[Optional(), Length(max=500)],
        description=_l("An address starting with https://"),
        render_kw={"type": "url", "inputmode": "url"},
    )
    capacity = IntegerField(
        _l("Capacity"), validators=[InputRequired()], render_kw={"min": 0, "inputmode": "numeric"}
    )
    enrolment_opens_at = HKDateTimeField(_l("Enrolment opens"), validators=[InputRequired()])
    enrolment_closes_at = HKDateTimeField(_l("Enrolment closes"), validators=[InputRequired()])
    withdrawal_deadline_at = HKDateTimeField(
        _l("Withdrawal deadline"),
        validators=[InputRequired()],
        description=_l("Hong Kong time; no later than the start of the class's first day."),
    )
    starts_on = DateField(_l("First day of the class"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day of the class"), validators=[InputRequired()])
    min_attendance_pct = IntegerField(
        _l("Minimum attendance (%)"),
        default=80,
        validators=[InputRequired()],
        description=_l("Learners must attend at least this percentage of the class to complete."),
        render_kw={"min": 0, "max": 100, "inputmode": "numeric"},
    )
    assessment_required = BooleanField(_l("Learners must pass an assessment to complete"))
    funding = RadioField(
        _l("Funding"),
        choices=[
            SelectChoice("course", _l("As the course: the schemes its course is offered under")),
            SelectChoice("own", _l("This class's own schemes, chosen below (none for no scheme)")),
        ],
        default="course",
    )
    # Checked by the funding schemes' service, which says what is wrong with a choice.
    funding_schemes = CheckboxListField(
        _l("This class's own schemes"), coerce=int, validate_choice=False
    )

    def set_funding_choices(self, schemes: list[Any], locale: str) -> None:
        self.funding_schemes.choices = [
            SelectChoice(str(scheme.id), f"{scheme.code} {scheme.name(locale)}")
            for scheme in schemes
        ]

    def chosen_schemes(self) -> list[int] | None:
        """The class's own schemes, or ``None`` to take its course's."""
        if self.funding.data != "own":
            return None
        return list(self.funding_schemes.data or [])

    def to_data(self) -> ClassData:
        """The form's values as the service's input, times converted to UTC."""
        return ClassData(
            course_id=self.course_id.data or 0,
            code=self.code.data or "",
            trainer_ids=list(self.trainer_ids.data or []),
            venue=self.venue.data,
            online_url=self.online_url.data,
            capacity=self.capacity.data if self.capacity.data is not None else 0,
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            enrolment_opens_at=_utc(self.enrolment_opens_at.data),
            enrolment_closes_at=_utc(self.enrolment_closes_at.data),
            withdrawal_deadline_at=_utc(self.withdrawal_deadline_at.data),
            min_attendance_pct=(
                self.min_attendance_pct.data if self.min_attendance_pct.data is not None else 80
            ),
            assessment_required=bool(self.assessment_required.data),
        )

    def fill_from(self, course_class: CourseClass) -> None:
        """Show a class's current values, times in Hong Kong time."""
        self.course_id.data = course_class.course_id
        self.code.data = course_class.code
        self.trainer_ids.data = [t.id for t in course_class.trainers]
        self.venue.data = course_class.venue
        self.online_url.data = course_class.online_url
        self.capacity.data = course_class.capacity
        self.starts_on.data = course_class.starts_on
        self.ends_on.data = course_class.ends_on
        self.enrolment_opens_at.data = _hk_wall_clock(course_class.enrolment_opens_at)
        self.enrolment_closes_at.data = _hk_wall_clock(course_class.enrolment_closes_at)
        self.withdrawal_deadline_at.data = _hk_wall_clock(course_class.withdrawal_deadline_at)
        self.min_attendance_pct.data = course_class.min_attendance_pct
        self.assessment_required.data = course_class.assessment_required
        self.funding.data = "own" if course_class.funding_override else "course"
        self.funding_schemes.data = [scheme.id for scheme in course_class.funding_schemes]


class SessionForm(PortalForm):
    day = DateField(_l("Date"), validators=[InputRequired()])
    start_time = TimeField(
        _l("Starts at"),
        validators=[InputRequired()],
        format=TIME_FORMATS,
        description=_l("Hong Kong time."),
    )
    end_time = TimeField(
        _l("Ends at"),
        validators=[InputRequired()],
        format=TIME_FORMATS,
        description=_l("Hong Kong time."),
    )
    room = StringField(_l("Room"), validators=[Optional(), Length(max=120)])
    late_reason = StringField(
        _l("Reason for changing the timetable afterwards"),
        validators=[Optional(), Length(max=500)],
        description=_l("Needed only for a session in the past; kept in the class's history."),
    )

    def to_data(self) -> SessionData:
        return SessionData(
            day=self.day.data,
            start_time=self.start_time.data,
            end_time=self.end_time.data,
            room=self.room.data,
        )

    def fill_from(self, session: ClassSession) -> None:
        starts, ends = to_hk(session.starts_at), to_hk(session.ends_at)
        self.day.data = starts.date()
        self.start_time.data = starts.time().replace(tzinfo=None)
        self.end_time.data = ends.time().replace(tzinfo=None)
        self.room.data = session.room


class SeriesForm(PortalForm):
    weekdays = CheckboxListField(_l("Days of the week"), coerce=int, choices=WEEKDAY_CHOICES)
    start_time = TimeField(
        _l("Starts at"),
        validators=[InputRequired()],
        format=TIME_FORMATS,
        description=_l("Hong Kong time."),
    )
    end_time = TimeField(
        _l("Ends at"),
        validators=[InputRequired()],
        format=TIME_FORMATS,
        description=_l("Hong Kong time."),
    )
    first_date = DateField(_l("From"), validators=[InputRequired()])
    weeks = IntegerField(
        _l("Number of weeks"),
        validators=[InputRequired()],
        render_kw={"min": 1, "max": MAX_SERIES_WEEKS, "inputmode": "numeric"},
    )
    skip_dates = DateListField(
        _l("Days to leave out"),
        validators=[Optional()],
        description=_l("One per line, written as YYYY-MM-DD."),
    )
    skip_public_holidays = BooleanField(_l("Leave out Hong Kong public holidays"), default=True)
    room = StringField(_l("Room"), validators=[Optional(), Length(max=120)])
    late_reason = StringField(
        _l("Reason for changing the timetable afterwards"),
        validators=[Optional(), Length(max=500)],
        description=_l("Needed only for a session in the past; kept in the class's history."),
    )

    def to_spec(self) -> SeriesSpec:
        return SeriesSpec(
            weekdays=frozenset(self.weekdays.data or []),
            start_time=self.start_time.data,
            end_time=self.end_time.data,
            first_date=self.first_date.data,
            weeks=self.weeks.data if self.weeks.data is not None else 0,
            skip_dates=frozenset(self.skip_dates.data or []),
            skip_public_holidays=bool(self.skip_public_holidays.data),
            room=self.room.data,
        )


class CancelClassForm(PortalForm):
    reason = TextAreaField(
        _l("Reason for cancelling"),
        validators=[InputRequired(), Length(max=1000)],
        description=_l("Every learner in the class is told this."),
    )


class ReopenClassForm(PortalForm):
    reason = TextAreaField(
        _l("Why is the class reopened?"),
        validators=[
            InputRequired(_l("Say why the class is reopened.")),
            Length(max=500, message=_l("Keep the reason under %(max)d characters.", max=500)),
        ],
        description=_l("Every learner of the class is told this, and it is kept in the history."),
    )


class ClassFilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(
        _l("Search"),
        validators=[Optional(), Length(max=100)],
        description=_l("Class code, course code or course title."),
    )
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("All statuses"))]
        + [SelectChoice(s.value, LABELS[s]) for s in ClassStatus],
        validators=[Optional()],
    )
    skill_area = SelectField(
        _l("Skill area"),
        choices=[SelectChoice("", _l("All skill areas"))]
        + [SelectChoice(a.value, LABELS[a]) for a in SkillArea],
        validators=[Optional()],
    )
    month = MonthField(
        _l("Starting in"),
        validators=[Optional()],
        invalid_value_message=_l("Write the month as YYYY-MM."),
        render_kw={"placeholder": "YYYY-MM"},
    )
