"""One person's page for admins: details, history, and changing them; pending invitations."""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import permissions
from ..audit_text import readable_entries
from ..confirmation import Confirmation, act_on_confirmation, render_confirmation
from ..extensions import db
from ..forms import ActionForm
from ..labels import LABELS
from ..links import PortalLinks
from ..models import EnrolmentSource, PartnerCompany, Role, User
from ..services import audit, people, two_factor, users
from ..web import Work, current_actor, page_number, unit_of_work
from .forms import EditUserForm, ReasonForm, set_company_choices


def _person_or_404(user_id: int) -> User:
    user = db.get_or_404(User, user_id)
    if not permissions.can_edit_person(current_actor(), user):
        abort(403)
    return user


def _detail_url(user: User) -> str:
    return url_for("admin.user_detail", user_id=user.id)


def user_detail(user_id: int) -> str:
    user = _person_or_404(user_id)
    me = current_actor()
    counts = people.enrolment_counts(user)
    return render_template(
        "admin/users/detail.html",
        person=user,
        enrolments=[(LABELS[status], count) for status, count in counts.items()],
        enrolment_total=sum(counts.values()),
        entries=readable_entries(audit.entries_for("users", user.id)),
        can_manage=permissions.can_manage_account(me, user),
        may_enrol=user.is_active
        and permissions.can_request_enrolment(me, user, EnrolmentSource.ADMIN),
        can_resend=user.is_awaiting_first_sign_in,
        can_revoke=user.invitation_pending and user.is_active,
        can_reset_two_factor=user.two_factor_enabled and permissions.can_reset_two_factor(me, user),
    )


def user_edit(user_id: int) -> str | Response:
    user = _person_or_404(user_id)
    form = EditUserForm()
    set_company_choices(form, db.session.execute(users.company_choices()))
    if request.method == "GET":
        form.fill_from(user)
    if form.validate_on_submit():
        company = db.session.get(PartnerCompany, form.company.data) if form.company.data else None
        details = people.PersonDetails(
            name=form.name.data or "",
            email=form.email.data or "",
            role=Role(form.role.data),
            company=company,
            staff_number=form.staff_number.data,
            department=form.department.data,
            job_title=form.job_title.data,
        )
        with unit_of_work(form) as work:
            changes = people.update_person(current_actor(), user, details, links=PortalLinks())
        if work.succeeded:
            _flash_changes(user, changes)
            return redirect(_detail_url(user))
    return render_template(
        "admin/users/edit.html",
        form=form,
        person=user,
        can_change_role=permissions.can_change_role(current_actor(), user),
    )


def _flash_changes(user: User, changes: Mapping[str, object]) -> None:
    if not changes:
        flash(_("Nothing was changed."), "info")
        return
    if "email" in changes and user.pending_email is not None:
        flash(
            _(
                "We have sent a link to %(email)s: the new address is used once it is "
                "followed. The old address has been told.",
                email=user.pending_email,
            ),
            "info",
        )
    elif "email" in changes:
        flash(_("We have sent the invitation to %(email)s.", email=user.email), "info")
    if "role" in changes or "company" in changes:
        flash(
            _(
                "%(name)s's details have been saved and they are logged out everywhere.",
                name=user.name,
            ),
            "success",
        )
    else:
        flash(_("%(name)s's details have been saved.", name=user.name), "success")


def cancel_email_change(user_id: int) -> Response:
    user = _person_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        people.cancel_email_change(current_actor(), user)
        work.flash(_("The change of address has been cancelled."))
    return redirect(_detail_url(user))


def resend_invitation(user_id: int) -> Response:
    user = _person_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        people.resend_invitation(current_actor(), user, PortalLinks())
        work.flash(
            _(
                "We have sent %(email)s a new invitation; the links sent before no longer work.",
                email=user.email,
            )
        )
    return _back(user)


def revoke_invitation(user_id: int) -> Response:
    user = _person_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        people.revoke_invitation(current_actor(), user)
        work.flash(_("The invitation to %(email)s has been withdrawn.", email=user.email))
    return _back(user)


def user_two_factor_reset(user_id: int) -> Response | tuple[str, int]:
    """The confirmation page of resetting someone's two-factor sign-in (a lost phone), with
    the reason it asks for (GET), and resetting it (POST)."""
    user = _person_or_404(user_id)
    me = current_actor()
    form = ReasonForm()
    back = _detail_url(user)

    def reset(work: Work) -> None:
        two_factor.reset(me, user, form.reason.data or "", login_url=PortalLinks().login())
        work.flash(
            _(
                "%(name)s's two-factor sign-in has been reset and they are logged out "
                "everywhere. They have been told by e-mail.",
                name=user.name,
            )
        )

    answer = act_on_confirmation(form, reset, back)
    if isinstance(answer, Response):
        return answer
    if request.method == "GET":
        form = ReasonForm(formdata=None)
    return render_confirmation(_two_factor_reset_confirmation(me, user, form, back), status=answer)


def _two_factor_reset_confirmation(
    me: User, user: User, form: ReasonForm, back: str
) -> Confirmation:
    refusal = None
    if not permissions.can_reset_two_factor(me, user):
        refusal = _(
            "You cannot reset your own two-factor sign-in here: turn it off from your "
            "account page, or ask another admin."
        )
    elif not user.two_factor_enabled:
        refusal = _("%(name)s does not use two-factor sign-in.", name=user.name)
    consequences = [
        _(
            "%(name)s's authenticator app and recovery codes stop working, and every "
            "session they have open ends at once.",
            name=user.name,
        ),
        _("They are asked to set two-factor sign-in up again at their next login.")
        if two_factor.is_required_for(user)
        else _("They log in with their password alone until they set it up again."),
        _("%(name)s is told by e-mail, with your reason.", name=user.name),
    ]
    return Confirmation(
        title=_("Reset %(name)s's two-factor sign-in", name=user.name),
        intro=_(
            "Do this when %(name)s has lost the phone with their authenticator app and their "
            "recovery codes. Make sure it is really them asking.",
            name=user.name,
        ),
        action_url=url_for("admin.user_two_factor_reset", user_id=user.id),
        button=_("Reset two-factor sign-in"),
        cancel_url=back,
        form=form,
        consequences=consequences,
        refusal=refusal,
        reason_field="reason",
    )


def _back(user: User) -> Response:
    if request.form.get("from") == "invitations":
        return redirect(url_for("admin.invitation_list"))
    return redirect(_detail_url(user))


def invitation_list() -> str:
    page = db.paginate(
        people.pending_invitations(),
        page=page_number(),
        per_page=25,
        max_per_page=100,
        error_out=False,
    )
    return render_template("admin/users/invitations.html", page=page)
