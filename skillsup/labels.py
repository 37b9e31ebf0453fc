"""Human names for the values of the portal's enums, in the reader's language."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l

from .i18n import reader_locale
from .models import (
    ApiScope,
    ApiTokenState,
    AttendanceStatus,
    ClassStatus,
    CompanyStatus,
    CourseStatus,
    DeliveryMode,
    EnrolmentSource,
    EnrolmentStatus,
    FundingPayee,
    FundingState,
    Role,
    SignInMethod,
    SkillArea,
    StaffStatus,
    SubsidyKind,
    TeachingLanguage,
    WebhookDeliveryStatus,
    WebhookEvent,
    WebhookFailure,
)

_T = TypeVar("_T")

# The labels of each enumeration on their own. Members of different StrEnums that share a
# value (Role.ADMIN and EnrolmentSource.ADMIN are both "admin", and equal) hash alike, so one
# dict keyed by members would give them one label: the last one written.
LABELS_BY_ENUM: dict[type[enum.Enum], dict[Any, Any]] = {
    Role: {
        Role.LEARNER: _l("Learner"),
        Role.HR: _l("HR officer"),
        Role.TRAINER: _l("Trainer"),
        Role.ADMIN: _l("Admin"),
    },
    EnrolmentStatus: {
        EnrolmentStatus.PENDING: _l("Waiting for HR approval"),
        EnrolmentStatus.CONFIRMED: _l("Confirmed"),
        EnrolmentStatus.WAITLISTED: _l("On the waitlist"),
        EnrolmentStatus.REJECTED: _l("Rejected"),
        EnrolmentStatus.WITHDRAWN: _l("Withdrawn"),
        EnrolmentStatus.COMPLETED: _l("Completed"),
        EnrolmentStatus.NOT_COMPLETED: _l("Not completed"),
        EnrolmentStatus.CANCELLED: _l("Cancelled"),
    },
    SignInMethod: {
        SignInMethod.PASSWORD: _l("With a password"),
        SignInMethod.INVITATION: _l("On accepting an invitation"),
        SignInMethod.SSO: _l("With single sign-on"),
        SignInMethod.TWO_FACTOR: _l("With a password and a second step"),
    },
    EnrolmentSource: {
        EnrolmentSource.SELF: _l("Own request"),
        EnrolmentSource.NOMINATED: _l("Nominated by HR"),
        EnrolmentSource.CSV: _l("CSV import"),
        EnrolmentSource.ADMIN: _l("Added by the institute"),
    },
    ClassStatus: {
        ClassStatus.DRAFT: _l("Draft"),
        ClassStatus.OPEN: _l("Open for enrolment"),
        ClassStatus.CLOSED: _l("Enrolment closed"),
        ClassStatus.RUNNING: _l("Running"),
        ClassStatus.COMPLETED: _l("Completed"),
        ClassStatus.CANCELLED: _l("Cancelled"),
    },
    CourseStatus: {
        CourseStatus.DRAFT: _l("Draft"),
        CourseStatus.PUBLISHED: _l("Published"),
        CourseStatus.ARCHIVED: _l("Archived"),
    },
    StaffStatus: {
        StaffStatus.ACTIVE: _l("Active"),
        StaffStatus.INVITED: _l("Invited"),
        StaffStatus.DEACTIVATED: _l("Deactivated"),
    },
    CompanyStatus: {
        CompanyStatus.ACTIVE: _l("Active"),
        CompanyStatus.INACTIVE: _l("Inactive"),
    },
    SkillArea: {
        SkillArea.CLOUD: _l("Cloud computing"),
        SkillArea.CYBERSECURITY: _l("Cybersecurity"),
        SkillArea.DATA_AI: _l("Data and AI"),
        SkillArea.NETWORKING: _l("Networking"),
        SkillArea.SOFTWARE_ENGINEERING: _l("Software engineering"),
        SkillArea.DIGITAL_WORKPLACE: _l("Digital workplace"),
        SkillArea.PROJECT_MANAGEMENT: _l("Project management"),
        SkillArea.IT_SERVICE_MANAGEMENT: _l("IT service management"),
    },
    DeliveryMode: {
        DeliveryMode.ON_CAMPUS: _l("On campus"),
        DeliveryMode.ONLINE_LIVE: _l("Online live"),
        DeliveryMode.HYBRID: _l("Hybrid"),
    },
    TeachingLanguage: {
        TeachingLanguage.ENGLISH: _l("English"),
        TeachingLanguage.CANTONESE: _l("Cantonese"),
        TeachingLanguage.PUTONGHUA: _l("Putonghua"),
    },
    AttendanceStatus: {
        AttendanceStatus.PRESENT: _l("Present"),
        AttendanceStatus.LATE: _l("Late"),
        AttendanceStatus.ABSENT: _l("Absent"),
        AttendanceStatus.EXCUSED: _l("Excused"),
    },
    FundingState: {
        FundingState.MET: _l("Conditions met"),
        FundingState.ON_TRACK: _l("On track"),
        FundingState.AT_RISK: _l("Conditions at risk"),
        FundingState.LOST: _l("Conditions lost"),
    },
    FundingPayee: {
        FundingPayee.LEARNER: _l("The learner"),
        FundingPayee.COMPANY: _l("The company"),
        FundingPayee.NONE: _l("No one"),
    },
    SubsidyKind: {
        SubsidyKind.CO_PAYMENT_TIERS: _l("Fee less a co-payment, in tiers"),
        SubsidyKind.SHARE_OF_FEE: _l("A share of the fee"),
        SubsidyKind.NONE: _l("No subsidy"),
    },
    WebhookEvent: {
        WebhookEvent.ENROLMENT_STATUS_CHANGED: _l("Enrolment status changed"),
        WebhookEvent.CERTIFICATE_ISSUED: _l("Certificate issued"),
        WebhookEvent.CERTIFICATE_REVOKED: _l("Certificate revoked"),
        WebhookEvent.PING: _l("Test event"),
    },
    WebhookDeliveryStatus: {
        WebhookDeliveryStatus.PENDING: _l("Waiting to be sent"),
        WebhookDeliveryStatus.SENDING: _l("Sending"),
        WebhookDeliveryStatus.DELIVERED: _l("Delivered"),
        WebhookDeliveryStatus.FAILED: _l("Delivery failed"),
    },
    WebhookFailure: {
        WebhookFailure.TIMEOUT: _l("No answer in time"),
        WebhookFailure.CONNECTION_REFUSED: _l("Connection refused"),
        WebhookFailure.HOST_NOT_FOUND: _l("Host name not found"),
        WebhookFailure.UNSAFE_ADDRESS: _l("Address not allowed: a private or local network"),
        WebhookFailure.TLS: _l("Secure connection failed (certificate or TLS)"),
        WebhookFailure.CONNECTION: _l("Could not connect"),
        WebhookFailure.INVALID_ANSWER: _l("The answer was not valid HTTP"),
        WebhookFailure.ENDPOINT_DISABLED: _l("Not sent: the endpoint was disabled"),
    },
    ApiScope: {
        ApiScope.READ: _l("Read"),
        ApiScope.STAFF_WRITE: _l("Manage staff"),
        ApiScope.ENROLMENTS_WRITE: _l("Manage enrolments"),
    },
    ApiTokenState: {
        ApiTokenState.ACTIVE: _l("Active"),
        ApiTokenState.EXPIRED: _l("Expired"),
        ApiTokenState.REVOKED: _l("Revoked"),
    },
}


class EnumLabels(Mapping[enum.Enum, _T]):
    """Labels looked up by an enum member and its enumeration, so that equal members of two
    enumerations (both "admin") keep their own labels. A value that is no member of a labelled
    enumeration (a plain string) has no label."""

    def __init__(self, by_enum: dict[type[enum.Enum], dict[Any, _T]]) -> None:
        self._by_enum = by_enum

    def __getitem__(self, member: enum.Enum) -> _T:
        labels = self._by_enum.get(type(member))
        if labels is None or member not in labels:
            raise KeyError(member)
        return labels[member]

    def __iter__(self) -> Iterator[enum.Enum]:
        for labels in self._by_enum.values():
            yield from labels

    def __len__(self) -> int:
        return sum(len(labels) for labels in self._by_enum.values())


LABELS: EnumLabels[Any] = EnumLabels(LABELS_BY_ENUM)


# The labels as text, per locale, translated at first use: a lazy string looks the request's
# translations up again each time it is shown, hundreds of times on a long table, and the
# catalogues do not change while the process runs. Keyed by the locale in force, so that
# force_locale (e-mails, exports) and every application in the process read the right one.
_TRANSLATED: dict[str, EnumLabels[str]] = {}


def translated_labels() -> EnumLabels[str]:
    """LABELS in the current locale (English outside an application context)."""
    locale = reader_locale().name
    labels = _TRANSLATED.get(locale)
    if labels is None:
        labels = EnumLabels(
            {
                enum_class: {member: str(text) for member, text in members.items()}
                for enum_class, members in LABELS_BY_ENUM.items()
            }
        )
        _TRANSLATED[locale] = labels
    return labels


def label(value: enum.Enum | None) -> str:
    if value is None:
        return ""
    text = translated_labels().get(value)
    return str(value.value) if text is None else text
