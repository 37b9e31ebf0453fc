"""The institute admins' pages."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import audit_pages, permissions
from ..audit_text import readable_entries
from ..confirmation import (
    Confirmation,
    account_deactivation_consequences,
    render_confirmation,
)
from ..extensions import db
from ..links import PortalLinks
from ..models import PartnerCompany, Role, User
from ..services import accounts, approvals, dashboards, shortcuts, users
from ..web import current_actor, is_safe_next, page_number, redirect_to_next, unit_of_work
from .forms import InviteUserForm, ReasonForm, UserFilterForm, set_company_choices


def home() -> str:
    summary = dashboards.institute_summary()
    return render_template(
        "admin/home.html",
        summary=summary,
        recent_changes=readable_entries(summary.recent_changes),
        glance=shortcuts.admin_glance(current_actor()),
    )


def user_list() -> str:
    form = UserFilterForm(request.args)
    form.validate()
    role = Role(form.role.data) if form.role.data and not form.role.errors else None
    page = db.paginate(
        users.user_search(form.q.data, role),
        page=page_number(),
        per_page=25,
        max_per_page=100,
        error_out=False,
    )
    me = current_actor()
    return render_template(
        "admin/users.html",
        form=form,
        page=page,
        reason_form=ReasonForm(),
        manageable={user.id for user in page.items if permissions.can_manage_account(me, user)},
    )


def invite_user() -> str | Response:
    form = InviteUserForm()
    set_company_choices(form, db.session.execute(users.company_choices()))
    if form.validate_on_submit():
        company = db.session.get(PartnerCompany, form.company.data) if form.company.data else None
        with unit_of_work(form) as work:
            accounts.invite_user(
                current_actor(),
                email=form.email.data or "",
                name=form.name.data or "",
                role=Role(form.role.data),
                company=company,
                staff_number=form.staff_number.data,
                department=form.department.data,
                job_title=form.job_title.data,
                links=PortalLinks(),
            )
            work.flash(_("We have sent %(email)s an invitation.", email=form.email.data))
        if work.succeeded:
            return redirect(url_for("admin.user_list"))
    return render_template("admin/invite_user.html", form=form)


def deactivate_user(user_id: int) -> Response | tuple[str, int]:
    """The confirmation page of deactivating an account (GET), and deactivating it."""
    if request.method == "GET":
        user = db.get_or_404(User, user_id)
        back = request.args.get("next")
        if not is_safe_next(back):
            back = url_for("admin.user_list")
        me = current_actor()
        return render_confirmation(
            Confirmation(
                title=_("Deactivate %(name)s", name=user.name),
                action_url=url_for("admin.deactivate_user", user_id=user.id),
                button=_("Deactivate %(name)s", name=user.name),
                cancel_url=back,
                form=ReasonForm(formdata=None),
                consequences=account_deactivation_consequences(
                    user.name,
                    accounts.active_enrolment_count(user),
                    approvals.left_without_approver(user),
                ),
                refusal=_deactivation_refusal(me, user),
                reason_field="reason",
                hidden={"next": back},
            )
        )
    return _set_active(user_id, active=False)


def _deactivation_refusal(actor: User, user: User) -> str | None:
    if not permissions.can_manage_account(actor, user):
        return _("You cannot deactivate your own account.")
    if not user.is_active:
        return _("%(name)s is already deactivated.", name=user.name)
    return None


def reactivate_user(user_id: int) -> Response:
    return _set_active(user_id, active=True)


def _set_active(user_id: int, *, active: bool) -> Response:
    user = db.get_or_404(User, user_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        accounts.set_active(
            current_actor(),
            user,
            active,
            form.reason.data or "",
        )
    if work.succeeded:
        if active:
            flash(_("%(name)s can log in again.", name=user.name), "success")
        else:
            flash(
                _("%(name)s has been deactivated and logged out everywhere.", name=user.name),
                "success",
            )
    return redirect_to_next(url_for("admin.user_list"))


def _audit_pages() -> audit_pages.AuditPages:
    return audit_pages.AuditPages(
        template="admin/audit.html",
        endpoint="admin.audit_log",
        csv_endpoint="admin.audit_log_csv",
        object_links={
            "classes": lambda class_id: url_for("admin.class_detail", class_id=class_id),
            "courses": lambda course_id: url_for("admin.course_detail", course_id=course_id),
            "partner_companies": lambda company_id: url_for(
                "admin.company_detail", company_id=company_id
            ),
        },
    )


def audit_log() -> tuple[str, int]:
    """Search the whole audit log: who did what, to which object, and when."""
    return audit_pages.audit_log_page(_audit_pages())


def audit_log_csv() -> Response | tuple[str, int]:
    """The entries the search finds, as a CSV file."""
    return audit_pages.audit_log_csv(_audit_pages())
