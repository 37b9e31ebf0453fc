"""Data the browser tests look up in the demo, or add to it, through the live server's app.

Every function here runs inside ``LiveServer.app_context()`` and commits what it adds, so that
the server, in its own thread, sees it at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from skillsup.extensions import db
from skillsup.labels import label
from skillsup.models import (
    ApiToken,
    Certificate,
    ClassSession,
    ClassStatus,
    CourseClass,
    CourseStatus,
    DeliveryMode,
    Enrolment,
    EnrolmentStatus,
    FundingScheme,
    PartnerCompany,
    Role,
    SkillArea,
    TeachingLanguage,
    User,
    WebhookEndpoint,
    utcnow,
)
from skillsup.services import eligibility
from skillsup.services.errors import DomainError

from ..factories import PASSWORD, Factory
from .support import HR_B, LEARNER_A, LEARNER_B, TRAINER

_numbers = itertools.count(1)

#: The password of the people the tests add (the demo's own accounts use DEMO_PASSWORD).
SCENE_PASSWORD = PASSWORD


def user(email: str) -> User:
    found = db.session.scalar(select(User).where(User.email == email))
    assert found is not None, f"the demo has no user {email}"
    return found


def company(code: str) -> PartnerCompany:
    found = db.session.scalar(select(PartnerCompany).where(PartnerCompany.code == code))
    assert found is not None, f"the demo has no company {code}"
    return found


def course_class(code: str) -> CourseClass:
    found = db.session.scalar(select(CourseClass).where(CourseClass.code == code))
    assert found is not None, f"there is no class {code}"
    return found


@dataclass(frozen=True)
class Offer:
    """An open class that a given learner may enrol in today."""

    class_code: str
    course_code: str
    title: str
    title_zh: str | None
    skill_area: str
    seats_left: int


def _can_enrol(learner: User, candidate: CourseClass, now: Any) -> bool:
    try:
        eligibility.check_eligibility(learner, candidate, now=now)
    except DomainError:
        return False
    return True


def open_classes(*, min_seats: int = 1, exclude: tuple[str, ...] = ()) -> list[CourseClass]:
    """Open classes of published courses that take requests for at least another few days."""
    now = utcnow()
    classes = db.session.scalars(
        select(CourseClass)
        .where(CourseClass.status == ClassStatus.OPEN)
        .order_by(CourseClass.starts_on, CourseClass.code)
    )
    return [
        c
        for c in classes
        if c.code not in exclude
        and c.course.status == CourseStatus.PUBLISHED
        and c.seats_left >= min_seats
        and c.enrolment_closes_at > now + timedelta(days=2)
        and c.withdrawal_deadline_at > now + timedelta(days=2)
    ]


def offer_for(email: str, *, exclude: tuple[str, ...] = ()) -> Offer:
    """The first open class with free seats that ``email`` may enrol in."""
    learner = user(email)
    now = utcnow()
    for candidate in open_classes(exclude=exclude):
        if _can_enrol(learner, candidate, now):
            course = candidate.course
            return Offer(
                class_code=candidate.code,
                course_code=course.code,
                title=course.title_en,
                title_zh=course.title_zh,
                skill_area=str(label(course.skill_area)),
                seats_left=candidate.seats_left,
            )
    raise AssertionError(f"the demo has no open class that {email} may enrol in")


@dataclass(frozen=True)
class Nominee:
    name: str
    email: str
    staff_number: str | None


def nomination_target(company_code: str, count: int) -> tuple[str, list[Nominee]]:
    """A class with ``count`` free seats and ``count`` staff of the company who may join it."""
    now = utcnow()
    staff = list(
        db.session.scalars(
            select(User)
            .join(PartnerCompany, User.company_id == PartnerCompany.id)
            .where(
                PartnerCompany.code == company_code,
                User.role == Role.LEARNER,
                User.deactivated_at.is_(None),
                User.email.not_in([LEARNER_A, LEARNER_B]),
            )
            .order_by(User.id)
        )
    )
    for candidate in open_classes(min_seats=count + 1):
        chosen = [person for person in staff if _can_enrol(person, candidate, now)][:count]
        if len(chosen) == count:
            return candidate.code, [Nominee(p.name, p.email, p.staff_number) for p in chosen]
    raise AssertionError(f"no open class has room for {count} staff of {company_code}")


@dataclass(frozen=True)
class DemoPages:
    """Where the pages the accessibility checks visit are, in this run's demo data."""

    course_code: str
    course_id: int
    certificate_code: str
    employee_id: int
    hr_class_code: str
    trainer_class_code: str
    trainer_session_id: int
    admin_class_id: int
    company_id: int
    nomination_class_code: str
    nomination_email: str
    progress_department: str
    scheme_id: int = 0
    webhook_endpoint_id: int = 0
    #: The demo's API token of partner B's HR officer.
    hr_token_id: int = 0


