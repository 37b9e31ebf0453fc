"""The data model, one module per aggregate."""

from .api import ApiScope, ApiToken, ApiTokenState, IdempotentAnswer
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
from .identity import CompanyIdentityProvider
from .outbox import OutboxMessage, OutboxStatus
from .reminders import FundingWarning, SentReminder
from .sessions import SignInMethod, UserSession
from .two_factor import RecoveryCode
from .types import UTCDateTime, utcnow
from .users import COMPANY_ROLES, Role, StaffStatus, User, normalise_email
from .webhooks import (
    SUBSCRIBABLE_EVENTS,
    EndpointDisabledReason,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
    WebhookFailure,
)

__all__ = [
    "ACTIVE_STATUSES",
    "COMPANY_ROLES",
    "FINISHED_STATUSES",
    "SUBSCRIBABLE_EVENTS",
    "ApiScope",
    "ApiToken",
    "ApiTokenState",
    "Attendance",
    "AttendanceStatus",
    "AuditEntry",
    "Certificate",
    "ClaimReceipt",
    "ClassSession",
    "ClassStatus",
    "CompanyDomain",
    "CompanyIdentityProvider",
    "CompanyStatus",
    "Course",
    "CourseClass",
    "CourseStatus",
    "DeliveryMode",
    "EndpointDisabledReason",
    "Enrolment",
    "EnrolmentSource",
    "EnrolmentStatus",
    "EnrolmentStatusChange",
    "FundingPayee",
    "FundingScheme",
    "FundingSchemeVersion",
    "FundingState",
    "FundingWarning",
    "IdempotentAnswer",
    "OutboxMessage",
    "OutboxStatus",
    "PartnerCompany",
    "RecoveryCode",
    "Role",
    "SeatQuota",
    "SentReminder",
    "SignInMethod",
    "SkillArea",
    "StaffStatus",
    "SubsidyKind",
    "TeachingLanguage",
    "UTCDateTime",
    "User",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookFailure",
    "class_funding_schemes",
    "class_trainers",
    "course_funding_schemes",
    "course_prerequisites",
    "normalise_email",
    "utcnow",
]
