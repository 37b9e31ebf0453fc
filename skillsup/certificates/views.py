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
from ..extensions import db, login_manager
from ..forms import PortalForm
from ..models import Certificate
from ..services import certificates
from ..web import current_actor, unit_of_work


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
        description=_l("Kept in the audit log; the public page shows only the date."),
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
        revoke_form=RevokeForm() if permissions.can_revoke_certificate(current_user) else None,
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


def revoke(certificate_id: int) -> Response:
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
    if not form.validate_on_submit():
        for error in form.reason.errors or [_("The form has expired: try again.")]:
            flash(str(error), "error")
        return redirect(url_for(".verify", code=code))
    with unit_of_work() as work:
        certificates.revoke(current_actor(), certificate, form.reason.data or "")
        work.flash(_("Certificate %(serial)s has been revoked.", serial=certificate.serial_number))
    return redirect(url_for(".verify", code=code))