#: A department of partner B with one employee, who has no attendance yet: the staff
#: progress page filtered to it always shows the "no attendance marked yet" state.
PROGRESS_DEPARTMENT = "Accessibility"
PROGRESS_EMPLOYEE = "mandy.cheung.a11y@partner-b.test"


def _progress_employee() -> None:
    if db.session.scalar(select(User.id).where(User.email == PROGRESS_EMPLOYEE)) is None:
        Factory().user(
            role=Role.LEARNER,
            company=company("LRFT"),
            email=PROGRESS_EMPLOYEE,
            name="Mandy Cheung Hoi Ching",
            department=PROGRESS_DEPARTMENT,
            staff_number="LR70001",
        )


def demo_pages() -> DemoPages:
    """Find (and where needed add) what the pages in ``pages.PAGES`` show."""
    _progress_employee()
    learner_a = user(LEARNER_A)
    certificate = db.session.scalar(
        select(Certificate)
        .join(Enrolment, Certificate.enrolment_id == Enrolment.id)
        .where(Enrolment.learner_id == learner_a.id)
        .limit(1)
    )
    assert certificate is not None, "the demo's learner has no certificate"
    learner_b = user(LEARNER_B)
    hr_class = db.session.scalar(
        select(CourseClass)
        .join(Enrolment, Enrolment.class_id == CourseClass.id)
        .where(
            Enrolment.learner_id == learner_b.id,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
        )
        .limit(1)
    )
    assert hr_class is not None, "the demo's partner B learner has no class"
    trainer = user(TRAINER)
    now = utcnow()
    # A running class of the trainer's with an assessment: every trainer page has content.
    running = [
        c
        for c in db.session.scalars(
            select(CourseClass)
            .where(CourseClass.status == ClassStatus.RUNNING)
            .order_by(CourseClass.code)
        )
        if trainer in c.trainers
    ]
    assert running, "the demo's trainer has no running class"
    trainer_class = next((c for c in running if c.assessment_required), running[0])
    started = [s for s in trainer_class.sessions if s.starts_at <= now and not s.is_cancelled]
    assert started, f"no session of {trainer_class.code} has started"
    hr_b = user(HR_B)
    target, nominees = nomination_target(hr_b.company.code, 1)
    cld101 = db.session.scalar(
        select(CourseClass).where(CourseClass.code.like("SU-CLD-101-%")).limit(1)
    )
    assert cld101 is not None
    return DemoPages(
        course_code="SU-CLD-101",
        course_id=cld101.course_id,
        certificate_code=certificate.verification_code,
        employee_id=learner_b.id,
        hr_class_code=hr_class.code,
        trainer_class_code=trainer_class.code,
        trainer_session_id=started[-1].id,
        admin_class_id=trainer_class.id,
        company_id=hr_b.company_id,
        nomination_class_code=target,
        nomination_email=nominees[0].email,
        progress_department=PROGRESS_DEPARTMENT,
        scheme_id=db.session.scalar(select(FundingScheme.id).where(FundingScheme.code == "CEF"))
        or 0,
        webhook_endpoint_id=db.session.scalar(
            select(WebhookEndpoint.id).where(WebhookEndpoint.company_id == hr_b.company_id)
        )
        or 0,
        hr_token_id=db.session.scalar(
            select(ApiToken.id).where(ApiToken.company_id == hr_b.company_id).limit(1)
        )
        or 0,
    )


