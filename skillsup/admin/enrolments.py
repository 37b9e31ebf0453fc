"""Programme administration: admins enrol learners and withdraw them, under the same rules."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..confirmation import act_on_confirmation, render_confirmation, withdrawal_confirmation
from ..extensions import db
from ..models import CourseClass, Enrolment, EnrolmentSource
from ..services import enrolment_requests as enrolments
from ..services.accounts import find_user_by_email
from ..web import Work, current_actor, unit_of_work
from .classes import render_detail
from .enrolment_forms import AdminEnrolForm, AdminWithdrawForm


def class_enrol(class_id: int) -> str | Response:
    course_class = db.get_or_404(CourseClass, class_id)
    form = AdminEnrolForm()
    back = url_for("admin.class_detail", class_id=class_id) + "#enrolments"
    if not form.validate_on_submit():
        flash(_("Enter the e-mail address of a learner."), "error")
        return redirect(back)
    learner = find_user_by_email(form.email.data or "")
    if learner is None:
        flash(_("No one has the e-mail address %(email)s.", email=form.email.data), "error")
        return redirect(back)
    with unit_of_work(form) as work:
        outcome = enrolments.request_enrolment(
            current_actor(),
            learner,
            course_class,
            EnrolmentSource.ADMIN,
            reason=form.reason.data,
        )
        work.flash(f"{learner.name}: {enrolments.describe(outcome, for_self=False)}")
    if work.refusal is not None and work.refusal.field in form:
        # The reason a late or unapproved placement needs: shown on the form, filled in.
        return render_detail(course_class, enrol_form=form)
    return redirect(back)


def enrolment_withdraw(enrolment_id: int) -> Response | tuple[str, int]:
    """The confirmation page of withdrawing a learner (the seat, who is told, the reason),
    and the withdrawal."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    back = url_for("admin.class_detail", class_id=enrolment.class_id) + "#enrolments"
    form = AdminWithdrawForm()

    def withdraw(work: Work) -> None:
        enrolments.withdraw(current_actor(), enrolment, form.reason.data or "")
        work.flash(_("%(name)s has been withdrawn.", name=enrolment.learner.name))

    answer = act_on_confirmation(form, withdraw, back)
    if isinstance(answer, Response):
        return answer
    return render_confirmation(
        withdrawal_confirmation(
            enrolments.withdrawal_preview(current_actor(), enrolment),
            form=form,
            action_url=url_for("admin.enrolment_withdraw", enrolment_id=enrolment.id),
            cancel_url=back,
        ),
        status=answer,
    )


def enrolment_approve(enrolment_id: int) -> Response:
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    back = url_for("admin.class_detail", class_id=enrolment.class_id) + "#enrolments"
    with unit_of_work() as work:
        outcome = enrolments.approve(current_actor(), enrolment)
        message = f"{enrolment.learner.name}: {enrolments.describe(outcome, for_self=False)}"
        work.flash(message)
    return redirect(back)
