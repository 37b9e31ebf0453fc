"""The confirmation step of a destructive action, shared by every blueprint.

An action that cannot be simply undone (a withdrawal that hands the seat to the waitlist,
cancelling a class, revoking a certificate, deactivating a person...) answers GET at its own
address with a confirmation page, and does the change on POST from that page's button. The
page says what will happen: the consequences come from the service that does the change (its
"preview"), never from a guess in a template, so that the page and the action cannot
disagree. It works without JavaScript: the page is a plain form. What a post of the page
answers (done, refused, the page again) is :func:`act_on_confirmation`'s one rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import abort, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from .models import EnrolmentStatus
from .services.approvals import NoApproverLeft
from .services.enrolment_requests import WithdrawalPreview
from .web import Work, unit_of_work

#: The template of every confirmation page; a page that shows more (a table of outcomes)
#: extends it and fills its ``details`` block.
TEMPLATE = "confirm.html"


@dataclass
class Confirmation:
    """What a confirmation page shows and where its button posts.

    ``consequences`` are sentences saying what will happen (who is told by e-mail, whether
    the seat goes to the next person on the waitlist), as the service's preview works them
    out. A ``refusal`` (why the action cannot be done now) is shown instead of the button.
    ``form`` carries the CSRF token and, when ``reason_field`` names one of its fields, the
    reason the actor must give; ``hidden`` are further fields the action reads (``next``).
    """

    title: str
    action_url: str
    button: str
    cancel_url: str
    form: FlaskForm
    consequences: Sequence[str] = ()
    intro: str | None = None
    refusal: str | None = None
    reason_field: str | None = None
    hidden: Mapping[str, str] = field(default_factory=dict)
    consequences_heading: str | None = None
    cancel_label: str | None = None

    @property
    def reason(self) -> Any:
        """The form's reason field, if the action asks for one."""
        return self.form[self.reason_field] if self.reason_field else None


def render_confirmation(
    confirmation: Confirmation,
    *,
    status: int = 200,
    template: str = TEMPLATE,
    **context: Any,
) -> tuple[str, int]:
    """The confirmation page of ``confirmation`` (``template``, which extends the shared one
    to show more, with ``context``), answered with ``status`` (400 when the posted reason
    was refused, the refusal's own status when the service refused)."""
    return render_template(template, confirmation=confirmation, **context), status


def act_on_confirmation(
    form: FlaskForm,
    act: Callable[[Work], object],
    back: str,
    *,
    refused_back: str | None = None,
    show_every_refusal: bool = False,
    expired: Callable[[], Response] | None = None,
) -> Response | int:
    """Answer a request to a confirmation page's address, whose POST does the action: the
    redirect once the post is dealt with, else the status with which the view shows the
    confirmation page (again). The rule, the same for every confirmation page:

    - GET: the page, 200; nothing is done.
    - A stale form (its CSRF token expired or missing): 400, nothing done, or what
      ``expired`` answers when the view gives it.
    - Input the form refuses (a reason too long): the page again, 400, with the field errors.
    - Otherwise ``act(work)`` does the action inside :func:`skillsup.web.unit_of_work` with
      ``form`` (the service call, then ``work.flash`` of what was done). A refusal tied to
      one of the form's fields (a reason the service finds missing) is shown on that field:
      the page again, with the refusal's status.
    - Any other outcome (done, or refused for a reason the page cannot fix, which is
      flashed) goes to ``back``, where the flash shows; a refusal goes to ``refused_back``
      instead when the view gives it, or, with ``show_every_refusal``, shows the page again
      with the refusal's status.
    """
    if request.method != "POST":
        return 200
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            if expired is not None:
                return expired()
            abort(400)
        return 400
    with unit_of_work(form) as work:
        act(work)
    refusal = work.refusal
    if refusal is None:
        return redirect(back)
    if show_every_refusal or refusal.field in form:
        return work.status_code
    return redirect(refused_back or back)


