"""Spreadsheet exports for a partner company's HR officers, as CSV or Excel, and the escaping
of cells that every CSV the portal writes uses.

Every export takes the acting HR officer and holds their own company's rows only: the company
filter is inside each query. Rows are read in batches (``yield_per``) and never queried one by
one; the files are written as they are read. Attendance is the rate so far of
:mod:`.attendance_rate`. Cells that a spreadsheet would read as a formula are made harmless by
:func:`escape_cell`.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any
from unicodedata import east_asian_width

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from ..extensions import db
from ..labels import label
from ..models import (
    Attendance,
    AuditEntry,
    Certificate,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    PartnerCompany,
    User,
)
from ..reasons import render as render_reasons
from ..timeutil import to_hk
from . import audit, xlsx
from .attendance_rate import (
    attendance_rate,
)
from .hr_scope import company_enrolments, while_at_company
from .staff import hr_company_id
from .staff_progress import attendance_hours, staff_progress

#: First characters that make a spreadsheet read a cell as a formula (tab and carriage return
#: too: some spreadsheets skip them and read on).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made plain text by a leading
    apostrophe (``'=SUM(1)``); anything else unchanged. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


#: The control characters that an XLSX file cannot hold (XML 1.0 allows tab and line breaks).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _clean_text(value: str) -> str:
    """Text without the control characters a spreadsheet file cannot hold, escaped."""
    return str(escape_cell(ILLEGAL_CHARACTERS_RE.sub("", value)))


def _percent(rate: float | None) -> float | None:
    # A number, not text, so that a spreadsheet can sort and average the column.
    return None if rate is None else round(rate * 100, 1)


@dataclass(frozen=True)
class ExportCriteria:
    """Which rows an export holds: classes starting in a date range, of one department."""

    starts_on: date
    ends_on: date
    department: str | None = None


@dataclass
class Export:
    """An export's column headings and its rows, read as they are written."""

    report: str
    sheet_title: str
    header: list[str]
    rows: Iterator[list[Any]] = field(repr=False)
    company_code: str
    criteria: ExportCriteria


EXPORT_REPORTS = ("progress", "enrolments", "claims", "value")


def company_code(company_id: int) -> str:
    """The company's code, which names its export files ("" for a company not found)."""
    return (
        db.session.scalar(select(PartnerCompany.code).where(PartnerCompany.id == company_id)) or ""
    )


def progress_export(actor: User, criteria: ExportCriteria) -> Export:
    """Staff progress for classes starting in the range: one row per learner of the company
    (of the department), as :func:`staff_progress` counts it. Raises
    :class:`PermissionDenied` unless the actor is an HR officer."""
    company_id = hr_company_id(actor)
    header = [
        _l("Staff number"),
        _l("Name"),
        _l("E-mail address"),
        _l("Department"),
        _l("Job title"),
        _l("Account active"),
        _l("Enrolments"),
        _l("Active enrolments"),
        _l("Completed"),
        _l("Training hours"),
        _l("Attendance (%)"),
        _l("Classes at risk"),
        _l("QF credits earned"),
    ]
    progress = staff_progress(
        actor,
        department=criteria.department,
        starts_on=criteria.starts_on,
        ends_on=criteria.ends_on,
    )

    def rows() -> Iterator[list[Any]]:
        for row in progress:
            yield [
                row.staff_number,
                row.name,
                row.email,
                row.department,
                row.job_title,
                row.is_active,
                row.enrolments,
                row.active,
                row.completed,
                round(row.attended_hours, 1),
                _percent(row.attendance_rate),
                row.at_risk_classes,
                row.qf_credits,
            ]

    return Export(
        report="progress",
        sheet_title=str(_l("Staff progress")),
        header=[str(heading) for heading in header],
        rows=rows(),
        company_code=company_code(company_id),
        criteria=criteria,
    )


