"""How the status of an enrolment, class, course, company, account, API token or webhook delivery
is shown as a badge.

Every status has one meaning of five, and each meaning one colour and icon wherever it is
shown: ``ok`` (going as it should), ``waiting`` (for someone or something), ``warning`` (needs
attention), ``ended`` (over, nothing more will happen) and ``bad`` (refused, failed, called
off). The words are the status's label (:mod:`skillsup.labels`).
"""

from __future__ import annotations

import enum
from typing import Any

from flask import g, has_app_context, url_for
from markupsafe import Markup

from .labels import label
from .models import (
    ApiTokenState,
    ClassStatus,
    CompanyStatus,
    CourseStatus,
    EnrolmentStatus,
    FundingState,
    StaffStatus,
    WebhookDeliveryStatus,
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
        FundingState.ON_TRACK: "ok",
        FundingState.AT_RISK: "warning",
        FundingState.LOST: "bad",
    },
    WebhookDeliveryStatus: {
        WebhookDeliveryStatus.PENDING: "waiting",
        WebhookDeliveryStatus.SENDING: "waiting",
        WebhookDeliveryStatus.DELIVERED: "ok",
        WebhookDeliveryStatus.FAILED: "bad",
    },
    # As a certificate's validity: expired is over, revoked is called off.
    ApiTokenState: {
        ApiTokenState.ACTIVE: "ok",
        ApiTokenState.EXPIRED: "ended",
        ApiTokenState.REVOKED: "bad",
    },
}


def status_tone(status: enum.Enum) -> str:
    """The meaning of ``status``; a status no enumeration above lists raises ``KeyError``."""
    return STATUS_TONES[type(status)][status]


# The markup ---------------------------------------------------------------------------------
#
# Drawn in Python rather than by nested template macros: a roster or a list of enrolments
# shows a badge on every row, and each macro call (badge, its icon, the sprite's address)
# costs the page more than the row's own words. templates/macros/ui.html exports these under
# the names the templates import.

SPRITE = "icons/lucide-sprite.svg"


def _request_store() -> dict[Any, Markup] | None:
    # What this request has drawn already, by what it was drawn from: a page repeats the same
    # few badges and icons on every row, in one language and with one sprite address.
    if not has_app_context():
        return None
    store = g.get("_drawn_badges")
    if store is None:
        store = g._drawn_badges = {}
    return store


def _sprite_url() -> str:
    return url_for("static", filename=SPRITE)


def _draw_icon(name: str, label: str | None) -> Markup:
    if label:
        meaning = Markup(' role="img" aria-label="{}"').format(label)
    else:
        meaning = Markup(' aria-hidden="true"')
    return Markup(
        '<svg class="icon icon-{name}" width="24" height="24" focusable="false"{meaning}>'
        '<use href="{sprite}#{name}"></use></svg>'
    ).format(name=name, meaning=meaning, sprite=_sprite_url())


def icon(name: str, label: str | None = None) -> Markup:
    """An icon from static/icons/lucide-sprite.svg. Without a label it is decoration that
    screen readers skip (the text beside it says what it means); with one it is an image with
    that name."""
    store = _request_store()
    if store is None:
        return _draw_icon(name, label)
    key = ("icon", name, str(label) if label else None)
    drawn = store.get(key)
    if drawn is None:
        drawn = store[key] = _draw_icon(name, label)
    return drawn


def badge(text: str, tone: str) -> Markup:
    """A badge of ``tone`` (one of :data:`TONE_ICONS`) that says ``text``."""
    store = _request_store()
    key = ("badge", str(text), isinstance(text, Markup), tone)
    drawn = store.get(key) if store is not None else None
    if drawn is None:
        drawn = Markup('<span class="badge badge-{tone}">{icon}<span>{text}</span></span>').format(
            tone=tone, icon=icon(TONE_ICONS[tone]), text=text
        )
        if store is not None:
            store[key] = drawn
    return drawn


def status_badge(status: enum.Enum, text: str | None = None) -> Markup:
    """The badge of a status: its label in the reader's language (or ``text``, which names
    it), in the colour of its meaning."""
    return badge(text or label(status), status_tone(status))
