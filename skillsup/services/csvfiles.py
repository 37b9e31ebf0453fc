"""Reading uploaded CSV files into rows, robustly, or refusing them with one clear message.

What HR officers upload comes from Excel, Numbers, LibreOffice or a script, so the reader
accepts what those write: UTF-8 with or without a byte order mark, comma or semicolon (or tab)
delimiters, Excel's ``sep=;`` first line, CRLF or LF line ends, quoted fields, blank lines, and
column names in any case, with spaces around them, under a few common aliases. Columns nobody
asked for are ignored.

A file that cannot be read this way is refused as a whole with :class:`CsvUnreadable`, whose
message says what is wrong and how to fix it: too large, too many rows, empty, binary, a
workbook instead of a CSV file, not UTF-8, broken quoting, no header, missing columns.

Rows are numbered as a spreadsheet shows them: the header is row 1, so the first data row is
row 2 (blank lines are skipped but keep their numbers, so the numbers still match).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from ..i18n import fmt_number
from .errors import ValidationFailed

#: The largest upload accepted, in bytes (checked before the file is decoded).
MAX_FILE_BYTES = 2 * 1024 * 1024
#: The most data rows (not counting the header and blank lines) one file may have.
MAX_DATA_ROWS = 5000
#: File name endings accepted for uploads.
ALLOWED_EXTENSIONS = ("csv", "txt")

_DELIMITERS = (",", ";", "\t")
_SEP_LINE = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)
_QUOTED = re.compile(r'"[^"]*"')

_SAVE_AS_CSV = _l("In Excel, choose File > Save As and the type “CSV UTF-8 (Comma delimited)”.")


class CsvUnreadable(ValidationFailed):
    """The upload is not a CSV file that can be read; the message says why and what to do."""

    def __init__(self, message: Any, *, field: str | None = "file") -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True)
class Column:
    """A column an import reads: its key, its heading (as in the sample files, and in
    messages), and the other headings that mean it."""

    key: str
    label: Any
    aliases: tuple[str, ...]
    normalised: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        names = {normalise_header(alias) for alias in (self.key, *self.aliases)}
        object.__setattr__(self, "normalised", frozenset(names))


@dataclass(frozen=True)
class CsvRow:
    """One data row: its number as a spreadsheet shows it, and its values by column key."""

    number: int
    values: dict[str, str]

    def get(self, key: str) -> str:
        return self.values.get(key, "")


@dataclass(frozen=True)
class CsvTable:
    """The rows of a file, with the keys of the columns it has, in the file's order."""

    columns: tuple[str, ...]
    rows: list[CsvRow]
    delimiter: str


def normalise_header(text: str) -> str:
    """A header cell as compared with the aliases: case-folded, spaces trimmed and collapsed,
    hyphens dropped and underscores read as spaces (``E-Mail_Address`` is ``email address``),
    a trailing full stop dropped (``Staff No.``)."""
    text = text.replace("\ufeff", "").casefold().replace("-", "").replace("_", " ")
    return " ".join(text.split()).rstrip(".").strip()


def read_csv(
    data: bytes,
    columns: Sequence[Column],
    *,
    required: Sequence[Sequence[str]] = (),
    max_bytes: int = MAX_FILE_BYTES,
    max_rows: int = MAX_DATA_ROWS,
) -> CsvTable:
    """Read an uploaded file into rows of the given ``columns``.

    ``required`` lists groups of column keys: the file must have at least one column of each
    group (``[("email", "staff_number"), ("class_code",)]`` asks for an e-mail or a staff
    number column, and a class code column). Values are trimmed and runs of white space
    inside them collapsed to one space; a value missing at the end of a short row is "".

    Raises :class:`CsvUnreadable` when the file is larger than ``max_bytes`` (checked before
    decoding), has more than ``max_rows`` data rows, is empty or has no data rows, is binary
    or a workbook, is not UTF-8, has broken quoting, or lacks a header or a required column.
    """
    text = decode(data, max_bytes=max_bytes)
    delimiter, skip_first = _delimiter(text[:65536].splitlines())
    stream = io.StringIO(text, newline="")
    if skip_first:
        stream.readline()
    records = _records(stream, delimiter)

    header_number, header = _header(records)
    positions = _match_columns(header, columns, required)
    rows: list[CsvRow] = []
    for number, record in records:
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) >= max_rows:
            raise CsvUnreadable(
                _l(
                    "The file has more than %(max)s rows. Split it into files of at most "
                    "%(max)s rows and upload them one after the other.",
                    max=fmt_number(max_rows),
                )
            )
        values = {
            key: _clean(record[index]) if index < len(record) else ""
            for key, index in positions.items()
        }
        rows.append(CsvRow(number=number, values=values))
    if not rows:
        raise CsvUnreadable(
            _l(
                "The file has column names on row %(row)d but no rows under them.",
                row=header_number,
            )
        )
    return CsvTable(columns=tuple(positions), rows=rows, delimiter=delimiter)