@dataclass(frozen=True)
class RunningClass:
    """A class of the tests' own that is running, with one session already over."""

    code: str
    course_code: str
    title: str
    session_id: int
    learners: dict[str, int]  # e-mail: enrolment id


def running_class(
    learners: list[User], *, title: str, trainer_email: str = TRAINER
) -> RunningClass:
    """Add a published course with a running class taught by ``trainer_email``, whose only
    session ended yesterday, with ``learners`` confirmed in it."""
    number = next(_numbers)
    make = Factory()
    course = make.course(
        code=f"SU-BRW-{number:03d}",
        title_en=title,
        title_zh="瀏覽器測試工作坊",
        summary_en="A short workshop that the browser tests run from start to finish.",
        skill_area=SkillArea.SOFTWARE_ENGINEERING,
        delivery_mode=DeliveryMode.ON_CAMPUS,
        teaching_language=TeachingLanguage.ENGLISH,
        contact_hours=Decimal("3"),
        fee=Decimal("1200"),
        status=CourseStatus.PUBLISHED,
    )
    now = utcnow()
    first = (now - timedelta(days=2)).replace(hour=11, minute=0, second=0, microsecond=0)
    cls = make.course_class(
        course=course,
        code=f"{course.code}-RUN",
        capacity=10,
        trainers=[user(trainer_email)],
        sessions=1,
        first_session=first,
        status=ClassStatus.RUNNING,
        starts_on=(first + timedelta(hours=8)).date(),
        ends_on=(first + timedelta(hours=8)).date(),
    )
    enrolments = {person.email: make.enrolment(cls, person).id for person in learners}
    session = db.session.scalar(select(ClassSession).where(ClassSession.class_id == cls.id))
    assert session is not None
    return RunningClass(cls.code, course.code, title, session.id, enrolments)


def new_learners(company_code: str, names: list[str]) -> list[User]:
    """Add active learners to a demo company, with e-mail addresses at its domain."""
    make = Factory()
    owner = company(company_code)
    domain = owner.domains[0].domain
    people = []
    for name in names:
        number = next(_numbers)
        local = name.lower().replace(" ", ".")
        people.append(
            make.user(
                role=Role.LEARNER,
                company=owner,
                email=f"{local}.{number}@{domain}",
                name=name,
                staff_number=f"BRW{number:05d}",
            )
        )
    return people


def preferred_language(email: str) -> str | None:
    return user(email).preferred_language


def set_preferred_language(email: str, language: str | None) -> None:
    user(email).preferred_language = language
    db.session.commit()


def enrolment_status(email: str, class_code: str) -> EnrolmentStatus | None:
    learner = user(email)
    found = db.session.scalar(
        select(Enrolment)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .where(Enrolment.learner_id == learner.id, CourseClass.code == class_code)
        .order_by(Enrolment.id.desc())
        .limit(1)
    )
    return None if found is None else found.status


@dataclass(frozen=True)
class FullClass:
    """A class of the tests' own, open and full: one learner holds its only seat and the
    others wait, in order."""

    id: int
    code: str
    holder: str  # e-mail
    waiting: list[str]  # e-mail, first in line first


def full_class(company_code: str, names: list[str]) -> FullClass:
    """Add an open class, starting in a month, of capacity one: the first of ``names`` (new
    learners of the company) holds the seat, the others are on the waitlist."""
    people = new_learners(company_code, names)
    make = Factory()
    number = next(_numbers)
    cls = make.course_class(code=f"SU-CNF-{number:03d}", capacity=1, sessions=2)
    make.enrolment(cls, people[0])
    for person in people[1:]:
        make.enrolment(cls, person, EnrolmentStatus.WAITLISTED)
    return FullClass(cls.id, cls.code, people[0].email, [p.email for p in people[1:]])


def class_status(class_id: int) -> ClassStatus:
    db.session.expire_all()
    found = db.session.get(CourseClass, class_id)
    assert found is not None
    return found.status


def valid_certificate() -> tuple[int, str, str]:
    """A demo certificate not revoked yet: its id, serial number and verification code."""
    found = db.session.scalar(
        select(Certificate).where(Certificate.revoked_at.is_(None)).order_by(Certificate.id)
    )
    assert found is not None, "the demo has no valid certificate left"
    return found.id, found.serial_number, found.verification_code


