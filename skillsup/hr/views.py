"""The HR officer's pages, always limited to their own company."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
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
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import db
from ..links import PortalLinks
from ..models import Role
from ..services import accounts
from ..services import approvals as approval_queries
from ..services import enrolment_requests as enrolments
from ..services import reports as report_service
from ..services.errors import DomainError
from ..web import current_actor, redirect_to_next, refuse, require_roles
from .forms import DecisionForm, InviteEmployeeForm, WithdrawForm
from .report_forms import PeriodForm

bp = Blueprint("hr", __name__, url_prefix="/hr")
bp.before_request(require_roles(Role.HR))


@bp.get("/")
def dashboard() -> str | tuple[str, int]:
    """The company's training in a period: figures, charts and quotas."""
    me = current_actor()
    cache_seconds = current_app.config["HR_DASHBOARD_CACHE_SECONDS"]
    periods = report_service.company_periods(me, max_age=cache_seconds)
    form = PeriodForm(request.args)
    form.set_periods(periods)
    period = report_service.default_period(periods)
    chosen_period_is_valid = True
    if "period" in request.args:
        if form.validate():
            period = report_service.find_period(periods, form.period.data) or period
        else:
            chosen_period_is_valid = False
    else:
        form.period.data = period.key

    def dashboard_page() -> dict[str, Any]:
        figures = report_service.company_dashboard(me, period, max_age=cache_seconds)
        return {
            "company": me.company,
            "form": form,
            "figures": figures,
            "figures_may_be_old": cache_seconds > 0,
            "charts": report_service.dashboard_charts(figures),
        }

    status_code = 200 if chosen_period_is_valid else 400
    return render_template("hr/dashboard.html", **dashboard_page()), status_code


@bp.route("/staff/invite", methods=["GET", "POST"])
def invite_employee() -> str | Response:
    form = InviteEmployeeForm()
    if form.validate_on_submit():
        try:
            accounts.invite_user(
                current_actor(),  # type: ignore[attr-defined]
                email=form.email.data or "",
                name=form.name.data or "",
                role=Role.LEARNER,
                company=current_user.company,
                staff_number=form.staff_number.data,
                department=form.department.data,
                job_title=form.job_title.data,
                links=PortalLinks(),
            )
        except DomainError as error:
            refuse(error, form)
        else:
            db.session.commit()
            flash(_("We have sent %(email)s an invitation.", email=form.email.data), "success")
            return redirect(url_for("hr.dashboard"))
    return render_template("hr/invite_employee.html", form=form)


@bp.get("/approvals")
def approvals() -> str:
    requests = approval_queries.pending_requests(current_user.company_id)
    return render_template("hr/approvals.html", requests=requests, form=DecisionForm())


@bp.post("/approvals")
def decide() -> Response:
    """Approve or reject the chosen requests, all or none."""
    form = DecisionForm()
    if not form.validate_on_submit() or not form.enrolment_ids.data:
        flash(_("Choose at least one request."), "error")
        return redirect(url_for("hr.approvals"))
    me = current_actor()
    done = 0
    try:
        for enrolment_id in form.enrolment_ids.data:
            enrolment = approval_queries.company_enrolment(me.company_id, enrolment_id)
            if enrolment is None:
                abort(404)
            if form.decision.data == "approve":
                enrolments.approve(me, enrolment)
            else:
                enrolments.reject(me, enrolment, form.reason.data or "")
            done += 1
    except DomainError as error:
        refuse(error)
        return redirect(url_for("hr.approvals"))
    db.session.commit()
    if form.decision.data == "approve":
        flash(ngettext("%(num)d request approved.", "%(num)d requests approved.", done), "success")
    else:
        flash(ngettext("%(num)d request rejected.", "%(num)d requests rejected.", done), "success")
    return redirect(url_for("hr.approvals"))


@bp.post("/enrolments/<int:enrolment_id>/withdraw")
def withdraw(enrolment_id: int) -> Response:
    me = current_actor()
    enrolment = approval_queries.company_enrolment(me.company_id, enrolment_id)
    if enrolment is None:
        abort(404)
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for the withdrawal."), "error")
    else:
        try:
            enrolments.withdraw(me, enrolment, form.reason.data or "")
        except DomainError as error:
            refuse(error)
        else:
            db.session.commit()
            flash(_("The enrolment has been withdrawn."), "success")
    return redirect_to_next(url_for("hr.dashboard"))


# The staff, import and report pages register on this blueprint too.
from . import imports, reports, staff  # noqa: E402, F401
