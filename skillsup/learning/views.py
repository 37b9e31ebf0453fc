"""The learner's own pages and actions."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import permissions
from ..confirmation import Confirmation, render_confirmation, withdrawal_consequences
from ..extensions import db
from ..forms import ActionForm
from ..models import Enrolment, EnrolmentSource, EnrolmentStatus
from ..services import claim_statements, learning, shortcuts
from ..services import enrolment_requests as enrolments
from ..services.enrolment import find_class_by_code
from ..services.errors import NotFound
from ..web import current_actor, unit_of_work


def my_learning() -> str:
    overview = learning.overview(current_actor())
    return render_template(
        "learning/my_learning.html",
        overview=overview,
        glance=shortcuts.learner_glance(overview),
    )


def enrol(class_code: str) -> Response:
    course_class = find_class_by_code(class_code)
    # A class of a course the learner cannot see is as good as missing.
    if course_class is None or not permissions.can_see_course(current_user, course_class.course):
        abort(404)
    course_code = course_class.course.code
    if not ActionForm().validate_on_submit():
        abort(400)
    me = current_actor()
    with unit_of_work() as work:
        outcome = enrolments.request_enrolment(me, me, course_class, EnrolmentSource.SELF)
        category = "success" if outcome.status == EnrolmentStatus.CONFIRMED else "info"
        work.flash(enrolments.describe(outcome), category)
    return redirect(url_for("catalogue.course_detail", code=course_code))


def withdraw(enrolment_id: int) -> Response | tuple[str, int]:
    """The confirmation page of a withdrawal (what it does to the seat, who is told), and
    the withdrawal."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    me = current_actor()
    # Another learner's enrolment is as good as missing.
    if not permissions.can_withdraw_own_enrolment(me, enrolment):
        abort(404)
    form = ActionForm()
    code = enrolment.course_class.code
    if request.method == "GET":
        preview = enrolments.withdrawal_preview(me, enrolment)
        return render_confirmation(
            Confirmation(
                title=_("Withdraw from %(code)s", code=code),
                action_url=url_for("learning.withdraw", enrolment_id=enrolment.id),
                button=_("Withdraw from %(code)s", code=code),
                cancel_url=url_for("learning.my_learning"),
                cancel_label=_("Keep my enrolment"),
                form=form,
                consequences=withdrawal_consequences(preview, for_self=True),
                refusal=None if preview.refusal is None else str(preview.refusal.message),
            )
        )
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        enrolments.withdraw(me, enrolment)
        work.flash(_("You have withdrawn from %(code)s.", code=code))
    return redirect(url_for("learning.my_learning"))


def statement(enrolment_id: int) -> Response:
    """The learner's statement of attendance and result for one class, as a PDF."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    # Another learner's enrolment is as good as missing.
    if not permissions.can_see_enrolment(current_actor(), enrolment):
        abort(404)
    try:
        facts = claim_statements.statement(enrolment, current_app.config)
    except NotFound:
        abort(404)
    # End the (read) transaction first: no lock is held while the PDF is made.
    db.session.rollback()
    pdf = claim_statements.render_pdf(facts)
    response = Response(pdf, mimetype="application/pdf")
    response.headers.set(
        "Content-Disposition", "attachment", filename=f"{facts.class_code}-statement.pdf"
    )
    return response
