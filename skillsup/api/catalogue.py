"""The public catalogue: published courses and their classes, with the seats left.

Anyone may read it, with a token or without (the same as the catalogue's pages); the courses
are those the catalogue's search finds (:func:`skillsup.services.catalogue.course_conditions`).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from ..extensions import db
from ..models import (
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    DeliveryMode,
    SkillArea,
    TeachingLanguage,
    utcnow,
)
from ..services import catalogue
from ..timeutil import today_hk
from .core import ApiBlueprint
from .pagination import PageArguments, link_header, page_schema, paginate
from .problems import ApiProblem
from .schemas import CourseRefSchema, DecimalText, Schema, Text

#: The classes the list offers: those not over.
UNFINISHED_STATUSES = (ClassStatus.OPEN, ClassStatus.CLOSED, ClassStatus.RUNNING)

blp = ApiBlueprint(
    "api_catalogue",
    __name__,
    description="The public catalogue: courses and classes with the seats left.",
)


class CourseListArguments(PageArguments):
    q = Text(
        max_length=200,
        load_default="",
        metadata={"description": "Words in the code, title, summary or skills."},
    )
    skill_area = ma.fields.Enum(SkillArea, by_value=True, load_default=None)
    qf_level = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=7))
    delivery_mode = ma.fields.Enum(DeliveryMode, by_value=True, load_default=None)
    teaching_language = ma.fields.Enum(TeachingLanguage, by_value=True, load_default=None)
    open_seats = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Only courses with a class taking enrolments and a seat left."},
    )


class CourseSchema(CourseRefSchema):
    summary_en = ma.fields.String(required=True)
    summary_zh = ma.fields.String(required=True, allow_none=True)
    skill_area = ma.fields.Enum(SkillArea, by_value=True, required=True)
    qf_level = ma.fields.Integer(required=True)
    qf_credits = ma.fields.Integer(required=True)
    contact_hours = DecimalText(required=True)
    delivery_mode = ma.fields.Enum(DeliveryMode, by_value=True, required=True)
    teaching_language = ma.fields.Enum(TeachingLanguage, by_value=True, required=True)
    fee = DecimalText(required=True, metadata={"description": "In HK$."})


class SessionSchema(Schema):
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    room = ma.fields.String(required=True, allow_none=True)
    is_cancelled = ma.fields.Boolean(required=True)


class ClassSchema(Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    course = ma.fields.Nested(CourseRefSchema, required=True)
    status = ma.fields.Enum(ClassStatus, by_value=True, required=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)
    venue = ma.fields.String(required=True, allow_none=True)
    capacity = ma.fields.Integer(required=True)
    seats_left = ma.fields.Integer(required=True)
    availability = ma.fields.Enum(
        catalogue.Availability,
        by_value=True,
        required=True,
        metadata={
            "description": "open: taking enrolments with a seat left; waitlist: taking "
            "enrolments, full; opens_later; closed."
        },
    )
    enrolment_opens_at = ma.fields.AwareDateTime(required=True)
    enrolment_closes_at = ma.fields.AwareDateTime(required=True)
    withdrawal_deadline_at = ma.fields.AwareDateTime(required=True)
    min_attendance_pct = ma.fields.Integer(required=True)
    assessment_required = ma.fields.Boolean(required=True)


class ClassDetailSchema(ClassSchema):
    sessions = ma.fields.List(ma.fields.Nested(SessionSchema), required=True)


class CourseDetailSchema(CourseSchema):
    description_en = ma.fields.String(required=True)
    description_zh = ma.fields.String(required=True, allow_none=True)
    outcomes_en = ma.fields.String(required=True)
    outcomes_zh = ma.fields.String(required=True, allow_none=True)
    prerequisites = ma.fields.List(ma.fields.Nested(CourseRefSchema), required=True)
    classes = ma.fields.List(
        ma.fields.Nested(ClassSchema),
        required=True,
        metadata={"description": "Its upcoming and running classes."},
    )


class ClassListArguments(PageArguments):
    course = Text(
        max_length=30,
        load_default=None,
        metadata={"description": "Only the classes of the course with this code."},
    )
    open_seats = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Only classes taking enrolments with a seat left."},
    )
    starts_from = ma.fields.Date(
        load_default=None, metadata={"description": "Only classes starting on or after this day."}
    )
    starts_until = ma.fields.Date(
        load_default=None, metadata={"description": "Only classes starting on or before this day."}
    )


CoursePageSchema = page_schema(CourseSchema, "CoursePage")
ClassPageSchema = page_schema(ClassSchema, "ClassPage")


def _class_data(course_class: CourseClass, now: Any) -> dict[str, Any]:
    return {
        **{
            name: getattr(course_class, name)
            for name in (
                "id",
                "code",
                "course",
                "status",
                "starts_on",
                "ends_on",
                "venue",
                "capacity",
                "enrolment_opens_at",
                "enrolment_closes_at",
                "withdrawal_deadline_at",
                "min_attendance_pct",
                "assessment_required",
            )
        },
        "seats_left": max(course_class.capacity - course_class.seats_taken, 0),
        "availability": catalogue.class_availability(course_class, now),
    }


def _public_classes() -> Any:
    return (
        select(CourseClass)
        .join(CourseClass.course)
        .where(Course.status == CourseStatus.PUBLISHED, CourseClass.status != ClassStatus.DRAFT)
        .options(contains_eager(CourseClass.course))
    )


@blp.route("/courses")
@blp.public
@blp.arguments(CourseListArguments, location="query")
@blp.response(200, CoursePageSchema)
def list_courses(arguments: dict[str, Any]) -> Any:
    """The published courses, filtered as the catalogue's search filters them."""
    limit, cursor = arguments.pop("limit"), arguments.pop("cursor")
    query = catalogue.CatalogueQuery(**arguments)
    conditions = catalogue.course_conditions(query, today=today_hk(), now=utcnow())
    page = paginate(
        select(Course).where(*conditions), Course.id, limit=limit, cursor=cursor, filters=arguments
    )
    return {"items": page.items, "next_cursor": page.next_cursor}, 200, link_header(page)


