"""The streaming XLSX writer: what a spreadsheet reads back from the files it writes."""

# Spreadsheets keep no time zone: the writer takes naive date-times, and openpyxl reads them.
# ruff: noqa: DTZ001

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import openpyxl
import pytest

from skillsup.services import xlsx


def written(header: list[str], rows: list[list[Any]], **options: Any) -> Any:
    file = io.BytesIO()
    xlsx.write_workbook(
        file, sheet_title=options.pop("sheet_title", "Sheet"), header=header, rows=rows, **options
    )
    return openpyxl.load_workbook(io.BytesIO(file.getvalue())).active


@pytest.mark.parametrize(
    ("index", "letters"),
    [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA")],
)
def test_column_letters(index: int, letters: str) -> None:
    assert xlsx.column_letters(index) == letters


@pytest.mark.parametrize(
    ("value", "serial"),
    [
        (date(1900, 3, 1), 61),
        (date(2025, 1, 1), 45658),
        (datetime(2025, 1, 1, 12, 0), 45658.5),
        (datetime(2025, 1, 1, 6, 0, 0, 500_000), 45658 + (6 * 3600 + 0.5) / 86_400),
    ],
)
def test_excel_serial(value: date, serial: float) -> None:
    assert xlsx.excel_serial(value) == pytest.approx(serial, abs=1e-12)


def test_values_keep_their_types() -> None:
    sheet = written(
        ["Text", "Int", "Float", "Decimal", "Bool", "Date", "Date-time", "Other"],
        [
            [
                "Chan Tai Man",
                42,
                0.1,
                Decimal("85.5"),
                True,
                date(2025, 5, 1),
                datetime(2025, 5, 1, 0, 30, 45),
                UUID(int=1),
            ],
        ],
        date_format="dd/mm/yyyy",
        datetime_format="yyyy-mm-dd hh:mm",
    )
    row = [cell for cell in sheet[2]]
    assert [cell.value for cell in row] == [
        "Chan Tai Man",
        42,
        0.1,
        85.5,
        True,
        datetime(2025, 5, 1),
        datetime(2025, 5, 1, 0, 30, 45),
        "00000000-0000-0000-0000-000000000001",
    ]
    assert row[0].data_type == "s"
    assert row[1].data_type == row[2].data_type == row[3].data_type == "n"
    assert row[4].data_type == "b"
    assert row[5].number_format == "dd/mm/yyyy"
    assert row[6].number_format == "yyyy-mm-dd hh:mm"
    assert row[7].data_type == "s"


def test_text_is_never_a_formula_or_number_and_keeps_its_spaces() -> None:
    values = ["=1+1", "  padded  ", "0042", "+852 2345 6789", "<b>&amp;</b>", "line\none\ttab"]
    sheet = written(["A", "B", "C", "D", "E", "F"], [values])
    assert [cell.value for cell in sheet[2]] == values
    assert all(cell.data_type == "s" for cell in sheet[2])


def test_characters_xml_cannot_hold_are_dropped() -> None:
    sheet = written(["Name"], [["Bell\x07 and\x00 null\x1f"]])
    assert sheet["A2"].value == "Bell and null"


def test_none_is_an_empty_cell_and_later_cells_keep_their_column() -> None:
    sheet = written(["A", "B", "C"], [[None, "middle", None], ["left", None, 3]])
    assert [cell.value for cell in sheet[2]] == [None, "middle", None]
    assert [cell.value for cell in sheet[3]] == ["left", None, 3]


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity")]
)
def test_numbers_without_a_value_are_written_as_text(value: float | Decimal) -> None:
    sheet = written(["Score", "After"], [[value, 7]])
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].value == str(value)
    assert sheet["B2"].value == 7


def test_header_is_bold_and_frozen_with_column_widths() -> None:
    sheet = written(["Name", "E-mail"], [["Chan", "chan@acme.example"]], column_widths=[12, 30])
    assert [cell.value for cell in sheet[1]] == ["Name", "E-mail"]
    assert all(cell.font.b for cell in sheet[1])
    assert not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 12
    assert sheet.column_dimensions["B"].width == 30


def test_sheet_title_is_escaped() -> None:
    sheet = written(["A"], [], sheet_title='R&D "staff" <2025>')
    assert sheet.title == 'R&D "staff" <2025>'
    assert sheet.max_row == 1


def test_rows_wider_than_the_header_get_their_columns() -> None:
    sheet = written(["A"], [["one", "two", "three"]])
    assert [cell.value for cell in sheet[2]] == ["one", "two", "three"]
    assert sheet["C2"].value == "three"


def test_many_rows_come_out_in_order() -> None:
    count = xlsx.ROWS_PER_WRITE * 3 + 17
    sheet = written(["Number", "Label"], ([number, f"row {number}"] for number in range(count)))
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(values) == count
    assert values[0] == (0, "row 0")
    assert values[-1] == (count - 1, f"row {count - 1}")
    assert sheet.max_row == count + 1


class WriteOnly(io.RawIOBase):
    """A stream that can only be written to, like a socket or a pipe."""

    def __init__(self) -> None:
        self.received = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.received += data
        return len(data)


def test_a_stream_that_cannot_seek_gets_a_readable_workbook() -> None:
    stream = WriteOnly()
    xlsx.write_workbook(stream, sheet_title="Staff", header=["Name"], rows=[["Chan"], ["Wong"]])
    data = bytes(stream.received)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["Name", "Chan", "Wong"]