def certificate_revoked(certificate_id: int) -> bool:
    db.session.expire_all()
    found = db.session.get(Certificate, certificate_id)
    return found is not None and found.revoked_at is not None


def is_active(email: str) -> bool:
    db.session.expire_all()
    return user(email).is_active


@dataclass(frozen=True)
class BlockedCourse:
    """A course whose classes a learner cannot enrol in, each for a reason of its own besides
    the prerequisite they have not completed; the prerequisite's page has a class they can
    enrol in."""

    learner: str  # e-mail; signs in with SCENE_PASSWORD
    course_code: str
    prerequisite_code: str
    prerequisite_title: str
    prerequisite_title_zh: str
    open_class: str  # of the prerequisite: the learner may enrol in it
    own_class: str  # the learner is confirmed in it
    clash_class: str  # its sessions clash with own_class
    quota_class: str  # the company's quota for the course, in its period, is used up
    quota_label: str
    later_class: str  # enrolment opens on LATER_OPENS (Hong Kong time)


#: When the enrolment of the blocked course's last class opens, in Hong Kong time.
LATER_OPENS = (2030, 1, 12, 9, 0)


def blocked_course() -> BlockedCourse:
    """Add a new learner of a new company (no approval needed) and a course with a
    prerequisite they have not completed, whose classes are blocked besides: one clashes with
    a class the learner is confirmed in, one starts in a period whose quota for the course a
    colleague has used up, one opens for enrolment on 12 Jan 2030 at 09:00."""
    from ..factories import hk_datetime

    number = next(_numbers)
    make = Factory()
    owner = make.company(name=f"Reasons Trading {number}", code=f"WHY{number}")
    learner, colleague = (
        make.user(
            company=owner,
            email=f"{local}.{number}@{owner.domains[0].domain}",
            name=name,
            staff_number=f"WHY{number:03d}{n}",
        )
        for n, (local, name) in enumerate([("yan.ho", "Ho Yan Ting"), ("kit.lau", "Lau Chi Kit")])
    )
    prerequisite = make.course(
        code=f"SU-WHY-{number:03d}",
        title_en="Reasoning Foundations",
        title_zh="推理基礎",
        status=CourseStatus.PUBLISHED,
    )
    course = make.course(
        code=f"SU-WHY-{number + 500:03d}",
        title_en="Reasoning in Practice",
        title_zh="推理實務",
        status=CourseStatus.PUBLISHED,
    )
    course.prerequisites.append(prerequisite)
    db.session.commit()
    now = utcnow()
    soon = (now + timedelta(days=30)).replace(hour=11, minute=0, second=0, microsecond=0)
    later = soon + timedelta(days=60)
    own = make.course_class(code=f"WHY{number}-OWN", sessions=2, first_session=soon)
    make.enrolment(own, learner)
    open_class = make.course_class(
        course=prerequisite,
        code=f"{prerequisite.code}-OPEN",
        sessions=2,
        first_session=soon + timedelta(days=3),
    )
    clash = make.course_class(
        course=course, code=f"{course.code}-CLASH", sessions=2, first_session=soon
    )
    quota_class = make.course_class(
        course=course, code=f"{course.code}-QUOTA", sessions=2, first_session=later
    )
    make.enrolment(quota_class, colleague)
    quota_label = f"Term {number}"
    make.quota(
        owner,
        1,
        quota_class.starts_on - timedelta(days=7),
        quota_class.starts_on + timedelta(days=7),
        label=quota_label,
        course=course,
    )
    opens = hk_datetime(*LATER_OPENS)
    later_class = make.course_class(
        course=course,
        code=f"{course.code}-LATER",
        sessions=2,
        first_session=opens + timedelta(days=60),
        enrolment_opens_at=opens,
    )
    return BlockedCourse(
        learner=learner.email,
        course_code=course.code,
        prerequisite_code=prerequisite.code,
        prerequisite_title=prerequisite.title_en,
        prerequisite_title_zh=prerequisite.title_zh or "",
        open_class=open_class.code,
        own_class=own.code,
        clash_class=clash.code,
        quota_class=quota_class.code,
        quota_label=quota_label,
        later_class=later_class.code,
    )
