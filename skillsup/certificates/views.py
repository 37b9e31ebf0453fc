"""Certificates: anyone checks one by its code; its owner, their HR, the trainers of its class
and admins download the PDF; admins revoke it."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from .. import permissions
from ..confirmation import Confirmation, act_on_confirmation, render_confirmation
from ..extensions import db, login_manager
from ..forms import PortalForm
from ..models import Certificate
from ..services import certificates
from ..web import Work, current_actor


class RevokeForm(PortalForm):
    reason = TextAreaField(
        _l("Why is the certificate revoked?"),
        validators=[
            InputRequired(_l("Say why the certificate is revoked.")),
            Length(
                max=certificates.REASON_MAX_LENGTH,
                message=_l(
                    "Keep the reason under %(max)d characters.",
                    max=certificates.REASON_MAX_LENGTH,
                ),
            ),
        ],
        description=_l(
            "Kept in the audit log and sent to the learner; the public page shows only the date."
        ),
    )


def _not_found() -> tuple[str, int]:
    return render_template("certificates/not_found.html"), 404


# A code is whatever follows /verify/, slashes included, so that a mangled code gets the
# same friendly page as an unknown one.
def verify(code: str) -> str | tuple[str, int]:
    certificate = certificates.find_by_code(code)
    if certificate is None:
        return _not_found()
    return render_template(
        "certificates/verify.html",
        certificate=certificate,
        facts=certificates.facts(certificate, with_attendance=False),
        can_download=permissions.can_download_certificate(current_user, certificate),
        may_revoke=permissions.can_revoke_certificate(current_user),
    )


@login_required
def download(certificate_id: int) -> Response:
    certificate = certificates.get(certificate_id)
    if certificate is None:
        abort(404)
    if not permissions.can_download_certificate(current_user, certificate):
        # A trainer is institute staff: refused outright. For anyone else, another company's
        # certificate does not exist.
        abort(403 if permissions.is_trainer(current_user) else 404)
    facts = certificates.facts(certificate)
    verify_url = url_for(".verify", code=certificate.verification_code, _external=True)
    # End the (read) transaction first: no lock is held while the PDF is made.
    db.session.rollback()
    pdf = certificates.render_pdf(facts, verify_url)
    response = Response(pdf, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment", filename=f"{facts.serial_number}.pdf")
    return response


def revoke(certificate_id: int) -> Response | tuple[str, int]:
    """The confirmation page of revoking a certificate (what the public page then says,
    who is told), with the reason it asks for, and revoking it. Admins only."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not permissions.can_revoke_certificate(current_user):
        current_app.logger.warning(
            "access denied: user %s (%s) may not revoke certificates",
            current_user.id,
            current_user.role,
        )
        abort(403)
    certificate = db.get_or_404(Certificate, certificate_id)
    code = certificate.verification_code
    form = RevokeForm()
    back = url_for(".verify", code=code)

    def revoke(work: Work) -> None:
        certificates.revoke(current_actor(), certificate, form.reason.data or "")
        work.flash(_("Certificate %(serial)s has been revoked.", serial=certificate.serial_number))

    def expired() -> Response:
        flash(_("The form has expired: try again."), "error")
        return redirect(back)

    answer = act_on_confirmation(form, revoke, back, expired=expired)
    if isinstance(answer, Response):
        return answer
    return _revoke_confirmation(certificate, form, answer)


def _revoke_confirmation(
    certificate: Certificate, form: RevokeForm, status: int
) -> tuple[str, int]:
    enrolment = certificate.enrolment
    learner = enrolment.learner.name
    refusal = certificates.revoke_refusal(certificate)
    consequences = [
        _(
            "Certificate %(serial)s of %(name)s for %(course)s is no longer valid: its public "
            "page says it was withdrawn, with the date, and its PDF is marked revoked.",
            serial=certificate.serial_number,
            name=learner,
            course=enrolment.course_class.course.code,
        ),
        _(
            "%(name)s is told by e-mail, with your reason, which is also kept in the audit log; "
            "the public page shows only the date.",
            name=learner,
        ),
        _("It cannot be undone."),
    ]
    verify_url = url_for(".verify", code=certificate.verification_code)
    return render_confirmation(
        Confirmation(
            title=_("Revoke certificate %(serial)s", serial=certificate.serial_number),
            action_url=url_for(".revoke", certificate_id=certificate.id),
            button=_("Revoke the certificate"),
            cancel_url=verify_url,
            cancel_label=_("Keep the certificate"),
            form=form,
            consequences=consequences,
            refusal=None if refusal is None else str(refusal.message),
            reason_field="reason",
        ),
        status=status,
    )