def enrolments_export(actor: User, criteria: ExportCriteria) -> Export:
    """Every enrolment made under the company (of its staff in the department) in classes
    starting in the range, by class and name, with its status and the reasons for it (worded
    in the reader's language), its attendance, result and certificate:
    those of people who have left it included, with their staff number and department blank
    (:mod:`.hr_scope`). One query, read in batches. Raises :class:`PermissionDenied` unless
    the actor is an HR officer."""
    company_id = hr_company_id(actor)
    made_here = company_enrolments(company_id, criteria.department)
    in_range = (
        CourseClass.starts_on >= criteria.starts_on,
        CourseClass.starts_on <= criteria.ends_on,
    )
    header = [
        _l("Staff number"),
        _l("Name"),
        _l("E-mail address"),
        _l("Department"),
        _l("Course code"),
        _l("Course title"),
        _l("Skill area"),
        _l("Class code"),
        _l("Class starts"),
        _l("Class ends"),
        _l("Status"),
        _l("Reason"),
        _l("How enrolled"),
        _l("Requested at"),
        _l("Confirmed at"),
        _l("Training hours"),
        _l("Attendance (%)"),
        _l("Result"),
        _l("Passed"),
        _l("QF credits earned"),
        _l("Certificate"),
    ]
    chinese = str(get_locale() or "en").startswith("zh")

    def rows() -> Iterator[list[Any]]:
        attendance = attendance_hours(
            Attendance.enrolment_id, "enrolment_id", *made_here, *in_range
        )
        statement = (
            select(
                while_at_company(company_id, User.staff_number).label("staff_number"),
                User.name,
                User.email,
                while_at_company(company_id, User.department).label("department"),
                Course.code.label("course_code"),
                Course.title_en,
                Course.title_zh,
                Course.skill_area,
                Course.qf_credits,
                CourseClass.code.label("class_code"),
                CourseClass.starts_on,
                CourseClass.ends_on,
                Enrolment.status,
                Enrolment.status_reasons,
                Enrolment.source,
                Enrolment.requested_at,
                Enrolment.confirmed_at,
                Enrolment.result_score,
                Enrolment.result_passed,
                Certificate.serial_number,
                attendance.c.attended,
                attendance.c.counted,
            )
            .select_from(Enrolment)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .join(Course, CourseClass.course_id == Course.id)
            .join(User, Enrolment.learner_id == User.id)
            .outerjoin(
                Certificate,
                and_(Certificate.enrolment_id == Enrolment.id, Certificate.revoked_at.is_(None)),
            )
            .outerjoin(attendance, attendance.c.enrolment_id == Enrolment.id)
            .where(*made_here, *in_range)
            .order_by(CourseClass.starts_on, CourseClass.code, User.name, Enrolment.id)
            .execution_options(yield_per=1000)
        )
        # Each value's name is looked up once per export, not once per row.
        names: dict[Any, str] = {}

        def name(value: Any) -> str:
            text = names.get(value)
            if text is None:
                text = names[value] = label(value)
            return text

        for row in db.session.execute(statement):
            attended = float(row.attended or 0)
            completed = row.status == EnrolmentStatus.COMPLETED
            yield [
                row.staff_number,
                row.name,
                row.email,
                row.department,
                row.course_code,
                row.title_zh if chinese and row.title_zh else row.title_en,
                name(row.skill_area),
                row.class_code,
                row.starts_on,
                row.ends_on,
                name(row.status),
                render_reasons(row.status_reasons),
                name(row.source),
                row.requested_at,
                row.confirmed_at,
                round(attended, 1),
                _percent(attendance_rate(attended, float(row.counted or 0))),
                row.result_score,
                row.result_passed,
                row.qf_credits if completed else 0,
                row.serial_number,
            ]

    return Export(
        report="enrolments",
        sheet_title=str(_l("Enrolments")),
        header=[str(heading) for heading in header],
        rows=rows(),
        company_code=company_code(company_id),
        criteria=criteria,
    )


def export_filename(export: Export, extension: str) -> str:
    """``skillsup-<company code>-<report>-<from>-to-<to>.<extension>``, in safe characters."""
    code = re.sub(r"[^A-Za-z0-9_-]+", "", export.company_code) or "company"
    criteria = export.criteria
    return (
        f"skillsup-{code}-{export.report}-{criteria.starts_on.isoformat()}"
        f"-to-{criteria.ends_on.isoformat()}.{extension}"
    )