def withdrawal_consequences(preview: WithdrawalPreview, *, for_self: bool) -> list[str]:
    """What withdrawing does, in words, from the service's preview: the learner's place, who
    the freed seat goes to, and who is told by e-mail. ``for_self`` when the learner
    withdraws themself (the page speaks to them)."""
    enrolment = preview.enrolment
    code, name = enrolment.course_class.code, enrolment.learner.name
    status = enrolment.status
    if status == EnrolmentStatus.CONFIRMED:
        what = (
            _("You give up your place in %(code)s.", code=code)
            if for_self
            else _("%(name)s gives up their place in %(code)s.", name=name, code=code)
        )
    elif status == EnrolmentStatus.WAITLISTED:
        what = (
            _("You leave the waitlist of %(code)s.", code=code)
            if for_self
            else _("%(name)s leaves the waitlist of %(code)s.", name=name, code=code)
        )
    else:
        what = (
            _("Your request for %(code)s, waiting for approval, is withdrawn.", code=code)
            if for_self
            else _(
                "%(name)s's request for %(code)s, waiting for approval, is withdrawn.",
                name=name,
                code=code,
            )
        )
    consequences = [what]
    if preview.frees_seat:
        if not preview.seat_goes_to_waitlist:
            consequences.append(_("The class is over: the seat is not given to anyone else."))
        elif preview.waiting:
            consequences.append(
                ngettext(
                    "The seat goes at once to the learner on the waitlist, if their company's "
                    "quota and their timetable allow, and they are told by e-mail.",
                    "The seat goes at once to the first of the %(num)d learners on the "
                    "waitlist whose company's quota and timetable allow, and they are told by "
                    "e-mail.",
                    preview.waiting,
                )
            )
        else:
            consequences.append(
                _("Nobody is on the waitlist: the seat is free for the next person to enrol.")
            )
    consequences.append(
        _("You are told by e-mail that you have been withdrawn.")
        if for_self
        else _("%(name)s is told by e-mail, with your reason.", name=name)
    )
    consequences.append(
        _(
            "To take part again, a new request is needed: the class may be full or closed to "
            "enrolment by then."
        )
    )
    return consequences


def withdrawal_confirmation(
    preview: WithdrawalPreview,
    *,
    form: FlaskForm,
    action_url: str,
    cancel_url: str,
    hidden: Mapping[str, str] | None = None,
) -> Confirmation:
    """The confirmation of an HR officer's or an admin's withdrawal of a learner (with the
    reason they must give)."""
    enrolment = preview.enrolment
    return Confirmation(
        title=_(
            "Withdraw %(name)s from %(code)s",
            name=enrolment.learner.name,
            code=enrolment.course_class.code,
        ),
        action_url=action_url,
        button=_("Withdraw %(name)s", name=enrolment.learner.name),
        cancel_url=cancel_url,
        form=form,
        consequences=withdrawal_consequences(preview, for_self=False),
        refusal=None if preview.refusal is None else str(preview.refusal.message),
        reason_field="reason" if preview.needs_reason else None,
        hidden=hidden or {},
    )


def account_deactivation_consequences(
    name: str, active_enrolments: int, no_approver_left: NoApproverLeft | None = None
) -> list[str]:
    """What deactivating an account (not through HR's staff deactivation) does, in words:
    :func:`skillsup.services.accounts.set_active` ends the sessions and leaves the
    enrolments as they are; for a company's last active HR officer, whose company needs HR
    approval (:func:`skillsup.services.approvals.left_without_approver`), that its requests
    wait with nobody to approve them."""
    consequences = [
        _(
            "%(name)s can no longer log in, and every session they have open ends at once.",
            name=name,
        )
    ]
    if no_approver_left is not None:
        if no_approver_left.pending:
            consequences.append(
                ngettext(
                    "%(name)s is the last active HR officer of %(company)s, whose enrolments "
                    "need HR approval: the %(num)d request waiting now, and every new one, "
                    "will wait with nobody to approve it until another HR officer is active.",
                    "%(name)s is the last active HR officer of %(company)s, whose enrolments "
                    "need HR approval: the %(num)d requests waiting now, and every new one, "
                    "will wait with nobody to approve them until another HR officer is active.",
                    no_approver_left.pending,
                    name=name,
                    company=no_approver_left.company_name,
                )
            )
        else:
            consequences.append(
                _(
                    "%(name)s is the last active HR officer of %(company)s, whose enrolments "
                    "need HR approval: no request is waiting now, but every new one will wait "
                    "with nobody to approve it until another HR officer is active.",
                    name=name,
                    company=no_approver_left.company_name,
                )
            )
    if active_enrolments:
        consequences.append(
            ngettext(
                "Their %(num)d active enrolment is left as it is: withdraw it from its class if "
                "needed. While deactivated they are passed over on waitlists.",
                "Their %(num)d active enrolments are left as they are: withdraw them from their "
                "classes if needed. While deactivated they are passed over on waitlists.",
                active_enrolments,
            )
        )
    consequences.append(_("Nobody is told by e-mail. The account can be reactivated later."))
    return consequences
