"""Programme administration: partner companies, their quotas and HR officers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import permissions
from ..audit_text import readable_entries
from ..confirmation import Confirmation, account_deactivation_consequences, render_confirmation
from ..extensions import db
from ..forms import ActionForm
from ..links import PortalLinks
from ..models import PartnerCompany, SeatQuota, User
from ..services import approvals, audit, seat_quotas, sso_providers
from ..services import companies as company_service
from ..services.companies import CompanyFilter
from ..services.seat_quotas import seats_used
from ..web import current_actor, page_number, unit_of_work
from .company_forms import (
    CompanyFilterForm,
    CompanyForm,
    InviteHrOfficerForm,
    QuotaForm,
    company_form_data,
    identity_provider_form,
)

PER_PAGE = 25


def _company_or_404(company_id: int) -> PartnerCompany:
    return db.get_or_404(PartnerCompany, company_id)


def _quota_or_404(company: PartnerCompany, quota_id: int) -> SeatQuota:
    quota = db.get_or_404(SeatQuota, quota_id)
    if quota.company_id != company.id:
        abort(404)
    return quota


def _hr_officer_or_404(company: PartnerCompany, user_id: int) -> User:
    user = db.get_or_404(User, user_id)
    if not permissions.is_hr_officer_of(user, company):
        abort(404)
    return user


def _quota_form() -> QuotaForm:
    form = QuotaForm(prefix="quota")
    form.set_course_choices(db.session.execute(seat_quotas.course_choices()))
    return form


def _hr_form() -> InviteHrOfficerForm:
    return InviteHrOfficerForm(prefix="hr")


def _detail_url(company: PartnerCompany, anchor: str = "") -> str:
    url = url_for("admin.company_detail", company_id=company.id)
    return f"{url}#{anchor}" if anchor else url


# The list ----------------------------------------------------------------------------------


def company_list() -> str:
    form = CompanyFilterForm(request.args)
    form.validate()
    q = form.q.data if not form.q.errors else None
    status = form.status.data if form.status.data and not form.status.errors else None
    page = db.paginate(
        company_service.company_admin_list(q, status),
        page=page_number(),
        per_page=PER_PAGE,
        max_per_page=100,
        error_out=False,
    )
    counts = company_service.people_counts(company.id for company in page.items)
    filters = {"q": q or "", "status": status or ""}
    return render_template(
        "admin/companies/list.html",
        form=form,
        page=page,
        counts=counts,
        filters=filters,
        CompanyFilter=CompanyFilter,
    )


# Creating and editing ----------------------------------------------------------------------


def company_new() -> str | Response:
    form = CompanyForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            company = company_service.create_company(current_actor(), form.company_data())
            work.flash(_("%(name)s has been added.", name=company.name))
        if work.succeeded:
            return redirect(_detail_url(company))
    return render_template("admin/companies/form.html", form=form, company=None)


def company_edit(company_id: int) -> str | Response:
    company = _company_or_404(company_id)
    form = CompanyForm(data=company_form_data(company))
    if form.validate_on_submit():
        was_active = company.is_active
        with unit_of_work(form) as work:
            changes = company_service.update_company(current_actor(), company, form.company_data())
        if work.succeeded:
            if not changes:
                flash(_("Nothing was changed."), "info")
            else:
                flash(_("The changes to %(name)s have been saved.", name=company.name), "success")
            if was_active and not company.is_active:
                flash(
                    _(
                        "%(name)s is inactive: its learners and HR officers can no longer log in.",
                        name=company.name,
                    ),
                    "warning",
                )
            elif company.is_active and not was_active:
                flash(
                    _("%(name)s is active again: its people can log in.", name=company.name),
                    "info",
                )
            return redirect(_detail_url(company))
    return render_template("admin/companies/form.html", form=form, company=company)


# A company's page --------------------------------------------------------------------------


def _render_detail(
    company: PartnerCompany,
    *,
    quota_form: QuotaForm | None = None,
    hr_form: InviteHrOfficerForm | None = None,
) -> str:
    return render_template(
        "admin/companies/detail.html",
        company=company,
        page=company_service.company_admin_page(company),
        quota_form=quota_form or _quota_form(),
        hr_form=hr_form or _hr_form(),
        sso_provider=sso_providers.provider_of(company),
        entries=readable_entries(audit.entries_for("partner_companies", company.id)),
    )


def company_detail(company_id: int) -> str:
    return _render_detail(_company_or_404(company_id))


# Seat quotas -------------------------------------------------------------------------------


def company_quota_add(company_id: int) -> str | Response:
    company = _company_or_404(company_id)
    form = _quota_form()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            quota = seat_quotas.add_quota(current_actor(), company, form.quota_data())
            work.flash(_("The quota for %(label)s has been added.", label=quota.label))
        if work.succeeded:
            return redirect(_detail_url(company, "quotas"))
    return _render_detail(company, quota_form=form)


def company_quota_edit(company_id: int, quota_id: int) -> str | Response:
    company = _company_or_404(company_id)
    quota = _quota_or_404(company, quota_id)
    form = _quota_form()
    if request.method == "GET":
        form.fill_from(quota)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            changes = seat_quotas.update_quota(current_actor(), quota, form.quota_data())
        if work.succeeded:
            if changes:
                flash(_("The quota for %(label)s has been saved.", label=quota.label), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(_detail_url(company, "quotas"))
    return render_template(
        "admin/companies/quota_form.html",
        form=form,
        company=company,
        quota=quota,
        used=seats_used(quota),
    )


def company_quota_remove(company_id: int, quota_id: int) -> Response:
    company = _company_or_404(company_id)
    quota = _quota_or_404(company, quota_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    label = quota.label
    with unit_of_work() as work:
        seat_quotas.remove_quota(current_actor(), quota)
        work.flash(_("The quota for %(label)s has been removed.", label=label))
    return redirect(_detail_url(company, "quotas"))


# HR officers -------------------------------------------------------------------------------


def company_hr_invite(company_id: int) -> str | Response:
    company = _company_or_404(company_id)
    form = _hr_form()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            officer = company_service.invite_hr_officer(
                current_actor(),
                company,
                name=form.name.data or "",
                email=form.email.data or "",
                links=PortalLinks(),
            )
            work.flash(
                _(
                    "We have sent %(email)s an invitation to be an HR officer of %(name)s.",
                    email=officer.email,
                    name=company.name,
                )
            )
        if work.succeeded:
            return redirect(_detail_url(company, "hr-officers"))
    return _render_detail(company, hr_form=form)


def company_hr_deactivate(company_id: int, user_id: int) -> Response | tuple[str, int]:
    """The confirmation page of deactivating an HR officer (GET), and deactivating them."""
    if request.method == "GET":
        company = _company_or_404(company_id)
        officer = _hr_officer_or_404(company, user_id)
        back = _detail_url(company, "hr-officers")
        return render_confirmation(
            Confirmation(
                title=_("Deactivate %(name)s", name=officer.name),
                action_url=url_for(
                    "admin.company_hr_deactivate", company_id=company.id, user_id=officer.id
                ),
                button=_("Deactivate %(name)s", name=officer.name),
                cancel_url=back,
                form=ActionForm(formdata=None),
                consequences=account_deactivation_consequences(
                    officer.name, 0, approvals.left_without_approver(officer)
                ),
                refusal=None
                if officer.is_active
                else _("%(name)s is already deactivated.", name=officer.name),
            )
        )
    return _set_hr_active(company_id, user_id, active=False)


def company_hr_reactivate(company_id: int, user_id: int) -> Response:
    return _set_hr_active(company_id, user_id, active=True)


def _set_hr_active(company_id: int, user_id: int, *, active: bool) -> Response:
    company = _company_or_404(company_id)
    user = _hr_officer_or_404(company, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        changed = company_service.set_hr_officer_active(current_actor(), company, user, active)
    if work.succeeded:
        if not changed:
            flash(_("Nothing was changed."), "info")
        elif active:
            flash(_("%(name)s can log in again.", name=user.name), "success")
        else:
            flash(
                _("%(name)s has been deactivated and logged out everywhere.", name=user.name),
                "success",
            )
    return redirect(_detail_url(company, "hr-officers"))


# Single sign-on ----------------------------------------------------------------------------


def company_sso(company_id: int) -> str | tuple[str, int] | Response:
    """The company's identity provider: the form, and saving it (its discovery document is
    checked when it is switched on)."""
    company = _company_or_404(company_id)
    provider = sso_providers.provider_of(company)
    form = identity_provider_form(company, provider)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            saved, changes = sso_providers.save_provider(
                current_actor(), company, form.provider_data()
            )
        if work.succeeded:
            if not changes:
                flash(_("Nothing was changed."), "info")
            elif saved.is_enabled:
                flash(
                    _(
                        "Single sign-on for %(name)s is saved and switched on.",
                        name=company.name,
                    ),
                    "success",
                )
            else:
                flash(
                    _(
                        "Single sign-on for %(name)s is saved, switched off: everyone signs "
                        "in with a portal password.",
                        name=company.name,
                    ),
                    "success",
                )
            return redirect(_detail_url(company))
    status = 400 if form.is_submitted() else 200
    return (
        render_template(
            "admin/companies/sso.html",
            form=form,
            company=company,
            provider=provider,
            redirect_uri=url_for("auth.sso_callback", _external=True),
        ),
        status,
    )
