"""The learner's own pages and actions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import db
from ..forms import ActionForm
from ..models import Enrolment, EnrolmentSource, EnrolmentStatus, Role
from ..services import catalogue, learning
from ..services import enrolment_requests as enrolments
from ..services.enrolment import find_class_by_code
from ..services.errors import DomainError
from ..web import current_actor, refuse, require_roles

bp = Blueprint("learning", __name__)
bp.before_request(require_roles(Role.LEARNER))


@bp.get("/my-learning")
def my_learning() -> str:
    return render_template(
        "learning/my_learning.html", overview=learning.overview(current_actor()), form=ActionForm()
    )


@bp.post("/classes/<class_code>/enrol")
def enrol(class_code: str) -> Response:
    course_class = find_class_by_code(class_code)
    # A class of a course the learner cannot see is as good as missing.
    if course_class is None or not catalogue.can_see_course(course_class.course, current_user):
        abort(404)
    course_code = course_class.course.code
    if not ActionForm().validate_on_submit():
        abort(400)
    me = current_actor()
    try:
        outcome = enrolments.request_enrolment(me, me, course_class, EnrolmentSource.SELF)
    except DomainError as error:
        refuse(error)
    else:
        message = str(enrolments.describe(outcome))
        category = "success" if outcome.status == EnrolmentStatus.CONFIRMED else "info"
        db.session.commit()
        flash(message, category)
    return redirect(url_for("catalogue.course_detail", code=course_code))


@bp.post("/my-learning/enrolments/<int:enrolment_id>/withdraw")
def withdraw(enrolment_id: int) -> Response:
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    if enrolment.learner_id != current_user.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    code = enrolment.course_class.code
    try:
        enrolments.withdraw(current_actor(), enrolment)  # type: ignore[attr-defined]
    except DomainError as error:
        refuse(error)
    else:
        db.session.commit()
        flash(_("You have withdrawn from %(code)s.", code=code), "success")
    return redirect(url_for("learning.my_learning"))
