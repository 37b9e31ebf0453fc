"""The HR officer's pages, always limited to their own company."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import Role
from ..services import accounts, dashboards
from ..services.errors import DomainError
from ..web import apply_domain_error, require_roles
from .forms import InviteEmployeeForm

bp = Blueprint("hr", __name__, url_prefix="/hr")
bp.before_request(require_roles(Role.HR))


@bp.get("/")
def dashboard() -> str:
    summary = dashboards.company_summary(current_user.company_id)
    return render_template("hr/dashboard.html", company=current_user.company, summary=summary)


@bp.route("/staff/invite", methods=["GET", "POST"])
def invite_employee() -> str | Response:
    form = InviteEmployeeForm()
    if form.validate_on_submit():
        try:
            accounts.invite_user(
                current_user._get_current_object(),  # type: ignore[attr-defined]
                email=form.email.data or "",
                name=form.name.data or "",
                role=Role.LEARNER,
                company=current_user.company,
                staff_number=form.staff_number.data,
                department=form.department.data,
                job_title=form.job_title.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(error, form)
        else:
            db.session.commit()
            flash(_("We have sent %(email)s an invitation.", email=form.email.data), "success")
            return redirect(url_for("hr.dashboard"))
    return render_template("hr/invite_employee.html", form=form)
