"""HR pages: the staff progress table, and reports to download as CSV or Excel."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination

from .. import audit_pages
from ..models import User
from ..services import certificate_expiry, hr_dashboard
from ..services import exports as export_service
from ..services import staff as staff_service
from ..services import staff_progress as progress_service
from ..services.exports import ExportCriteria
from ..services.staff_progress import PROGRESS_SORTS, StaffProgress
from ..web import bad_request, current_actor, unit_of_work
from .report_forms import ExportForm, ProgressFilterForm

PROGRESS_PER_PAGE = 25
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RowPage(Pagination):
    """A page of rows already in memory, for the ``pagination`` macro.

    The staff progress table is sorted in Python (by "at risk" too, which the database cannot
    compute), so it is paginated here rather than by ``LIMIT``.
    """

    def __init__(self, rows: list[Any], per_page: int) -> None:
        self._rows = rows
        # A bad or out-of-range ``?page=`` shows a page, as the other lists do, not a 404.
        super().__init__(page=None, per_page=per_page, max_per_page=per_page, error_out=False)

    def _query_items(self) -> list[Any]:
        start = (self.page - 1) * self.per_page
        return self._rows[start : start + self.per_page]

    def _query_count(self) -> int:
        return len(self._rows)


def progress() -> tuple[str, int]:
    """One row per employee, sortable by each column and filterable by department."""
    me = current_actor()
    sort = request.args.get("sort", "name")
    if sort not in PROGRESS_SORTS:
        bad_request(_("The table cannot be sorted that way: choose a column heading."))
    direction = request.args.get("dir", PROGRESS_SORTS[sort])
    if direction not in ("asc", "desc"):
        bad_request(_("Sort in the order asc (ascending) or desc (descending)."))

    form = ProgressFilterForm(request.args)
    form.set_departments(staff_service.departments(me))
    status = 200
    department = None
    if form.validate():
        department = form.department.data or None
    else:
        status = 400

    rows: list[StaffProgress] = progress_service.sort_staff_progress(
        progress_service.staff_progress(me, department=department),
        sort,
        descending=direction == "desc",
    )
    page = RowPage(rows, PROGRESS_PER_PAGE)
    filters = {"department": department, "sort": sort, "dir": direction}
    columns = {}
    for column, first_direction in PROGRESS_SORTS.items():
        current = column == sort
        next_direction = ("asc" if direction == "desc" else "desc") if current else first_direction
        columns[column] = {
            "url": url_for("hr.progress", department=department, sort=column, dir=next_direction),
            "aria_sort": ("ascending" if direction == "asc" else "descending") if current else None,
        }
    return render_template(
        "hr/reports/progress.html",
        form=form,
        page=page,
        filters=filters,
        columns=columns,
    ), status


def _export_form(me: User) -> ExportForm:
    """The download form, filled from the query string, else with the current period."""
    period = hr_dashboard.default_period(hr_dashboard.company_periods(me))
    form = ExportForm(
        request.args,
        data={"starts_on": period.starts_on, "ends_on": period.ends_on, "department": ""},
    )
    form.set_departments(staff_service.departments(me))
    return form


def reports_index() -> str:
    """Choose a date range and a department, then a report and a format to download."""
    return render_template("hr/reports/index.html", form=_export_form(current_actor()))


def progress_csv() -> Response | tuple[str, int]:
    return _export("progress", "csv")


def progress_xlsx() -> Response | tuple[str, int]:
    return _export("progress", "xlsx")


def enrolments_csv() -> Response | tuple[str, int]:
    return _export("enrolments", "csv")


def enrolments_xlsx() -> Response | tuple[str, int]:
    return _export("enrolments", "xlsx")


def _export(report: str, file_format: str) -> Response | tuple[str, int]:
    """Stream a report: CSV row batch by row batch; Excel from a temporary file, in chunks."""
    me = current_actor()
    form = _export_form(me)
    if not form.validate():
        return render_template("hr/reports/index.html", form=form), 400
    criteria = ExportCriteria(
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        department=form.department.data or None,
    )
    if report == "progress":
        export = export_service.progress_export(me, criteria)
    elif report == "enrolments":
        export = export_service.enrolments_export(me, criteria)
    else:  # pragma: no cover - the routes above name every report
        abort(404)
    return send_export(me, export, file_format)


def send_export(me: User, export: export_service.Export, file_format: str) -> Response:
    """Record the download of ``export`` in the audit log and send it as an attachment: CSV
    streamed row batch by row batch (inside the request, whose database session the rows
    are read with), Excel from a temporary file, in chunks."""
    filename = export_service.export_filename(export, file_format)
    with unit_of_work():
        export_service.record_export(me, export, file_format)

    if file_format == "csv":
        response = Response(
            stream_with_context(export_service.csv_chunks(export)), mimetype=CSV_MIMETYPE
        )
    else:
        file = export_service.xlsx_file(export)
        size = file.seek(0, 2)
        file.seek(0)
        response = Response(export_service.file_chunks(file), mimetype=XLSX_MIMETYPE)
        response.content_length = size
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


AUDIT_PAGES = audit_pages.AuditPages(
    template="hr/audit.html", endpoint="hr.audit_log", csv_endpoint="hr.audit_log_csv"
)


def audit_log() -> tuple[str, int]:
    """Search the company's part of the audit log: what was done about its staff, their
    enrolments, its quotas, imports and downloads, by whom and when."""
    return audit_pages.audit_log_page(AUDIT_PAGES)


def audit_log_csv() -> Response | tuple[str, int]:
    """The entries the search finds, as a CSV file."""
    return audit_pages.audit_log_csv(AUDIT_PAGES)


def certificates_to_renew() -> str:
    """The company's staff certificates that have expired or expire within 90 days."""
    rows = certificate_expiry.certificates_to_renew(current_actor())
    expiring, expired = certificate_expiry.split_by_state(rows)
    return render_template(
        "hr/certificates.html",
        expiring=expiring,
        expired=expired,
        within_days=certificate_expiry.EXPIRING_WITHIN_DAYS,
    )
