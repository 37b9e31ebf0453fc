"""Programme administration of courses: the service rules, and the admin pages through the client.

Service tests call ``skillsup.services.courses`` inside the ``app`` fixture's application
context and commit where a view would; view tests go through the client as a logged-in admin.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
    AuditEntry,
    ClassStatus,
    Course,
    CourseStatus,
    DeliveryMode,
    SkillArea,
    TeachingLanguage,
    course_prerequisites,
)
from skillsup.services import courses, funding_figures, funding_schemes
from skillsup.services.courses import CourseData
from skillsup.services.errors import PermissionDenied, ValidationFailed

from .queries import page_queries


@pytest.fixture(autouse=True)
def in_request(app: Any) -> Iterator[None]:
    """Run each test in a request, as the views call the services (messages are translated)."""
    with app.test_request_context("/"):
        yield


# Helpers ---------------------------------------------------------------------------------


def course_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Course)) or 0


def link_count() -> int:
    return db.session.scalar(select(func.count()).select_from(course_prerequisites)) or 0


def audit_entries(course: Course) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "courses", AuditEntry.object_id == course.id)
            .order_by(AuditEntry.id)
        )
    )


def prerequisite_codes(course: Course) -> list[str]:
    db.session.refresh(course)
    return [prerequisite.code for prerequisite in course.prerequisites]


def course_data(**overrides: Any) -> CourseData:
    values: dict[str, Any] = {
        "code": "SU-CLD-201",
        "title_en": "Cloud architecture",
        "title_zh": "雲端架構",
        "summary_en": "Design systems that run on the public cloud.",
        "summary_zh": "設計在公有雲上運行的系統。",
        "description_en": "Twelve evenings of design and hands-on labs.",
        "description_zh": "十二個晚上的設計及實習。",
        "outcomes_en": "Choose cloud services\nEstimate costs",
        "outcomes_zh": "選擇雲端服務\n估算成本",
        "audience_en": "Developers and system administrators.",
        "audience_zh": "開發人員及系統管理員。",
        "skills": "AWS, Azure , architecture",
        "skill_area": SkillArea.CLOUD,
        "qf_level": 4,
        "qf_credits": 3,
        "contact_hours": Decimal("36"),
        "delivery_mode": DeliveryMode.HYBRID,
        "teaching_language": TeachingLanguage.CANTONESE,
        "fee": Decimal("6800.50"),
        "prerequisite_ids": [],
    }
    values.update(overrides)
    return CourseData(**values)


def form_data(**overrides: Any) -> dict[str, Any]:
    """What the course form posts; ``None`` leaves a field out (an unticked checkbox)."""
    values: dict[str, Any] = {
        "code": "SU-CLD-201",
        "title_en": "Cloud architecture",
        "title_zh": "雲端架構",
        "summary_en": "Design systems that run on the public cloud.",
        "summary_zh": "設計在公有雲上運行的系統。",
        "description_en": "Twelve evenings of design and hands-on labs.",
        "description_zh": "十二個晚上的設計及實習。",
        "outcomes_en": "Choose cloud services\nEstimate costs",
        "outcomes_zh": "選擇雲端服務\n估算成本",
        "audience_en": "Developers and system administrators.",
        "audience_zh": "開發人員及系統管理員。",
        "skills": "AWS, Azure",
        "skill_area": "cloud",
        "qf_level": "4",
        "qf_credits": "3",
        "contact_hours": "36",
        "delivery_mode": "hybrid",
        "teaching_language": "cantonese",
        "fee": "6800.50",
        "funding_schemes": [],
        "prerequisites": [],
    }
    values.update(overrides)
    result: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        result[key] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return result


def edit_form_data(course: Course, **overrides: Any) -> dict[str, Any]:
    """The edit form of ``course`` as posted unchanged, with ``overrides``."""
    data = CourseData.from_course(course)
    values: dict[str, Any] = {}
    for name in courses.SCALAR_FIELDS:
        value = getattr(data, name)
        values[name] = "" if value is None else getattr(value, "value", value)
    values["funding_schemes"] = [scheme.id for scheme in course.funding_schemes]
    values["prerequisites"] = data.prerequisite_ids
    values.update(overrides)
    return form_data(**values)


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


# Service: creating -----------------------------------------------------------------------


def test_create_course_in_both_languages_with_prerequisites(admin, make):
    basics = make.course(code="SU-CLD-101")
    networking = make.course(code="SU-NET-101")

    course = courses.create_course(
        admin,
        course_data(code=" su-cld-201 ", prerequisite_ids=[networking.id, basics.id]),
    )
    db.session.commit()

    saved = db.session.get(Course, course.id)
    assert saved.code == "SU-CLD-201"
    assert saved.status == CourseStatus.DRAFT
    assert (saved.title_en, saved.title_zh) == ("Cloud architecture", "雲端架構")
    assert saved.summary_zh == "設計在公有雲上運行的系統。"
    assert saved.outcomes_zh == "選擇雲端服務\n估算成本"
    assert saved.skills == "AWS, Azure, architecture"
    assert saved.skill_area == SkillArea.CLOUD
    assert saved.delivery_mode == DeliveryMode.HYBRID
    assert saved.teaching_language == TeachingLanguage.CANTONESE
    assert (saved.qf_level, saved.qf_credits) == (4, 3)
    assert saved.contact_hours == Decimal("36.0")
    assert saved.fee == Decimal("6800.50")
    assert prerequisite_codes(saved) == ["SU-CLD-101", "SU-NET-101"]

    [entry] = audit_entries(saved)
    assert entry.action == "course.created"
    assert entry.actor_id == admin.id
    assert entry.details["code"] == "SU-CLD-201"
    assert entry.details["prerequisites"] == "SU-CLD-101, SU-NET-101"


def test_chinese_fields_are_optional_and_blank_ones_are_stored_as_none(admin):
    course = courses.create_course(
        admin,
        course_data(
            title_zh="  ",
            summary_zh="",
            description_zh=None,
            outcomes_zh="",
            audience_zh="",
        ),
    )
    db.session.commit()
    saved = db.session.get(Course, course.id)
    assert saved.title_zh is None
    assert saved.summary_zh is None
    assert saved.outcomes_zh is None


@pytest.mark.parametrize("role", ["learner", "hr_officer", "trainer"])
def test_only_admins_manage_courses(request, role, make):
    actor = request.getfixturevalue(role)
    course = make.course(code="SU-CLD-101", status=CourseStatus.DRAFT)
    before = course_count()

    with pytest.raises(PermissionDenied):
        courses.create_course(actor, course_data())
    with pytest.raises(PermissionDenied):
        courses.update_course(actor, course, course_data(code="SU-CLD-101"))
    for change in (courses.publish_course, courses.unpublish_course, courses.archive_course):
        with pytest.raises(PermissionDenied):
            change(actor, course)
    db.session.rollback()

    assert course_count() == before
    assert db.session.get(Course, course.id).title_en != "Cloud architecture"
    assert audit_entries(course) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "su-cld-101"}, "code"),
        ({"code": "SU-CLD-101"}, "code"),
        ({"code": "AB"}, "code"),
        ({"code": "-SU-CLD"}, "code"),
        ({"code": "SU CLD 101"}, "code"),
        ({"code": "SU_CLD_101"}, "code"),
        ({"code": "S" * 31}, "code"),
        ({"title_en": "  "}, "title_en"),
        ({"title_en": "T" * 201}, "title_en"),
        ({"qf_level": 0}, "qf_level"),
        ({"qf_level": 8}, "qf_level"),
        ({"qf_credits": -1}, "qf_credits"),
        ({"contact_hours": Decimal("0")}, "contact_hours"),
        ({"contact_hours": Decimal("-3")}, "contact_hours"),
        ({"contact_hours": Decimal("1.25")}, "contact_hours"),
        ({"contact_hours": Decimal("NaN")}, "contact_hours"),
        ({"fee": Decimal("-0.01")}, "fee"),
        ({"fee": Decimal("1.001")}, "fee"),
        ({"skill_area": "astrology"}, "skill_area"),
        ({"delivery_mode": "by post"}, "delivery_mode"),
        ({"teaching_language": "latin"}, "teaching_language"),
        ({"prerequisite_ids": [987654]}, "prerequisites"),
    ],
)
def test_create_refuses_bad_data_and_saves_nothing(admin, make, overrides, field):
    make.course(code="SU-CLD-101")
    courses_before, links_before = course_count(), link_count()

    with pytest.raises(ValidationFailed) as refusal:
        courses.create_course(admin, course_data(**overrides))
    db.session.rollback()

    assert refusal.value.field == field
    assert course_count() == courses_before
    assert link_count() == links_before


def test_duplicate_code_message_names_the_code(admin, make):
    make.course(code="SU-CLD-101")
    with pytest.raises(ValidationFailed) as refusal:
        courses.create_course(admin, course_data(code="su-cld-101"))
    assert str(refusal.value.message) == "Another course already has the code SU-CLD-101."


# Service: updating -----------------------------------------------------------------------


def test_update_changes_every_field_and_records_old_and_new(admin, make):
    basics = make.course(code="SU-CLD-101")
    course = make.course(
        code="SU-CLD-201",
        title_en="Cloud basics II",
        fee=Decimal("4800"),
        status=CourseStatus.DRAFT,
        prerequisites=[basics],
    )
    security = make.course(code="SU-SEC-101")

    courses.update_course(
        admin,
        course,
        course_data(
            code="su-cld-202",
            title_en="Cloud architecture",
            fee=Decimal("5200"),
            qf_level=5,
            skill_area=SkillArea.CYBERSECURITY,
            prerequisite_ids=[security.id],
        ),
    )
    db.session.commit()

    saved = db.session.get(Course, course.id)
    assert saved.code == "SU-CLD-202"
    assert saved.title_en == "Cloud architecture"
    assert saved.fee == Decimal("5200.00")
    assert prerequisite_codes(saved) == ["SU-SEC-101"]
    [entry] = audit_entries(saved)
    assert entry.action == "course.updated"
    assert entry.details["code"] == "SU-CLD-201 → SU-CLD-202"
    assert entry.details["title_en"] == "Cloud basics II → Cloud architecture"
    assert entry.details["fee"] == "4800.00 → 5200.00"
    assert entry.details["qf_level"] == "4 → 5"
    assert entry.details["skill_area"] == "cloud → cybersecurity"
    assert entry.details["prerequisites"] == "SU-CLD-101 → SU-SEC-101"
    assert entry.details["title_zh"].endswith("→ 雲端架構")
    assert "contact_hours" in entry.details
    assert "delivery_mode" in entry.details


def test_update_with_nothing_changed_records_nothing(admin, make):
    course = make.course(code="SU-CLD-201")
    courses.update_course(admin, course, CourseData.from_course(course))
    db.session.commit()
    assert audit_entries(course) == []


def test_update_may_keep_its_own_code_in_another_case(admin, make):
    course = make.course(code="SU-CLD-201")
    data = CourseData.from_course(course)
    data.code = "su-cld-201"
    data.title_en = "Renamed"
    courses.update_course(admin, course, data)
    db.session.commit()
    assert db.session.get(Course, course.id).code == "SU-CLD-201"


def test_update_refuses_a_code_another_course_has(admin, make):
    make.course(code="SU-CLD-101")
    course = make.course(code="SU-CLD-201")
    data = CourseData.from_course(course)
    data.code = "Su-Cld-101"
    with pytest.raises(ValidationFailed) as refusal:
        courses.update_course(admin, course, data)
    db.session.rollback()
    assert refusal.value.field == "code"
    assert db.session.get(Course, course.id).code == "SU-CLD-201"


def test_a_course_cannot_be_its_own_prerequisite(admin, make):
    course = make.course(code="SU-CLD-201")
    data = CourseData.from_course(course)
    data.prerequisite_ids = [course.id]
    with pytest.raises(ValidationFailed) as refusal:
        courses.update_course(admin, course, data)
    db.session.rollback()
    assert refusal.value.field == "prerequisites"
    assert str(refusal.value.message) == "A course cannot be its own prerequisite."
    assert link_count() == 0


def test_two_courses_cannot_require_each_other(admin, make):
    b = make.course(code="SU-B-101")
    a = make.course(code="SU-A-101", prerequisites=[b])
    data = CourseData.from_course(b)
    data.prerequisite_ids = [a.id]

    with pytest.raises(ValidationFailed) as refusal:
        courses.update_course(admin, b, data)
    db.session.rollback()

    assert refusal.value.field == "prerequisites"
    assert "SU-B-101 → SU-A-101 → SU-B-101" in str(refusal.value.message)
    assert link_count() == 1
    assert prerequisite_codes(b) == []


def test_a_longer_chain_of_prerequisites_cannot_loop_back(admin, make):
    d = make.course(code="SU-D-101")
    c = make.course(code="SU-C-101", prerequisites=[d])
    b = make.course(code="SU-B-101", prerequisites=[c])
    a = make.course(code="SU-A-101", prerequisites=[b])
    other = make.course(code="SU-X-101")
    data = CourseData.from_course(d)
    data.prerequisite_ids = [other.id, a.id]

    with pytest.raises(ValidationFailed) as refusal:
        courses.update_course(admin, d, data)
    db.session.rollback()

    assert refusal.value.field == "prerequisites"
    assert "SU-D-101 → SU-A-101 → SU-B-101 → SU-C-101 → SU-D-101" in str(refusal.value.message)
    assert link_count() == 3


def test_prerequisites_may_share_a_course_without_a_loop(admin, make):
    base = make.course(code="SU-BASE-101")
    left = make.course(code="SU-L-101", prerequisites=[base])
    right = make.course(code="SU-R-101", prerequisites=[base])
    top = make.course(code="SU-TOP-101")
    data = CourseData.from_course(top)
    data.prerequisite_ids = [left.id, right.id, base.id]
    courses.update_course(admin, top, data)
    db.session.commit()
    assert prerequisite_codes(top) == ["SU-BASE-101", "SU-L-101", "SU-R-101"]


def test_a_published_course_keeps_an_english_summary(admin, make):
    course = make.course(code="SU-CLD-201", status=CourseStatus.PUBLISHED)
    data = CourseData.from_course(course)
    data.summary_en = " "
    with pytest.raises(ValidationFailed) as refusal:
        courses.update_course(admin, course, data)
    assert refusal.value.field == "summary_en"


# Service: publishing, unpublishing, archiving --------------------------------------------


def test_publish_unpublish_and_archive_are_recorded(admin, make):
    course = make.course(code="SU-CLD-201", status=CourseStatus.DRAFT)

    courses.publish_course(admin, course)
    db.session.commit()
    assert db.session.get(Course, course.id).status == CourseStatus.PUBLISHED
    courses.unpublish_course(admin, course)
    db.session.commit()
    assert db.session.get(Course, course.id).status == CourseStatus.DRAFT
    courses.archive_course(admin, course)
    db.session.commit()
    assert db.session.get(Course, course.id).status == CourseStatus.ARCHIVED

    entries = audit_entries(course)
    assert [e.action for e in entries] == [
        "course.published",
        "course.unpublished",
        "course.archived",
    ]
    assert entries[0].details == {"status": "draft → published"}
    assert entries[2].details == {"status": "draft → archived"}


def test_an_archived_course_with_enrolments_is_kept(admin, make, learner):
    course = make.course(code="SU-CLD-201")
    course_class = make.course_class(course)
    make.enrolment(course_class, learner)
    courses.archive_course(admin, course)
    db.session.commit()
    assert db.session.get(Course, course.id).status == CourseStatus.ARCHIVED
    assert course_count() == 1


@pytest.mark.parametrize(
    ("status", "change", "message"),
    [
        (CourseStatus.PUBLISHED, courses.publish_course, "This course is already published."),
        (CourseStatus.DRAFT, courses.unpublish_course, "This course is already a draft."),
        (CourseStatus.ARCHIVED, courses.archive_course, "This course is already archived."),
    ],
)
def test_a_change_to_the_status_a_course_has_is_refused_clearly(
    admin, make, status, change, message
):
    course = make.course(code="SU-CLD-201", status=status)
    with pytest.raises(ValidationFailed) as refusal:
        change(admin, course)
    assert str(refusal.value.message) == message
    assert audit_entries(course) == []


@pytest.mark.parametrize("missing", ["title_en", "summary_en"])
def test_publishing_needs_the_english_title_and_summary(admin, make, missing):
    course = make.course(code="SU-CLD-201", status=CourseStatus.DRAFT, **{missing: ""})
    with pytest.raises(ValidationFailed) as refusal:
        courses.publish_course(admin, course)
    db.session.rollback()
    assert "English title and summary" in str(refusal.value.message)
    assert db.session.get(Course, course.id).status == CourseStatus.DRAFT


def test_an_archived_course_can_be_published_again(admin, make):
    course = make.course(code="SU-CLD-201", status=CourseStatus.ARCHIVED)
    courses.publish_course(admin, course)
    db.session.commit()
    assert db.session.get(Course, course.id).status == CourseStatus.PUBLISHED


# Service: queries ------------------------------------------------------------------------


def test_admin_list_searches_code_and_both_titles_and_filters(make):
    make.course(code="SU-CLD-101", title_en="Cloud basics", title_zh="雲端入門")
    make.course(
        code="SU-SEC-101",
        title_en="Security basics",
        title_zh="資訊保安入門",
        skill_area=SkillArea.CYBERSECURITY,
        status=CourseStatus.DRAFT,
    )
    make.course(code="SU-DAT-101", title_en="Data 100%", status=CourseStatus.ARCHIVED)

    def codes(*args: Any) -> list[str]:
        return [c.code for c in db.session.scalars(courses.course_admin_list(*args))]

    assert codes() == ["SU-CLD-101", "SU-DAT-101", "SU-SEC-101"]
    assert codes("sec") == ["SU-SEC-101"]
    assert codes("cloud") == ["SU-CLD-101"]
    assert codes("保安") == ["SU-SEC-101"]
    assert codes("100%") == ["SU-DAT-101"]
    assert codes("%") == ["SU-DAT-101"]
    assert codes(None, CourseStatus.DRAFT) == ["SU-SEC-101"]
    assert codes(None, None, SkillArea.CYBERSECURITY) == ["SU-SEC-101"]
    assert codes("basics", CourseStatus.PUBLISHED, SkillArea.CLOUD) == ["SU-CLD-101"]


def test_class_counts(make):
    busy = make.course()
    idle = make.course()
    make.course_class(busy)
    make.course_class(busy)
    assert courses.class_counts([busy.id, idle.id]) == {busy.id: 2, idle.id: 0}
    assert courses.class_counts([]) == {}


# Pages: permissions ----------------------------------------------------------------------

ROUTES = [
    ("GET", "/admin/courses"),
    ("GET", "/admin/courses/new"),
    ("POST", "/admin/courses/new"),
    ("GET", "/admin/courses/{id}"),
    ("GET", "/admin/courses/{id}/edit"),
    ("POST", "/admin/courses/{id}/edit"),
    ("POST", "/admin/courses/{id}/publish"),
    ("POST", "/admin/courses/{id}/unpublish"),
    ("POST", "/admin/courses/{id}/archive"),
]


def _request(client: Any, method: str, path: str, course: Course) -> Any:
    url = path.format(id=course.id)
    if method == "GET":
        return client.get(url)
    return client.post(url, data=form_data(code="SU-NEW-101", title_en="Changed"))


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("role", ["learner", "hr_officer", "trainer"])
def test_other_roles_are_refused_every_course_admin_route(
    request, make, login_as, method, path, role
):
    course = make.course(code="SU-CLD-101", status=CourseStatus.PUBLISHED)
    client = login_as(request.getfixturevalue(role))

    response = _request(client, method, path, course)

    assert response.status_code == 403
    assert course_count() == 1
    saved = db.session.get(Course, course.id)
    assert saved.title_en != "Changed"
    assert saved.status == CourseStatus.PUBLISHED
    assert audit_entries(course) == []


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_log_in_on_every_course_admin_route(
    client, make, method, path
):
    course = make.course(code="SU-CLD-101", status=CourseStatus.PUBLISHED)

    response = _request(client, method, path, course)

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert course_count() == 1
    assert db.session.get(Course, course.id).status == CourseStatus.PUBLISHED


def test_unknown_course_is_404(admin, login_as):
    client = login_as(admin)
    assert client.get("/admin/courses/999999").status_code == 404
    assert client.get("/admin/courses/999999/edit").status_code == 404
    assert client.post("/admin/courses/999999/publish").status_code == 404


# Pages: creating and editing -------------------------------------------------------------


def test_admin_creates_a_course_with_both_languages_and_prerequisites(admin, make, login_as):
    basics = make.course(code="SU-CLD-101", title_en="Cloud basics")
    networking = make.course(code="SU-NET-101", title_en="Networking basics")
    cef = funding_schemes.ensure_published_schemes()[funding_figures.CEF]
    db.session.commit()
    client = login_as(admin)

    page = client.get("/admin/courses/new")
    assert page.status_code == 200
    body = text(page)
    assert "SU-CLD-101 Cloud basics" in body
    assert 'name="title_zh"' in body
    assert "CEF Continuing Education Fund" in body

    response = client.post(
        "/admin/courses/new",
        data=form_data(
            code="su-cld-201",
            prerequisites=[basics.id, networking.id],
            funding_schemes=[cef.id],
        ),
    )

    course = db.session.scalar(select(Course).where(Course.code == "SU-CLD-201"))
    assert course is not None
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/admin/courses/{course.id}"
    assert course.status == CourseStatus.DRAFT
    assert course.title_zh == "雲端架構"
    assert course.audience_zh == "開發人員及系統管理員。"
    assert course.teaching_language == TeachingLanguage.CANTONESE
    assert course.fee == Decimal("6800.50")
    assert [scheme.code for scheme in course.funding_schemes] == ["CEF"]
    assert prerequisite_codes(course) == ["SU-CLD-101", "SU-NET-101"]

    shown = text(client.get(response.headers["Location"]))
    assert "has been created as a draft" in shown
    assert "Cloud architecture" in shown
    assert "雲端架構" in shown
    assert "估算成本" in shown
    assert "SU-NET-101" in shown
    assert "Created the course" in shown and "course.created" not in shown


def test_edit_form_shows_the_course_as_it_is(admin, make, login_as):
    basics = make.course(code="SU-CLD-101")
    course = make.course(
        code="SU-CLD-201",
        title_zh="雲端架構",
        delivery_mode=DeliveryMode.HYBRID,
        prerequisites=[basics],
    )
    body = text(login_as(admin).get(f"/admin/courses/{course.id}/edit"))
    assert 'value="SU-CLD-201"' in body
    assert 'value="雲端架構"' in body
    assert f'<option selected value="{basics.id}">' in body
    assert '<option selected value="hybrid">' in body
    assert f'<option value="{course.id}">' not in body


def test_editing_records_the_changed_fields_and_the_course_page_shows_them(admin, make, login_as):
    course = make.course(code="SU-CLD-201", title_en="Cloud basics II", fee=Decimal("4800"))
    client = login_as(admin)

    response = client.post(
        f"/admin/courses/{course.id}/edit",
        data=edit_form_data(course, title_en="Cloud architecture", fee="5200", description_en=""),
    )

    assert response.status_code == 302
    [entry] = audit_entries(course)
    assert entry.action == "course.updated"
    assert entry.details == {
        "title_en": "Cloud basics II → Cloud architecture",
        "fee": "4800.00 → 5200.00",
    }
    page = text(client.get(f"/admin/courses/{course.id}"))
    assert "The changes to SU-CLD-201 have been saved." in page
    assert "Change history" in page
    assert "Changed the course" in page and "course.updated" not in page
    assert "Cloud basics II → Cloud architecture" in page
    assert "4800.00 → 5200.00" in page
    assert admin.name in page


BAD_NEW_COURSE_INPUTS = [
    ({"code": "su-cld-101"}, "Another course already has the code SU-CLD-101."),
    ({"code": "AB"}, "Use 3 to 30 capital letters, digits and hyphens"),
    ({"code": "SU CLD 1"}, "Use 3 to 30 capital letters, digits and hyphens"),
    ({"code": ""}, "This field is required."),
    ({"title_en": ""}, "This field is required."),
    ({"qf_level": "0"}, "The QF level is a whole number from 1 to 7."),
    ({"qf_level": "8"}, "The QF level is a whole number from 1 to 7."),
    ({"qf_level": "four"}, "Not a valid integer value."),
    ({"qf_credits": "-1"}, "QF credits are a whole number from 0 to 999."),
    ({"contact_hours": "0"}, "Enter the contact hours: more than zero"),
    ({"contact_hours": "-2"}, "Enter the contact hours: more than zero"),
    ({"contact_hours": "2.25"}, "Enter the contact hours: more than zero"),
    ({"fee": "-1"}, "Enter the fee in Hong Kong dollars: zero or more"),
    ({"fee": "10.005"}, "Enter the fee in Hong Kong dollars: zero or more"),
    ({"skill_area": "astrology"}, "Not a valid choice."),
    ({"prerequisites": ["987654"]}, "There is no course with the id 987654."),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_NEW_COURSE_INPUTS)
def test_bad_input_on_the_new_course_form_is_shown_and_nothing_is_saved(
    admin, make, login_as, overrides, message
):
    existing = make.course(code="SU-CLD-101")
    make.course(code="SU-NET-101", prerequisites=[existing])
    courses_before, links_before = course_count(), link_count()

    response = login_as(admin).post("/admin/courses/new", data=form_data(**overrides))

    assert response.status_code == 200
    body = text(response)
    assert message in body
    assert 'class="field-error"' in body
    assert course_count() == courses_before
    assert link_count() == links_before


def test_bad_input_on_the_edit_form_is_shown_next_to_its_field(admin, make, login_as):
    course = make.course(code="SU-CLD-201", title_en="Cloud architecture")
    response = login_as(admin).post(
        f"/admin/courses/{course.id}/edit", data=edit_form_data(course, qf_level="9")
    )
    assert response.status_code == 200
    body = text(response)
    assert 'id="qf_level-error"' in body
    assert "The QF level is a whole number from 1 to 7." in body
    assert db.session.get(Course, course.id).qf_level == 4
    assert audit_entries(course) == []


def _chain(make: Any, *codes: str) -> list[Course]:
    """Courses where each requires the next: ``_chain(make, "A", "B")`` makes A require B."""
    made: list[Course] = []
    for code in reversed(codes):
        made.insert(0, make.course(code=code, prerequisites=made[:1]))
    return made


@pytest.mark.parametrize(
    ("chain", "edited", "chosen", "message"),
    [
        (("SU-A-101",), 0, [0], "A course cannot be its own prerequisite."),
        (
            ("SU-A-101", "SU-B-101"),
            1,
            [0],
            "These prerequisites would make a loop: SU-B-101 → SU-A-101 → SU-B-101.",
        ),
        (
            ("SU-A-101", "SU-B-101", "SU-C-101"),
            2,
            [0],
            "These prerequisites would make a loop: SU-C-101 → SU-A-101 → SU-B-101 → SU-C-101.",
        ),
    ],
)
def test_prerequisite_loops_are_refused_on_the_edit_form(
    admin, make, login_as, chain, edited, chosen, message
):
    made = _chain(make, *chain)
    course = made[edited]
    courses_before, links_before = course_count(), link_count()
    prerequisites_before = prerequisite_codes(course)

    response = login_as(admin).post(
        f"/admin/courses/{course.id}/edit",
        data=edit_form_data(course, prerequisites=[made[i].id for i in chosen]),
    )

    assert response.status_code == 200
    body = text(response)
    assert 'id="prerequisites-error"' in body
    assert message in body
    assert course_count() == courses_before
    assert link_count() == links_before
    assert prerequisite_codes(course) == prerequisites_before
    assert audit_entries(course) == []


def test_duplicate_code_on_the_edit_form(admin, make, login_as):
    make.course(code="SU-CLD-101")
    course = make.course(code="SU-CLD-201")
    response = login_as(admin).post(
        f"/admin/courses/{course.id}/edit", data=edit_form_data(course, code="sU-cLd-101")
    )
    assert response.status_code == 200
    assert "Another course already has the code SU-CLD-101." in text(response)
    assert db.session.get(Course, course.id).code == "SU-CLD-201"


# Pages: publishing, unpublishing, archiving ----------------------------------------------


def test_publish_unpublish_and_archive_buttons(admin, make, login_as):
    course = make.course(code="SU-CLD-201", status=CourseStatus.DRAFT)
    client = login_as(admin)
    page = text(client.get(f"/admin/courses/{course.id}"))
    assert f'action="/admin/courses/{course.id}/publish"' in page
    assert f'action="/admin/courses/{course.id}/unpublish"' not in page

    response = client.post(f"/admin/courses/{course.id}/publish")
    assert response.status_code == 302
    assert db.session.get(Course, course.id).status == CourseStatus.PUBLISHED
    page = text(client.get(f"/admin/courses/{course.id}"))
    assert "SU-CLD-201 is now in the public catalogue." in page
    assert f'action="/admin/courses/{course.id}/publish"' not in page

    client.post(f"/admin/courses/{course.id}/unpublish")
    assert db.session.get(Course, course.id).status == CourseStatus.DRAFT

    client.post(f"/admin/courses/{course.id}/archive")
    assert db.session.get(Course, course.id).status == CourseStatus.ARCHIVED
    page = text(client.get(f"/admin/courses/{course.id}"))
    assert "SU-CLD-201 has been archived." in page
    assert f'action="/admin/courses/{course.id}/archive"' not in page

    response = client.post(f"/admin/courses/{course.id}/archive")
    assert response.status_code == 302
    assert "This course is already archived." in text(client.get(response.headers["Location"]))
    assert [e.action for e in audit_entries(course)] == [
        "course.published",
        "course.unpublished",
        "course.archived",
    ]


def test_publishing_without_an_english_summary_explains_why(admin, make, login_as):
    course = make.course(code="SU-CLD-201", status=CourseStatus.DRAFT, summary_en="")
    client = login_as(admin)
    response = client.post(f"/admin/courses/{course.id}/publish")
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Add an English title and summary before publishing." in page
    assert db.session.get(Course, course.id).status == CourseStatus.DRAFT


# Pages: the list and a course's page -----------------------------------------------------


def test_course_list_search_filters_counts_and_classes(admin, make, login_as):
    cloud = make.course(code="SU-CLD-101", title_en="Cloud basics", title_zh="雲端入門")
    make.course_class(cloud)
    make.course_class(cloud)
    make.course(
        code="SU-SEC-101",
        title_en="Security basics",
        title_zh="資訊保安入門",
        skill_area=SkillArea.CYBERSECURITY,
        status=CourseStatus.DRAFT,
    )
    client = login_as(admin)

    body = text(client.get("/admin/courses"))
    assert "2 courses" in body
    assert "SU-CLD-101" in body and "SU-SEC-101" in body
    assert re.search(r'<td class="numeric"[^>]*>2</td>', body)
    assert re.search(r'<td class="numeric"[^>]*>0</td>', body)

    for query in ("q=cld", "q=Cloud", "q=雲端"):
        body = text(client.get(f"/admin/courses?{query}"))
        assert "1 course" in body and "SU-CLD-101" in body and "SU-SEC-101" not in body

    body = text(client.get("/admin/courses?status=draft"))
    assert "SU-SEC-101" in body and "SU-CLD-101" not in body
    body = text(client.get("/admin/courses?skill_area=cybersecurity"))
    assert "SU-SEC-101" in body and "SU-CLD-101" not in body
    body = text(client.get("/admin/courses?status=archived"))
    assert "0 courses" in body


def test_course_list_ignores_unknown_filter_values(admin, make, login_as):
    make.course(code="SU-CLD-101")
    response = login_as(admin).get("/admin/courses?status=gone&skill_area=astrology")
    assert response.status_code == 200
    assert "SU-CLD-101" in text(response)


def test_course_list_pages_keep_the_filters(admin, make, login_as):
    for n in range(30):
        make.course(code=f"SU-CLD-{n:03d}", skill_area=SkillArea.CLOUD)
    make.course(code="SU-SEC-999", skill_area=SkillArea.CYBERSECURITY)
    client = login_as(admin)

    first = text(client.get("/admin/courses?skill_area=cloud"))
    assert "30 courses" in first
    assert "SU-CLD-024" in first and "SU-CLD-025" not in first
    assert "/admin/courses?page=2" in first and "skill_area=cloud" in first

    second = text(client.get("/admin/courses?skill_area=cloud&page=2"))
    assert "SU-CLD-025" in second and "SU-CLD-029" in second and "SU-SEC-999" not in second


@pytest.mark.parametrize("url", ["/admin/courses", "/admin/companies", "/admin/users"])
@pytest.mark.parametrize("page", ["abc", "-3", "0", "9999"])
def test_admin_lists_answer_a_bad_page_number_with_a_page_not_an_error(
    admin, make, login_as, url, page
):
    make.course(code="SU-CLD-101")
    response = login_as(admin).get(f"{url}?page={page}")
    assert response.status_code == 200


def test_course_page_shows_details_classes_and_prerequisites(admin, make, login_as):
    basics = make.course(code="SU-CLD-101", title_en="Cloud basics")
    course = make.course(
        code="SU-CLD-201",
        title_en="Cloud architecture",
        summary_en="Design on the cloud.",
        prerequisites=[basics],
    )
    make.course(code="SU-CLD-301", prerequisites=[course])
    make.course_class(
        course,
        code="SU-CLD-201-2026A",
        capacity=24,
        seats_taken=7,
        starts_on=date(2026, 3, 2),
        ends_on=date(2026, 4, 20),
        status=ClassStatus.RUNNING,
    )

    body = text(login_as(admin).get(f"/admin/courses/{course.id}"))

    assert "Cloud architecture" in body
    assert "Design on the cloud." in body
    assert "SU-CLD-101" in body
    assert "SU-CLD-301" in body
    assert "SU-CLD-201-2026A" in body
    assert "Running" in body
    assert re.search(r'<td class="numeric"[^>]*>7</td>', body)
    assert re.search(r'<td class="numeric"[^>]*>24</td>', body)
    assert "Change history" in body


# Pages: a fixed number of queries --------------------------------------------------------


def _make_courses(make: Any, start: int, count: int) -> None:
    for n in range(start, start + count):
        prerequisite = make.course(code=f"SU-PRE-{n:03d}", status=CourseStatus.DRAFT)
        course = make.course(code=f"SU-CRS-{n:03d}", prerequisites=[prerequisite])
        make.course_class(course)


def test_the_course_pages_run_the_same_number_of_queries_for_3_and_30_courses(
    admin, make, login_as
):
    client = login_as(admin)
    _make_courses(make, 0, 3)
    client.get("/admin/courses")
    few_response, few = page_queries(client, "/admin/courses")
    course_id = db.session.scalar(select(Course.id).where(Course.code == "SU-CRS-000"))
    _, few_detail = page_queries(client, f"/admin/courses/{course_id}")
    _, few_edit = page_queries(client, f"/admin/courses/{course_id}/edit")

    _make_courses(make, 3, 27)
    many_response, many = page_queries(client, "/admin/courses")
    _, many_detail = page_queries(client, f"/admin/courses/{course_id}")
    _, many_edit = page_queries(client, f"/admin/courses/{course_id}/edit")

    assert few_response.status_code == many_response.status_code == 200
    assert "6 courses" in text(few_response)
    assert "60 courses" in text(many_response)
    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= 8
    assert len(few_detail) == len(many_detail)
    assert len(few_edit) == len(many_edit)


def test_the_user_list_shows_each_account_as_active_invited_or_deactivated(
    admin, make, login_as, company
):
    make.user(company=company, name="Ada Active")
    make.user(company=company, name="Ivy Invited", password=None)
    make.user(company=company, name="Dee Deactivated", is_active=False)
    page = login_as(admin).get("/admin/users").get_data(as_text=True)

    def status_of(name: str) -> str:
        row = page.split(f">{name}</a></th>")[1].split("</tr>")[0]
        return re.findall(
            r'class="badge badge-\w+">.*?<span>(Active|Invited|Deactivated)</span>', row
        )[0]

    assert [status_of(n) for n in ("Ada Active", "Ivy Invited", "Dee Deactivated")] == [
        "Active",
        "Invited",
        "Deactivated",
    ]