def record_export(actor: User, export: Export, file_format: str) -> AuditEntry:
    """Note in the audit log who downloaded which staff data: exports hold personal data."""
    company_id = hr_company_id(actor)
    criteria = export.criteria
    return audit.record(
        actor,
        "report_exported",
        object_type="partner_companies",
        object_id=company_id,
        summary=f"{export.report} export ({file_format})",
        details={
            "report": export.report,
            "format": file_format,
            "starts_on": criteria.starts_on.isoformat(),
            "ends_on": criteria.ends_on.isoformat(),
            "department": criteria.department,
        },
    )


def _yes_no() -> dict[bool, str]:
    """The words for true and false in the reader's language, looked up once per file."""
    return {True: str(_l("Yes")), False: str(_l("No"))}


def _csv_cell(value: Any, yes_no: dict[bool, str]) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no[value]
    if isinstance(value, datetime):
        return to_hk(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return value
    return _clean_text(str(value))


def _xlsx_cell(value: Any, yes_no: dict[bool, str]) -> Any:
    if isinstance(value, bool):
        return yes_no[value]
    if isinstance(value, datetime):
        # Spreadsheets keep no time zone: Hong Kong time, as the portal shows it.
        return to_hk(value).replace(tzinfo=None, microsecond=0)
    if value is None or isinstance(value, date | int | float | Decimal):
        return value
    return _clean_text(str(value))


CSV_CHUNK_CHARACTERS = 64 * 1024
FILE_CHUNK_BYTES = 64 * 1024


def csv_chunks(export: Export) -> Iterator[str]:
    """The export as CSV text in chunks of about 64 kB (see :func:`table_csv_chunks`)."""
    return table_csv_chunks(export.header, export.rows)


def table_csv_chunks(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A table as CSV text in chunks of about 64 kB, starting with a byte order mark so that
    Excel reads it as UTF-8 (Chinese names included). Text that a spreadsheet would run as a
    formula is escaped (:func:`escape_cell`), times are Hong Kong times, true and false are
    words in the reader's language."""
    yes_no = _yes_no()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([_csv_cell(heading, yes_no) for heading in header])
    for row in rows:
        writer.writerow([_csv_cell(value, yes_no) for value in row])
        if buffer.tell() >= CSV_CHUNK_CHARACTERS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_DATE_FORMAT = "yyyy-mm-dd"
#: Columns are at least wide enough for a date and time: Excel shows "####" in a narrower one.
XLSX_MIN_COLUMN_WIDTH = 17


def _column_width(heading: str) -> int:
    # Chinese characters take two character widths.
    width = sum(2 if east_asian_width(char) in "WF" else 1 for char in heading)
    return max(width + 2, XLSX_MIN_COLUMN_WIDTH)


def xlsx_file(export: Export) -> IO[bytes]:
    """The export as an Excel workbook in a temporary file, rewound; the caller closes it.

    The sheet is written row by row (:mod:`.xlsx`), so memory stays flat. Text is always
    written as text (never as a formula, a link or a number), dates and times as dates that
    Excel formats, numbers as numbers; the header row is bold and stays in view.
    """
    yes_no = _yes_no()
    header = [_xlsx_cell(heading, yes_no) for heading in export.header]
    # Excel refuses these characters in a sheet's name, and apostrophes at either end.
    title = re.sub(r"[\[\]:*?/\\]", " ", export.sheet_title)[:31].strip("'") or "Sheet1"
    file = tempfile.TemporaryFile()  # noqa: SIM115 - the response streams and closes it
    try:
        xlsx.write_workbook(
            file,
            sheet_title=title,
            header=header,
            rows=([_xlsx_cell(value, yes_no) for value in row] for row in export.rows),
            column_widths=[_column_width(heading) for heading in header],
            date_format=XLSX_DATE_FORMAT,
            datetime_format=XLSX_DATETIME_FORMAT,
        )
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return file


def file_chunks(file: IO[bytes], size: int = FILE_CHUNK_BYTES) -> Iterator[bytes]:
    """A file's bytes in chunks; the file is closed at the end, or when the reader stops."""
    try:
        while chunk := file.read(size):
            yield chunk
    finally:
        file.close()
