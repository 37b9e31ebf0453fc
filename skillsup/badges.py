"""How the status of an enrolment, class, course, company or account is shown as a badge.

Every status has one meaning of five, and each meaning one colour and icon wherever it is
shown: ``ok`` (going as it should), ``waiting`` (for someone or something), ``warning`` (needs
attention), ``ended`` (over, nothing more will happen) and ``bad`` (refused, failed, called
off). The words are the status's label (:mod:`skillsup.labels`).
"""

from __future__ import annotations

import enum
from typing import Any

from .models import (
    ClassStatus,
    CompanyStatus,
    CourseStatus,
    EnrolmentStatus,
    FundingState,
    StaffStatus,
)

#: The meanings a badge can carry, and the icon (static/icons/) that goes with each.
TONE_ICONS = {
    "ok": "circle-check",
    "waiting": "clock",
    "warning": "triangle-alert",
    "ended": "circle-minus",
    "bad": "circle-x",
}

#: Each status's meaning, per enumeration.
STATUS_TONES: dict[type[enum.Enum], dict[Any, str]] = {
    EnrolmentStatus: {
        EnrolmentStatus.PENDING: "waiting",
        EnrolmentStatus.CONFIRMED: "ok",
        EnrolmentStatus.WAITLISTED: "waiting",
        EnrolmentStatus.REJECTED: "bad",
        EnrolmentStatus.WITHDRAWN: "ended",
        EnrolmentStatus.COMPLETED: "ok",
        EnrolmentStatus.NOT_COMPLETED: "bad",
        EnrolmentStatus.CANCELLED: "bad",
    },
    ClassStatus: {
        ClassStatus.DRAFT: "waiting",
        ClassStatus.OPEN: "ok",
        ClassStatus.CLOSED: "ended",
        ClassStatus.RUNNING: "ok",
        ClassStatus.COMPLETED: "ended",
        ClassStatus.CANCELLED: "bad",
    },
    CourseStatus: {
        CourseStatus.DRAFT: "waiting",
        CourseStatus.PUBLISHED: "ok",
        CourseStatus.ARCHIVED: "ended",
    },
    CompanyStatus: {
        CompanyStatus.ACTIVE: "ok",
        CompanyStatus.INACTIVE: "ended",
    },
    StaffStatus: {
        StaffStatus.ACTIVE: "ok",
        StaffStatus.INVITED: "waiting",
        StaffStatus.DEACTIVATED: "ended",
    },
    FundingState: {
        FundingState.MET: "ok",
        FundingState.ON_TRACK: "waiting",
        FundingState.AT_RISK: "warning",
        FundingState.LOST: "bad",
    },
}


def status_tone(status: enum.Enum) -> str:
    """The meaning of ``status``; a status no enumeration above lists raises ``KeyError``."""
    return STATUS_TONES[type(status)][status]