def limits() -> dict[str, int]:
    """What one upload may hold, as the upload pages state it: whole megabytes and data rows."""
    return {"megabytes": MAX_FILE_BYTES // (1024 * 1024), "rows": MAX_DATA_ROWS}


def decode(data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The text of an uploaded file, after checking its size and that it is UTF-8 text.

    Raises :class:`CsvUnreadable` for a file over ``max_bytes``, an empty file, a workbook,
    a UTF-16 file, a file with NUL bytes (binary), or one that is not valid UTF-8.
    """
    if len(data) > max_bytes:
        raise CsvUnreadable(
            _l(
                "The file is larger than %(max)s MB. Split it into smaller files.",
                max=fmt_number(max_bytes / (1024 * 1024)),
            )
        )
    if not data.strip():
        raise CsvUnreadable(_l("The file is empty."))
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise CsvUnreadable(_l("This is a workbook, not a CSV file. %(how)s", how=_SAVE_AS_CSV))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvUnreadable(
            _l("The file is saved as UTF-16 text; save it as CSV UTF-8. %(how)s", how=_SAVE_AS_CSV)
        )
    if b"\x00" in data:
        raise CsvUnreadable(
            _l(
                "This is not a CSV file: it contains binary data. Upload a CSV file. %(how)s",
                how=_SAVE_AS_CSV,
            )
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CsvUnreadable(
            _l(
                "The file is not UTF-8 text (the first character that is not is on line "
                "%(line)d): save it as CSV UTF-8. %(how)s",
                line=line,
                how=_SAVE_AS_CSV,
            )
        ) from error


def _delimiter(lines: list[str]) -> tuple[str, bool]:
    """The delimiter, from Excel's ``sep=`` line or else the first non-blank (header) line;
    and whether the first line is a ``sep=`` line to skip."""
    first = next((line for line in lines if line.strip()), "")
    if lines and (hint := _SEP_LINE.match(lines[0])) and hint.group(1) in _DELIMITERS:
        return hint.group(1), True
    # Delimiters inside quoted headings ("Name, in full") do not count.
    unquoted = _QUOTED.sub("", first)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return (best if counts[best] else ","), False


def _records(stream: io.StringIO, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each record with its number (1 for the first), blank ones included."""
    # Strict, so that an unclosed quote is an error rather than a field that swallows the
    # rest of the file; the csv module's field size limit (128 KiB) refuses absurd fields.
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    number = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise CsvUnreadable(
                _l(
                    "Row %(row)d cannot be read (%(reason)s). Check its quotation marks: a "
                    "value that contains the delimiter must be in double quotes, and a double "
                    "quote inside it must be doubled.",
                    row=number,
                    reason=str(error),
                )
            ) from error
        yield number, record


def _header(records: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    for number, record in records:
        if any(cell.strip() for cell in record):
            return number, record
    raise CsvUnreadable(_l("The file is empty."))


def _match_columns(
    header: list[str], columns: Sequence[Column], required: Sequence[Sequence[str]]
) -> dict[str, int]:
    """Which position of the header holds each known column; refuse duplicates and gaps."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = normalise_header(cell)
        column = next((c for c in columns if name in c.normalised), None)
        if column is None:
            continue
        if column.key in positions:
            raise CsvUnreadable(
                _l(
                    "Two columns are for %(column)s: “%(first)s” and “%(second)s”. "
                    "Keep only one of them.",
                    column=column.label,
                    first=header[positions[column.key]].strip(),
                    second=cell.strip(),
                )
            )
        positions[column.key] = index
    labels = {column.key: column.label for column in columns}
    missing = [group for group in required if not any(key in positions for key in group)]
    if missing:
        if not positions and any("@" in cell for cell in header):
            raise CsvUnreadable(
                _l(
                    "The first row must give the column names (%(columns)s), but it seems to "
                    "hold data. Add a row of column names at the top.",
                    columns=_column_list(columns),
                )
            )
        found = ", ".join(f"“{cell.strip()}”" for cell in header if cell.strip())
        raise CsvUnreadable(
            _l(
                "The file has no column for %(missing)s. Its first row must name the columns "
                "(%(columns)s); it has %(found)s.",
                missing="; ".join(_either([labels[key] for key in group]) for group in missing),
                columns=_column_list(columns),
                found=found,
            )
        )
    return positions


def _either(labels: list[Any]) -> str:
    """Columns of which any one will do, as in "E-mail or Staff number"."""
    text = str(labels[0])
    for label in labels[1:]:
        text = str(_l("%(first)s or %(second)s", first=text, second=label))
    return text


def _column_list(columns: Sequence[Column]) -> str:
    return ", ".join(str(column.label) for column in columns)


def _clean(value: str) -> str:
    return " ".join(value.split())