@blp.route("/courses/<code:code>")
@blp.public
@blp.response(200, CourseDetailSchema)
def get_course(code: str) -> Any:
    """A published course, its prerequisites and its upcoming and running classes."""
    course = catalogue.find_course(code, None) if len(code) <= 30 else None
    if course is None:
        raise ApiProblem(404)
    now = utcnow()
    course_page = catalogue.course_page(course, None, now=now)
    classes = [_class_data(offer.course_class, now) for offer in course_page.offers]
    return {**_course_fields(course), "classes": classes}


def _course_fields(course: Course) -> dict[str, Any]:
    return {
        name: getattr(course, name) for name in CourseDetailSchema().fields if name != "classes"
    }


@blp.route("/classes")
@blp.public
@blp.arguments(ClassListArguments, location="query")
@blp.response(200, ClassPageSchema)
def list_classes(arguments: dict[str, Any]) -> Any:
    """The classes of published courses that are not over, with their seats left."""
    limit, cursor = arguments.pop("limit"), arguments.pop("cursor")
    now = utcnow()
    statement = _public_classes().where(
        CourseClass.status.in_(UNFINISHED_STATUSES), CourseClass.ends_on >= today_hk()
    )
    if arguments["course"]:
        statement = statement.where(Course.code == arguments["course"].strip().upper())
    if arguments["open_seats"]:
        statement = statement.where(*catalogue.with_open_seats(now))
    if arguments["starts_from"]:
        statement = statement.where(CourseClass.starts_on >= arguments["starts_from"])
    if arguments["starts_until"]:
        statement = statement.where(CourseClass.starts_on <= arguments["starts_until"])
    page = paginate(statement, CourseClass.id, limit=limit, cursor=cursor, filters=arguments)
    items = [_class_data(course_class, now) for course_class in page.items]
    return {"items": items, "next_cursor": page.next_cursor}, 200, link_header(page)


@blp.route("/classes/<code:code>")
@blp.public
@blp.response(200, ClassDetailSchema)
def get_class(code: str) -> Any:
    """A class of a published course, with its sessions."""
    statement = (
        _public_classes()
        .where(CourseClass.code == code.strip().upper())
        .options(selectinload(CourseClass.sessions))
    )
    course_class = db.session.scalar(statement) if len(code) <= 40 else None
    if course_class is None:
        raise ApiProblem(404)
    return {**_class_data(course_class, utcnow()), "sessions": list(course_class.sessions)}
