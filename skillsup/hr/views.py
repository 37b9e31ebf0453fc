"""The HR officer's pages, always limited to their own company."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from ..confirmation import render_confirmation, withdrawal_confirmation
from ..links import PortalLinks
from ..models import Role
from ..services import accounts, hr_dashboard
from ..services import approvals as approval_queries
from ..services import enrolment_requests as enrolments
from ..services.staff import hr_company_id
from ..web import current_actor, is_safe_next, unit_of_work
from .forms import DecisionForm, InviteEmployeeForm, WithdrawForm
from .report_forms import PeriodForm


def dashboard() -> str | tuple[str, int]:
    """The company's training in a period: figures, charts and quotas."""
    me = current_actor()
    cache_seconds = current_app.config["HR_DASHBOARD_CACHE_SECONDS"]
    periods = hr_dashboard.company_periods(me, max_age=cache_seconds)
    form = PeriodForm(request.args)
    form.set_periods(periods)
    period = hr_dashboard.default_period(periods)
    chosen_period_is_valid = True
    if "period" in request.args:
        if form.validate():
            period = hr_dashboard.find_period(periods, form.period.data) or period
        else:
            chosen_period_is_valid = False
    else:
        form.period.data = period.key

    def dashboard_page() -> dict[str, Any]:
        figures = hr_dashboard.company_dashboard(me, period, max_age=cache_seconds)
        return {
            "company": me.company,
            "form": form,
            "figures": figures,
            "figures_may_be_old": cache_seconds > 0,
        }

    status_code = 200 if chosen_period_is_valid else 400
    return render_template("hr/dashboard.html", **dashboard_page()), status_code


def invite_employee() -> str | Response:
    form = InviteEmployeeForm()
    if form.validate_on_submit():
        me = current_actor()
        with unit_of_work(form) as work:
            accounts.invite_user(
                me,
                email=form.email.data or "",
                name=form.name.data or "",
                role=Role.LEARNER,
                company=me.company,
                staff_number=form.staff_number.data,
                department=form.department.data,
                job_title=form.job_title.data,
                links=PortalLinks(),
            )
            work.flash(_("We have sent %(email)s an invitation.", email=form.email.data))
        if work.succeeded:
            return redirect(url_for("hr.dashboard"))
    return render_template("hr/invite_employee.html", form=form)


def approvals() -> str:
    requests = approval_queries.pending_requests(hr_company_id(current_actor()))
    return render_template("hr/approvals.html", requests=requests, form=DecisionForm())


def decide() -> Response:
    """Approve or reject the chosen requests, all or none."""
    form = DecisionForm()
    if not form.validate_on_submit() or not form.enrolment_ids.data:
        flash(_("Choose at least one request."), "error")
        return redirect(url_for("hr.approvals"))
    me = current_actor()
    with unit_of_work() as work:
        chosen = []
        for enrolment_id in form.enrolment_ids.data:
            enrolment = approval_queries.company_enrolment(hr_company_id(me), enrolment_id)
            if enrolment is None:
                abort(404)
            chosen.append(enrolment)
        enrolments.lock_for_decisions(chosen)
        for enrolment in chosen:
            if form.decision.data == "approve":
                enrolments.approve(me, enrolment)
            else:
                enrolments.reject(me, enrolment, form.reason.data or "")
        done = len(form.enrolment_ids.data)
        if form.decision.data == "approve":
            work.flash(ngettext("%(num)d request approved.", "%(num)d requests approved.", done))
        else:
            work.flash(ngettext("%(num)d request rejected.", "%(num)d requests rejected.", done))
    return redirect(url_for("hr.approvals"))


def withdraw(enrolment_id: int) -> Response | tuple[str, int]:
    """The confirmation page of withdrawing one of the company's staff (the seat, who is
    told, the reason), and the withdrawal."""
    me = current_actor()
    enrolment = approval_queries.company_enrolment(hr_company_id(me), enrolment_id)
    if enrolment is None:
        abort(404)
    back = request.values.get("next")
    if not is_safe_next(back):
        back = url_for("hr.employee_detail", user_id=enrolment.learner_id)
    form = WithdrawForm()
    status_code = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            if form.errors.get("csrf_token"):
                abort(400)
            status_code = 400
        else:
            with unit_of_work(form) as work:
                enrolments.withdraw(me, enrolment, form.reason.data or "")
                work.flash(_("The enrolment has been withdrawn."))
            if work.succeeded or work.refusal is None or work.refusal.field not in form:
                return redirect(back)
            status_code = work.status_code
    return render_confirmation(
        withdrawal_confirmation(
            enrolments.withdrawal_preview(me, enrolment),
            form=form,
            action_url=url_for("hr.withdraw", enrolment_id=enrolment.id),
            cancel_url=back,
            hidden={"next": back},
        ),
        status=status_code,
    )
