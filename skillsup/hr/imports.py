"""HR pages: inviting staff and nominating staff into classes from CSV files.

Each import has an upload page, which answers an upload with a preview of every row (saving
nothing), a confirmation that applies all the rows or none, and a sample file. The rows go
from the preview to the confirmation in a signed hidden field, never in the session cookie.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import PurePosixPath
from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from ..links import PortalLinks
from ..models import User
from ..services import csvfiles, imports, nomination_import
from ..services import staff_import as staff_import_service
from ..services.csvfiles import Column, CsvTable
from ..services.imports import ImportPreview, Outcome
from ..web import bad_request, current_actor, unit_of_work
from .import_forms import CsvUploadForm, ImportConfirmForm


@dataclass(frozen=True)
class _Import:
    """What differs between the two imports; the views below are the same for both."""

    kind: str
    columns: Sequence[Column]
    required: Sequence[Sequence[str]]
    rows: Callable[[CsvTable], list[Any]]
    preview: Callable[[User, list[Any]], ImportPreview[Any]]
    apply: Callable[..., ImportPreview[Any]]
    upload_endpoint: str
    confirm_endpoint: str
    template: str
    sample: str


_STAFF = _Import(
    kind=imports.STAFF,
    columns=imports.STAFF_COLUMNS,
    required=imports.STAFF_REQUIRED,
    rows=imports.staff_rows,
    preview=staff_import_service.preview_staff_import,
    # The invitations' links are built in the request that confirms the import.
    apply=partial(staff_import_service.import_staff, links=PortalLinks()),
    upload_endpoint="hr.staff_import",
    confirm_endpoint="hr.staff_import_confirm",
    template="hr/imports/staff",
    sample="staff-import-sample.csv",
)
_NOMINATIONS = _Import(
    kind=imports.NOMINATIONS,
    columns=imports.NOMINATION_COLUMNS,
    required=imports.NOMINATION_REQUIRED,
    rows=imports.nomination_rows,
    preview=nomination_import.preview_nominations,
    apply=nomination_import.import_nominations,
    upload_endpoint="hr.nominations_import",
    confirm_endpoint="hr.nominations_import_confirm",
    template="hr/imports/nominations",
    sample="nominations-import-sample.csv",
)


def staff_import() -> str | Response:
    return _upload(_STAFF)


def staff_import_confirm() -> str | Response:
    return _confirm(_STAFF)


def staff_import_sample() -> Response:
    return _sample(_STAFF)


def nominations_import() -> str | Response:
    return _upload(_NOMINATIONS)


def nominations_import_confirm() -> str | Response:
    return _confirm(_NOMINATIONS)


def nominations_import_sample() -> Response:
    return _sample(_NOMINATIONS)


# ---------------------------------------------------------------------------------------------


def _upload(spec: _Import) -> str | Response:
    form = CsvUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        filename = _display_name(upload.filename)
        me = current_actor()
        # A preview saves nothing.
        with unit_of_work(form, dry_run=True) as work:
            # One byte more than allowed is enough to tell that the file is too large.
            data = upload.read(csvfiles.MAX_FILE_BYTES + 1)
            table = csvfiles.read_csv(data, spec.columns, required=spec.required)
            preview = spec.preview(me, spec.rows(table))
            token = imports.sign(me, preview, filename=filename) if preview.can_confirm else None
        if work.succeeded:
            return _preview_page(spec, preview, filename, token)
    return render_template(f"{spec.template}_upload.html", form=form, domains=_domains(), spec=spec)


def _confirm(spec: _Import) -> str | Response:
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        bad_request(_("The form came without the rows to import. Upload the file again."))
    me = current_actor()
    try:
        signed = imports.unsign(me, spec.kind, form.payload.data or "")
    except imports.ImportExpired as error:
        flash(str(error.message), "error")
        return redirect(url_for(spec.upload_endpoint))
    except imports.ImportTampered as error:
        current_app.logger.warning("rejected %s import data from user %s", spec.kind, me.id)
        bad_request(str(error.message))
    with unit_of_work(quietly=(imports.ImportChanged,)) as work:
        done = spec.apply(me, signed.rows, expected=signed.expected, filename=signed.filename)
        work.flash(_done_message(done))
    if isinstance(work.refusal, imports.ImportChanged):
        fresh = work.refusal.preview
        token = imports.sign(me, fresh, filename=signed.filename) if fresh.can_confirm else None
        return _preview_page(spec, fresh, signed.filename, token, notice=str(work.refusal.message))
    return redirect(url_for(spec.upload_endpoint))


def _preview_page(
    spec: _Import,
    preview: ImportPreview[Any],
    filename: str,
    token: str | None,
    notice: str | None = None,
) -> str:
    return render_template(
        f"{spec.template}_preview.html",
        preview=preview,
        filename=filename,
        notice=notice,
        # formdata=None: on a confirmation, the posted (stale) rows must not win over the fresh.
        confirm_form=ImportConfirmForm(formdata=None, payload=token) if token else None,
        form=CsvUploadForm(formdata=None),
        domains=_domains(),
        spec=spec,
        Outcome=Outcome,
    )


def _done_message(done: ImportPreview[Any]) -> str:
    if done.kind == imports.STAFF:
        return ngettext(
            "%(num)d invitation is on its way.",
            "%(num)d invitations are on their way.",
            len(done.rows),
        )
    return " ".join(
        [
            ngettext("%(num)d employee nominated:", "%(num)d employees nominated:", len(done.rows)),
            _(
                "%(confirmed)d confirmed, %(waitlisted)d on the waitlist.",
                confirmed=done.count(Outcome.CONFIRMED),
                waitlisted=done.count(Outcome.WAITLISTED),
            ),
        ]
    )


def _sample(spec: _Import) -> Response:
    folder = os.path.join(current_app.static_folder or "static", "samples")
    with open(os.path.join(folder, spec.sample), "rb") as sample:
        content = sample.read()
    return Response(
        content,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{spec.sample}"'},
    )


def _domains() -> list[str]:
    return list(current_user.company.domain_names)


def _display_name(filename: str | None) -> str:
    """The uploaded file's own name, without any folder, for the page and the audit log."""
    return PurePosixPath((filename or "").replace("\\", "/")).name[:120]
