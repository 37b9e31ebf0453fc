"""The data model, one module per aggregate."""

from .audit import AuditEntry
from .certificates import Certificate
from .claim_receipts import ClaimReceipt
from .classes import FINISHED_STATUSES, ClassSession, ClassStatus, CourseClass, class_trainers
from .companies import CompanyDomain, CompanyStatus, PartnerCompany, SeatQuota
from .courses import (
    Course,
    CourseStatus,
    DeliveryMode,
    SkillArea,
    TeachingLanguage,
    course_prerequisites,
)
from .enrolments import (
    ACTIVE_STATUSES,
    Attendance,
    AttendanceStatus,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
)
from .funding import (
    FundingPayee,
    FundingScheme,
    FundingSchemeVersion,
    FundingState,
    SubsidyKind,
    class_funding_schemes,
    course_funding_schemes,
)
from .outbox import OutboxMessage, OutboxStatus
from .reminders import FundingWarning, SentReminder
from .types import UTCDateTime, utcnow
from .users import COMPANY_ROLES, Role, StaffStatus, User, normalise_email

__all__ = [
    "ACTIVE_STATUSES",
    "COMPANY_ROLES",
    "FINISHED_STATUSES",
    "Attendance",
    "AttendanceStatus",
    "AuditEntry",
    "Certificate",
    "ClaimReceipt",
    "ClassSession",
    "ClassStatus",
    "CompanyDomain",
    "CompanyStatus",
    "Course",
    "CourseClass",
    "CourseStatus",
    "DeliveryMode",
    "Enrolment",
    "EnrolmentSource",
    "EnrolmentStatus",
    "EnrolmentStatusChange",
    "FundingPayee",
    "FundingScheme",
    "FundingSchemeVersion",
    "FundingState",
    "FundingWarning",
    "OutboxMessage",
    "OutboxStatus",
    "PartnerCompany",
    "Role",
    "SeatQuota",
    "SentReminder",
    "SkillArea",
    "StaffStatus",
    "SubsidyKind",
    "TeachingLanguage",
    "UTCDateTime",
    "User",
    "class_funding_schemes",
    "class_trainers",
    "course_funding_schemes",
    "course_prerequisites",
    "normalise_email",
    "utcnow",
]
