"""HR pages about money: funding at risk and the company's claims in a period, their export,
money received on a claim, and the value of training."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from ..models import User
from ..services import hr_dashboard, hr_funding, training_value
from ..services.errors import NotFound
from ..services.exports import Export, ExportCriteria
from ..web import current_actor, is_safe_next, unit_of_work
from .funding_forms import ClaimReceivedForm, FundingPeriodForm
from .reports import RowPage, send_export

VALUE_PER_PAGE = 25


@dataclass(frozen=True)
class ChosenPeriod:
    form: FundingPeriodForm
    label: str
    starts_on: date
    ends_on: date
    valid: bool

    @property
    def args(self) -> dict[str, str]:
        """The query string that asks for this period again."""
        if self.form.chosen_range():
            return {"starts_on": self.starts_on.isoformat(), "ends_on": self.ends_on.isoformat()}
        return {"period": self.form.period.data or ""}


def _chosen_period(me: User) -> ChosenPeriod:
    """The period in the query string (a period of the list, or a range of days), else the
    dashboard's default; with an unreadable choice, the default and the form's errors."""
    periods = hr_dashboard.company_periods(me)
    form = FundingPeriodForm(request.args)
    form.set_periods(periods)
    period = hr_dashboard.default_period(periods)
    asked = "period" in request.args or form.has_range()
    if not asked:
        form.period.data = period.key
        return ChosenPeriod(form, period.label, period.starts_on, period.ends_on, True)
    if not form.validate():
        form.period.data = form.period.data if form.period.data else period.key
        return ChosenPeriod(form, period.label, period.starts_on, period.ends_on, False)
    days = form.chosen_range()
    if days is not None:
        return ChosenPeriod(form, _("Your own dates"), days[0], days[1], True)
    chosen = hr_dashboard.find_period(periods, form.period.data) or period
    return ChosenPeriod(form, chosen.label, chosen.starts_on, chosen.ends_on, True)


def funding() -> tuple[str, int]:
    """Learners at risk and lost, the claims' amounts and the caps' use in a period."""
    me = current_actor()
    chosen = _chosen_period(me)
    overview = hr_funding.funding_overview(me, chosen.starts_on, chosen.ends_on)
    return render_template(
        "hr/funding/index.html",
        chosen=chosen,
        overview=overview,
        year_label=hr_funding.year_label,
    ), (200 if chosen.valid else 400)


def claims() -> tuple[str, int]:
    """The claims of the period, to check and to record money received."""
    me = current_actor()
    chosen = _chosen_period(me)
    lines = hr_funding.claim_lines(me, chosen.starts_on, chosen.ends_on)
    return render_template(
        "hr/funding/claims.html",
        chosen=chosen,
        lines=[line for line in lines if line.claim is not None],
        others=sum(1 for line in lines if line.claim is None),
    ), (200 if chosen.valid else 400)


def claims_csv() -> Response | tuple[str, int]:
    return _download("claims", "csv")


def claims_xlsx() -> Response | tuple[str, int]:
    return _download("claims", "xlsx")


def value_csv() -> Response | tuple[str, int]:
    return _download("value", "csv")


def value_xlsx() -> Response | tuple[str, int]:
    return _download("value", "xlsx")


def _download(report: str, file_format: str) -> Response | tuple[str, int]:
    """A period's claims or value of training as a file; a period that cannot be read
    shows its page again, saying why (400)."""
    me = current_actor()
    chosen = _chosen_period(me)
    if not chosen.valid:
        return funding() if report == "claims" else value()
    criteria = ExportCriteria(starts_on=chosen.starts_on, ends_on=chosen.ends_on)
    export: Export
    if report == "claims":
        export = hr_funding.claims_export(me, criteria)
    elif report == "value":
        export = training_value.value_export(me, criteria)
    else:  # pragma: no cover - the routes name every report
        abort(404)
    return send_export(me, export, file_format)


def claim_received(enrolment_id: int, scheme_code: str) -> tuple[str, int] | WerkzeugResponse:
    """Record, or correct, the money the company received on one claim."""
    me = current_actor()
    try:
        claim = hr_funding.claim_for_receipt(me, enrolment_id, scheme_code)
    except NotFound:
        abort(404)
    form = ClaimReceivedForm()
    receipt = claim.receipt
    form.set_defaults(
        receipt.amount if receipt else (claim.claim.amount if claim.claim else None),
        receipt.received_on if receipt else None,
    )
    back = request.args.get("back", "")
    back_url = (
        back if is_safe_next(back) and back.startswith("/hr/funding") else url_for("hr.claims")
    )
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            hr_funding.record_claim_received(me, claim, form.amount.data, form.received_on.data)
            work.flash(
                _("Recorded the money received on the claim for %(name)s.", name=claim.line.name)
            )
        if work.succeeded:
            return redirect(back_url)
    return render_template("hr/funding/received.html", claim=claim, form=form, back_url=back_url), (
        400 if form.errors else 200
    )


def value() -> tuple[str, int]:
    """The value of training in a period: per month and per employee, with charts."""
    me = current_actor()
    chosen = _chosen_period(me)
    figures = training_value.training_value(me, chosen.starts_on, chosen.ends_on)
    page = RowPage(figures.employees, VALUE_PER_PAGE)
    return render_template("hr/funding/value.html", chosen=chosen, figures=figures, page=page), (
        200 if chosen.valid else 400
    )
