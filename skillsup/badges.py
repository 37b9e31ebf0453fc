"""How the status of an enrolment, class, course, company, account, API token or webhook delivery
is shown as a badge.

Every status has one meaning of five, and each meaning one colour and icon wherever it is
shown: ``ok`` (going as it should), ``waiting`` (for someone or something), ``warning`` (needs
attention), ``ended`` (over, nothing more will happen) and ``bad`` (refused, failed, called
off). The words are the status's label (:mod:`skillsup.labels`).
"""

from __future__ import annotations

import enum
from functools import lru_cache
from typing import Any

from flask import has_request_context, request, url_for
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
#: Where a request keeps the sprite's address (in its WSGI environment).
_SPRITE_KEY = "skillsup.icon_sprite_url"


def _sprite_url() -> str:
    """The sprite's address, looked up once per request (every icon of a page names it) and
    kept with the request itself: an application context may outlive several requests."""
    if not has_request_context():
        return url_for("static", filename=SPRITE)
    environ = request.environ
    sprite = environ.get(_SPRITE_KEY)
    if sprite is None:
        sprite = environ[_SPRITE_KEY] = url_for("static", filename=SPRITE)
    return str(sprite)


# The markup itself is kept for the process, by everything it is made of (the words as text,
# and whether they are markup already, which decides whether they are escaped): every request
# draws the same few dozen icons and badges.


@lru_cache(maxsize=1024)
def _icon_markup(name: str, label: str | None, label_is_markup: bool, sprite: str) -> Markup:
    if label:
        words = Markup(label) if label_is_markup else label  # noqa: S704 (markup already)
        meaning = Markup(' role="img" aria-label="{}"').format(words)
    else:
        meaning = Markup(' aria-hidden="true"')
    return Markup(
        '<svg class="icon icon-{name}" width="24" height="24" focusable="false"{meaning}>'
        '<use href="{sprite}#{name}"></use></svg>'
    ).format(name=name, meaning=meaning, sprite=sprite)


@lru_cache(maxsize=1024)
def _badge_markup(text: str, text_is_markup: bool, tone: str, sprite: str) -> Markup:
    words = Markup(text) if text_is_markup else text  # noqa: S704 (markup already)
    return Markup('<span class="badge badge-{tone}">{icon}<span>{text}</span></span>').format(
        tone=tone, icon=_icon_markup(TONE_ICONS[tone], None, False, sprite), text=words
    )


def _as_text(words: Any) -> tuple[str, bool]:
    """``words`` as text, and whether it is markup already: what the markup is kept by. As
    escaping sees it, anything with ``__html__`` (Markup, a lazy translation) is markup."""
    html = getattr(words, "__html__", None)
    return (str(html()), True) if html is not None else (str(words), False)


def icon(name: str, label: str | None = None) -> Markup:
    """An icon from static/icons/lucide-sprite.svg. Without a label it is decoration that
    screen readers skip (the text beside it says what it means); with one it is an image with
    that name."""
    sprite = _sprite_url()
    if not label:
        return _icon_markup(name, None, False, sprite)
    return _icon_markup(name, *_as_text(label), sprite)


def badge(text: str, tone: str) -> Markup:
    """A badge of ``tone`` (one of :data:`TONE_ICONS`) that says ``text``."""
    if tone not in TONE_ICONS:
        raise KeyError(tone)
    return _badge_markup(*_as_text(text), tone, _sprite_url())


def status_badge(status: enum.Enum, text: str | None = None) -> Markup:
    """The badge of a status: its label in the reader's language (or ``text``, which names
    it), in the colour of its meaning."""
    return badge(text or label(status), status_tone(status))
