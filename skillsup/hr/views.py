"""The HR officer's pages, always limited to their own company."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from ..confirmation import (
    Confirmation,
    act_on_confirmation,
    render_confirmation,
    withdrawal_confirmation,
)
from ..links import PortalLinks
from ..models import Enrolment, EnrolmentStatus, Role, User
from ..services import accounts, hr_dashboard, shortcuts
from ..services import approvals as approval_queries
from ..services import enrolment_requests as enrolments
from ..services.approvals import Decision
from ..services.errors import NotFound
from ..services.staff import hr_company_id
from ..validators import is_id
from ..web import Work, current_actor, is_safe_next, unit_of_work
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
            "glance": shortcuts.hr_glance(me),
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
    return _approvals_page(DecisionForm())


def decide() -> str | tuple[str, int]:
    """Tick every request, approve the ticked ones, or reject them after a confirmation page.

    Each request is decided on its own and the page shows what became of each; a form error
    shows the page again with the same requests ticked.
    """
    form = DecisionForm()
    ticked = _ticked_ids(form)
    me = current_actor()
    confirming = form.decision.data == Decision.REJECT and form.confirmed.data == "yes"
    if not form.validate_on_submit():
        if confirming and ticked:
            # A reason refused on the confirmation page: that page again, saying why.
            return _reject_confirmation(form, _chosen_or_404(me, ticked), status=400)
        return _approvals_page(form, ticked=ticked, status=400)
    decision = form.decision.data
    if decision in ("select_all", "select_none"):
        rows = approval_queries.approval_queue(me)
        everything = [row.enrolment.id for row in rows]
        return _approvals_page(
            form, rows=rows, ticked=everything if decision == "select_all" else []
        )
    refusal = approval_queries.choice_refusal(ticked)
    if refusal is not None:
        form.enrolment_ids.errors = [str(refusal.message)]
        return _approvals_page(form, ticked=ticked, status=400)
    if decision == Decision.REJECT and not confirming:
        return _reject_confirmation(form, _chosen_or_404(me, ticked))
    with unit_of_work(form) as work:
        outcomes = approval_queries.decide_requests(
            me, ticked, Decision(decision), form.reason.data or ""
        )
        work.flash(_decision_summary(outcomes), "success" if _all_done(outcomes) else "warning")
    if not work.succeeded:
        if decision == Decision.REJECT:
            chosen = approval_queries.chosen_requests(me, ticked)
            return _reject_confirmation(form, chosen, status=work.status_code)
        return _approvals_page(form, ticked=ticked, status=work.status_code)
    # One query for the learners and classes of the outcomes, which the commit expired.
    approval_queries.chosen_requests(me, [outcome.enrolment.id for outcome in outcomes])
    # The requests refused stay ticked, ready for another decision.
    still_ticked = [outcome.enrolment.id for outcome in outcomes if outcome.refused]
    return _approvals_page(DecisionForm(formdata=None), ticked=still_ticked, outcomes=outcomes)


def _chosen_or_404(me: User, ticked: list[int]) -> list[Enrolment]:
    try:
        return approval_queries.chosen_requests(me, ticked)
    except NotFound:
        abort(404)


def _reject_confirmation(
    form: DecisionForm, chosen: list[Enrolment], *, status: int = 200
) -> tuple[str, int]:
    """The confirmation page of rejecting the chosen requests: who is rejected, who is told."""
    count = len(chosen)
    form.enrolment_ids.data = [enrolment.id for enrolment in chosen]
    form.confirmed.data = "yes"
    return render_confirmation(
        Confirmation(
            title=ngettext("Reject %(num)d request?", "Reject %(num)d requests?", count),
            action_url=url_for("hr.decide"),
            button=ngettext(
                "Reject %(num)d request and e-mail the learner",
                "Reject %(num)d requests and e-mail the learners",
                count,
            ),
            cancel_url=url_for("hr.approvals"),
            form=form,
            consequences=[
                ngettext(
                    "The request below is rejected: the learner does not get a place in the class.",
                    "The %(num)d requests below are rejected: the learners do not get places "
                    "in the classes.",
                    count,
                ),
                ngettext(
                    "The learner is told by e-mail, with your reason.",
                    "Each learner is told by e-mail, with your reason.",
                    count,
                ),
                ngettext(
                    "The seat it held in your company's quota is given back.",
                    "The seats they held in your company's quota are given back.",
                    count,
                ),
                _(
                    "The rejection stays in the request's history and the audit log. A learner "
                    "may ask again."
                ),
            ],
            consequences_heading=_("What rejecting does"),
            reason_field="reason",
            hidden={"decision": Decision.REJECT.value},
        ),
        status=status,
        template="hr/reject_confirm.html",
        chosen=chosen,
    )


def _ticked_ids(form: DecisionForm) -> list[int]:
    """The ticked requests as posted, keeping the well-formed ids when some are not."""
    raw = form.enrolment_ids.raw_data or []
    return sorted({int(value) for value in raw if isinstance(value, str) and is_id(value)})


def _approvals_page(
    form: DecisionForm,
    *,
    rows: list[approval_queries.QueueRow] | None = None,
    ticked: list[int] | None = None,
    outcomes: list[approval_queries.DecisionOutcome] | None = None,
    status: int = 200,
) -> Any:
    if rows is None:
        rows = approval_queries.approval_queue(current_actor())
    page = render_template(
        "hr/approvals.html",
        rows=rows,
        form=form,
        ticked=set(ticked or []),
        outcomes=outcomes,
    )
    return page if status == 200 else (page, status)


def _all_done(outcomes: list[approval_queries.DecisionOutcome]) -> bool:
    return not any(outcome.refused for outcome in outcomes)


def _decision_summary(outcomes: list[approval_queries.DecisionOutcome]) -> str:
    """One sentence on a batch: how many were confirmed, waitlisted, rejected and refused."""
    counts = {status: 0 for status in EnrolmentStatus}
    refused = 0
    for outcome in outcomes:
        if outcome.status is None:
            refused += 1
        else:
            counts[outcome.status] += 1
    parts = []
    if counts[EnrolmentStatus.CONFIRMED]:
        parts.append(
            ngettext(
                "%(num)d request approved and confirmed",
                "%(num)d requests approved and confirmed",
                counts[EnrolmentStatus.CONFIRMED],
            )
        )
    if counts[EnrolmentStatus.WAITLISTED]:
        parts.append(
            ngettext(
                "%(num)d request approved onto the waitlist (the class is full)",
                "%(num)d requests approved onto the waitlist (the class is full)",
                counts[EnrolmentStatus.WAITLISTED],
            )
        )
    if counts[EnrolmentStatus.REJECTED]:
        parts.append(
            ngettext(
                "%(num)d request rejected",
                "%(num)d requests rejected",
                counts[EnrolmentStatus.REJECTED],
            )
        )
    if refused:
        parts.append(
            ngettext(
                "%(num)d request refused and left unchanged",
                "%(num)d requests refused and left unchanged",
                refused,
            )
        )
    return _("%(parts)s. See each request below.", parts=_("; ").join(parts))


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

    def withdraw(work: Work) -> None:
        enrolments.withdraw(me, enrolment, form.reason.data or "")
        work.flash(_("The enrolment has been withdrawn."))

    answer = act_on_confirmation(form, withdraw, back)
    if isinstance(answer, Response):
        return answer
    return render_confirmation(
        withdrawal_confirmation(
            enrolments.withdrawal_preview(me, enrolment),
            form=form,
            action_url=url_for("hr.withdraw", enrolment_id=enrolment.id),
            cancel_url=back,
            hidden={"next": back},
        ),
        status=answer,
    )
