"""HR pages: the webhook endpoints of the company's HR system and their deliveries.

Every page is limited to the HR officer's own company by the webhooks service, which finds
nothing (404 here) outside it. A test event or a delivery sent again goes out right after the
change is saved, within the request, and the page says what the endpoint answered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from .. import i18n
from ..confirmation import Confirmation, act_on_confirmation, render_confirmation
from ..extensions import db
from ..forms import ActionForm
from ..labels import label
from ..models import (
    SUBSCRIBABLE_EVENTS,
    EnrolmentStatus,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
    WebhookFailure,
)
from ..services import webhook_delivery, webhooks
from ..services.errors import NotFound
from ..services.webhook_delivery import ROTATION_OVERLAP, Answer, Outcome
from ..web import Work, current_actor, page_number, redirect_to_next, unit_of_work
from .webhook_forms import EndpointForm

PER_PAGE = 20
#: Where the id of an endpoint whose new secret is to be shown waits for its page (once).
_REVEAL_KEY = "webhook_secret_to_show"


def event_label(value: str) -> str:
    """The name of an event type in the reader's language (the code itself if unknown)."""
    try:
        return label(WebhookEvent(value))
    except ValueError:
        return value


def events_text(values: Iterable[str]) -> str:
    return i18n.comma().join(event_label(str(value)) for value in values)


def answer_text(status_code: int | None, error: str | None) -> str:
    """What an attempt got, in words: the receiver's HTTP status, or why there was none."""
    if status_code is not None:
        return _("HTTP %(code)s", code=status_code)
    try:
        return label(WebhookFailure(error)) if error else ""
    except ValueError:
        return error or ""


def event_summary(body: str) -> str:
    """What an event is about, from its body, in a few words: the employee, the class and the
    change of status, or the certificate's serial number."""
    try:
        data = json.loads(body).get("data") or {}
    except (ValueError, AttributeError):
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str((data.get("employee") or {}).get("name") or "")]
    if "serial_number" in data:
        parts.append(str(data["serial_number"]))
    elif "status" in data:
        parts.append(str((data.get("class") or {}).get("code") or ""))
        parts.append(f"{_status_label(data.get('from_status'))} → {_status_label(data['status'])}")
    return " · ".join(part for part in parts if part)


def _status_label(value: Any) -> str:
    if value is None:
        return _("New")
    try:
        return label(EnrolmentStatus(value))
    except ValueError:
        return str(value)


#: What the webhook templates need to word events and answers.
HELPERS = {
    "event_label": event_label,
    "events_text": events_text,
    "answer_text": answer_text,
    "event_summary": event_summary,
}


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    try:
        return webhooks.find_endpoint(current_actor(), endpoint_id)
    except NotFound:
        abort(404)


def _detail_url(endpoint_id: int) -> str:
    return url_for("hr.webhook_detail", endpoint_id=endpoint_id)


def webhook_list() -> str:
    """The company's endpoints, each with its state and latest delivery."""
    return render_template(
        "hr/webhooks.html",
        summaries=webhooks.endpoints(current_actor()),
        events=[event.value for event in SUBSCRIBABLE_EVENTS],
        **HELPERS,
    )


def webhook_new() -> Response | tuple[str, int]:
    """Register an endpoint; its signing secret is shown once, on its page."""
    form = EndpointForm()
    if not form.is_submitted():
        form.events.data = [event.value for event in SUBSCRIBABLE_EVENTS]
    if form.validate_on_submit():
        endpoint_id = 0
        with unit_of_work(form) as work:
            endpoint = webhooks.register(
                current_actor(), form.url.data or "", form.description.data, form.events.data
            )
            endpoint_id = endpoint.id
            work.flash(_("The endpoint is registered. Copy its signing secret now."))
        if work.succeeded:
            session[_REVEAL_KEY] = endpoint_id
            return redirect(_detail_url(endpoint_id))
    return render_template("hr/webhooks_form.html", form=form, endpoint=None), (
        400 if form.errors else 200
    )


def webhook_edit(endpoint_id: int) -> Response | tuple[str, int]:
    """Change an endpoint's address, description or events."""
    endpoint = _endpoint_or_404(endpoint_id)
    form = EndpointForm()
    form.fill_from(endpoint)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            changed = webhooks.update_endpoint(
                current_actor(),
                endpoint,
                form.url.data or "",
                form.description.data,
                form.events.data,
            )
            work.flash(_("The endpoint is saved.") if changed else _("Nothing was changed."))
        if work.succeeded:
            return redirect(_detail_url(endpoint_id))
    return render_template("hr/webhooks_form.html", form=form, endpoint=endpoint), (
        400 if form.errors else 200
    )


def webhook_detail(endpoint_id: int) -> Response:
    """An endpoint, its secret once after it was made, and its deliveries, newest first, each
    with its latest attempts and what the receiver answered."""
    endpoint = _endpoint_or_404(endpoint_id)
    page = db.paginate(
        webhooks.deliveries(endpoint),
        page=page_number(),
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
        error_out=False,
    )
    reveal = session.get(_REVEAL_KEY) == endpoint.id
    if reveal:
        session.pop(_REVEAL_KEY, None)
    response = make_response(
        render_template(
            "hr/webhooks_endpoint.html",
            endpoint=endpoint,
            page=page,
            attempts=webhooks.latest_attempts([d.id for d in page.items]),
            reveal_secret=reveal,
            overlap_ends=webhooks.signing_overlap_ends(endpoint),
            may_send=endpoint.is_active,
            sending=WebhookDeliveryStatus.SENDING,
            action_form=ActionForm(formdata=None),
            **HELPERS,
        )
    )
    if reveal:
        # The secret is shown this once: no copy of the page may be kept anywhere.
        response.headers["Cache-Control"] = "no-store"
    return response


def webhook_disable(endpoint_id: int) -> Response | tuple[str, int]:
    """The confirmation page of disabling an endpoint, and disabling it."""
    endpoint = _endpoint_or_404(endpoint_id)
    form = ActionForm()

    def disable(work: Work) -> None:
        stopped = webhooks.disable(current_actor(), endpoint)
        work.flash(_("The endpoint is disabled: no more events are sent to it."))
        if stopped:
            work.flash(
                ngettext(
                    "%(num)d event that was waiting is marked failed.",
                    "%(num)d events that were waiting are marked failed.",
                    stopped,
                ),
                "info",
            )

    answer = act_on_confirmation(form, disable, _detail_url(endpoint_id))
    if isinstance(answer, Response):
        return answer
    waiting = webhooks.waiting_deliveries(endpoint)
    consequences = [
        _("No more events are written for %(url)s until it is enabled again.", url=endpoint.url)
    ]
    if waiting:
        consequences.append(
            ngettext(
                "%(num)d event waiting to be sent is not sent: it is marked failed. You can "
                "send it again once the endpoint is enabled.",
                "%(num)d events waiting to be sent are not sent: they are marked failed. You "
                "can send each again once the endpoint is enabled.",
                waiting,
            )
        )
    consequences.append(_("You can enable the endpoint again at any time."))
    return render_confirmation(
        Confirmation(
            title=_("Disable the endpoint"),
            action_url=url_for("hr.webhook_disable", endpoint_id=endpoint_id),
            button=_("Disable the endpoint"),
            cancel_url=_detail_url(endpoint_id),
            form=form,
            consequences=consequences,
            refusal=None if endpoint.is_active else _("This endpoint is disabled already."),
        ),
        status=answer,
    )


def webhook_enable(endpoint_id: int) -> Response:
    """Enable a disabled endpoint again."""
    endpoint = _endpoint_or_404(endpoint_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work(form) as work:
        webhooks.enable(current_actor(), endpoint)
        work.flash(_("The endpoint is enabled: new events are sent to it."))
    return redirect(_detail_url(endpoint_id))


def webhook_rotate(endpoint_id: int) -> Response | tuple[str, int]:
    """The confirmation page of rotating an endpoint's signing secret, and rotating it; the
    new secret is shown once, on the endpoint's page."""
    endpoint = _endpoint_or_404(endpoint_id)
    form = ActionForm()
    rotated = False

    def rotate(work: Work) -> None:
        nonlocal rotated
        webhooks.rotate_secret(current_actor(), endpoint)
        rotated = True
        work.flash(_("The endpoint has a new signing secret. Copy it now."))

    answer = act_on_confirmation(form, rotate, _detail_url(endpoint_id))
    if isinstance(answer, Response):
        if rotated:
            session[_REVEAL_KEY] = endpoint_id
        return answer
    hours = int(ROTATION_OVERLAP.total_seconds() // 3600)
    consequences = [
        _("A new signing secret is made, and shown to you once."),
        ngettext(
            "For %(num)d hour, every event is signed with the new secret and the current one: "
            "put the new one in your HR system within that time.",
            "For %(num)d hours, every event is signed with the new secret and the current one: "
            "put the new one in your HR system within that time.",
            hours,
        ),
    ]
    overlap_ends = webhooks.signing_overlap_ends(endpoint)
    if overlap_ends is not None:
        consequences.append(
            _(
                "The secret before the current one, which signs events too until %(when)s, "
                "stops at once.",
                when=i18n.fmt_datetime(overlap_ends),
            )
        )
    return render_confirmation(
        Confirmation(
            title=_("Rotate the signing secret"),
            action_url=url_for("hr.webhook_rotate", endpoint_id=endpoint_id),
            button=_("Rotate the signing secret"),
            cancel_url=_detail_url(endpoint_id),
            form=form,
            consequences=consequences,
        ),
        status=answer,
    )


def webhook_test(endpoint_id: int) -> Response:
    """Send a test event to the endpoint now, and say what it answered."""
    endpoint = _endpoint_or_404(endpoint_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    delivery_id = 0
    with unit_of_work(form) as work:
        delivery_id = webhooks.send_test(current_actor(), endpoint).id
    if work.succeeded:
        _say(webhook_delivery.send_now(delivery_id))
    return redirect(_detail_url(endpoint_id))


def webhook_redeliver(endpoint_id: int, delivery_id: int) -> Response:
    """Send a delivery again now, and say what the endpoint answered."""
    me = current_actor()
    endpoint = _endpoint_or_404(endpoint_id)
    try:
        delivery = webhooks.find_delivery(me, endpoint, delivery_id)
    except NotFound:
        abort(404)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work(form) as work:
        webhooks.redeliver(me, delivery)
    if work.succeeded:
        _say(webhook_delivery.send_now(delivery_id))
    return redirect_to_next(_detail_url(endpoint_id))


def _say(result: tuple[Answer, Outcome] | None) -> None:
    """Flash what a delivery sent now got."""
    if result is None:
        flash(_("The event is waiting to be sent: another run of delivery has it."), "info")
        return
    answer, outcome = result
    if answer.delivered:
        flash(_("Delivered: your endpoint answered %(code)s.", code=answer.status_code))
        return
    what = answer_text(answer.status_code, answer.error)
    if outcome.status == WebhookDeliveryStatus.PENDING and outcome.next_attempt_at:
        flash(
            _(
                "Not delivered (%(what)s). It will be tried again at %(when)s.",
                what=what,
                when=i18n.fmt_datetime(outcome.next_attempt_at),
            ),
            "error",
        )
    else:
        flash(_("Not delivered (%(what)s).", what=what), "error")
