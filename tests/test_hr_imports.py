"""HR imports from CSV files: reading files, inviting staff, nominating staff into classes.

Service tests call ``skillsup.services.csvfiles`` and ``skillsup.services.imports`` in the
``app`` fixture's application context; view tests go through the client as an HR officer.
Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import html
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import event, func, insert, select, update

from skillsup.extensions import db
from skillsup.links import PortalLinks
from skillsup.models import (
    AuditEntry,
    ClassStatus,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    Role,
    User,
    UserSession,
    utcnow,
)
from skillsup.services import csvfiles, imports, mail, nomination_import, staff_import
from skillsup.services.csvfiles import CsvUnreadable
from skillsup.services.errors import PermissionDenied
from skillsup.services.imports import (
    ImportChanged,
    ImportExpired,
    ImportTampered,
    NominationRow,
    Outcome,
    StaffRow,
)

from .queries import recorded_statements

#: Links for e-mail, as a view passes them to the services.
LINKS = PortalLinks()

DATA = Path(__file__).parent / "data" / "csv"
STAFF_URL = "/hr/staff/import"
NOMINATIONS_URL = "/hr/nominations/import"

# Helpers ---------------------------------------------------------------------------------


def csv_bytes(*lines: str, newline: str = "\n", bom: bool = False) -> bytes:
    text = newline.join(lines) + newline
    return ("\ufeff" + text if bom else text).encode("utf-8")


def read_staff(data: bytes, **kwargs: Any) -> csvfiles.CsvTable:
    return csvfiles.read_csv(data, imports.STAFF_COLUMNS, required=imports.STAFF_REQUIRED, **kwargs)


def read_nominations(data: bytes) -> csvfiles.CsvTable:
    return csvfiles.read_csv(data, imports.NOMINATION_COLUMNS, required=imports.NOMINATION_REQUIRED)


def unreadable(data: bytes, reader: Any = read_staff) -> str:
    with pytest.raises(CsvUnreadable) as caught:
        reader(data)
    assert caught.value.field == "file"
    return str(caught.value.message)


BOUNDARY = "skillsup-test-boundary-7MA4YWxkTrZu0gW"


def upload(client: Any, url: str, content: bytes | str, filename: str = "people.csv") -> Any:
    """Post ``content`` as a browser posts a chosen file.

    The body is built here rather than by the test client, which spools large bodies to a
    temporary file that it never closes (a ResourceWarning, and warnings are errors).
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    body = (
        (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def payload_of(response: Any) -> str:
    match = re.search(r'name="payload" type="hidden" value="([^"]*)"', response.get_data(True))
    assert match, "the page has no confirm form"
    return html.unescape(match.group(1))


def has_confirm(response: Any) -> bool:
    return 'name="payload"' in response.get_data(as_text=True)


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def audit_actions(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def staff(rows: list[tuple[str, ...]]) -> list[StaffRow]:
    return [StaffRow(number, *values) for number, values in enumerate(rows, start=2)]


def nominations(rows: list[tuple[str, str, str]]) -> list[NominationRow]:
    return [NominationRow(number, *values) for number, values in enumerate(rows, start=2)]


def by_number(preview: imports.ImportPreview[Any]) -> dict[int, imports.RowResult]:
    return {result.number: result for result in preview.results}


# Reading CSV files -----------------------------------------------------------------------


def test_reads_headers_in_any_case_with_aliases_and_ignores_extra_columns(app):
    table = read_staff(
        csv_bytes(
            "  Email Address ,FULL NAME,staff_number,Notes,Dept,Job Title",
            "amy.chan@harbour-it.test, Amy   Chan ,E001,likes SQL,IT,Analyst",
        )
    )
    assert table.columns == ("email", "name", "staff_number", "department", "job_title")
    [row] = table.rows
    assert row.number == 2
    assert row.values == {
        "email": "amy.chan@harbour-it.test",
        "name": "Amy Chan",
        "staff_number": "E001",
        "department": "IT",
        "job_title": "Analyst",
    }


def test_reads_utf8_with_a_byte_order_mark(app):
    table = read_staff((DATA / "staff-utf8-bom.csv").read_bytes())
    [row] = table.rows
    assert table.columns[0] == "email"
    assert row.get("name") == "陳大文 Chan Tai Man"
    assert row.get("department") == "基建部"


def test_reads_excel_semicolon_csv_with_crlf_quotes_blank_lines_and_sep_line(app):
    table = read_staff((DATA / "staff-excel-semicolon.csv").read_bytes())
    assert table.delimiter == ";"
    assert [row.number for row in table.rows] == [2, 5]
    first, second = table.rows
    assert first.get("name") == "Wong; Mei Ling"
    assert first.get("department") == 'Service "Desk"'
    assert first.get("job_title") == "Support analyst"
    assert second.get("email") == "lee.ka.ho@harbour-it.test"
    assert second.get("job_title") == ""  # a short row


def test_detects_the_semicolon_from_the_header_line(app):
    table = read_nominations(
        csv_bytes("Staff number;Class code", "E1;SU-A-1", "E2;SU-B-2", newline="\r\n")
    )
    assert [(r.get("staff_number"), r.get("class_code")) for r in table.rows] == [
        ("E1", "SU-A-1"),
        ("E2", "SU-B-2"),
    ]


def test_delimiters_inside_quoted_headings_do_not_count(app):
    table = read_staff(
        csv_bytes('"Notes, if any, here";E-mail;Name', '"x, y, z";a@harbour-it.test;"Chan, Amy"')
    )
    assert table.delimiter == ";"
    assert table.rows[0].values == {"email": "a@harbour-it.test", "name": "Chan, Amy"}


def test_reads_tab_separated_text(app):
    table = read_staff(csv_bytes("Name\tE-mail", "Amy\ta@harbour-it.test"))
    assert table.rows[0].get("email") == "a@harbour-it.test"


def test_blank_lines_are_skipped_but_keep_their_row_numbers(app):
    table = read_staff(
        csv_bytes("", "E-mail,Name", "", "a@harbour-it.test,A", ",", "  ", "b@harbour-it.test,B")
    )
    assert [row.number for row in table.rows] == [4, 7]


def test_a_quoted_value_may_hold_a_line_break(app):
    table = read_staff(csv_bytes("E-mail,Name", 'a@harbour-it.test,"Amy\nChan"', "b@x.test,B"))
    assert [row.get("name") for row in table.rows] == ["Amy Chan", "B"]
    assert [row.number for row in table.rows] == [2, 3]


def test_binary_file_is_refused(app):
    message = unreadable(b"E-mail,Name\n\x00\x01\x02\x03binary")
    assert "not a CSV file" in message
    assert "binary" in message


def test_workbook_is_refused_with_how_to_save_as_csv(app):
    message = unreadable(b"PK\x03\x04\x14\x00\x06\x00" + b"x" * 100)
    assert "workbook" in message
    assert "CSV UTF-8" in message


def test_utf16_file_is_refused(app):
    message = unreadable("E-mail,Name\na@b.test,A\n".encode("utf-16"))
    assert "UTF-16" in message
    assert "CSV UTF-8" in message


@pytest.mark.parametrize("name", ["staff-latin1.csv", "staff-big5.csv"])
def test_files_not_in_utf8_are_refused_with_the_line_and_how_to_fix_it(app, name):
    message = unreadable((DATA / name).read_bytes())
    assert "not UTF-8" in message
    assert "line 2" in message
    assert "save it as CSV UTF-8" in message


@pytest.mark.parametrize("data", [b"", b"   \r\n\n", b"\xef\xbb\xbf", b"\n,,,\n"])
def test_empty_file_is_refused(app, data):
    assert unreadable(data) == "The file is empty."


def test_header_only_file_is_refused(app):
    message = unreadable(csv_bytes("E-mail,Name,Staff number", "", ",,"))
    assert message == "The file has column names on row 1 but no rows under them."


def test_missing_required_columns_are_named(app):
    message = unreadable(csv_bytes("E-mail,Department", "a@harbour-it.test,IT"))
    assert "no column for Name" in message
    assert "“E-mail”, “Department”" in message
    message = unreadable(csv_bytes("Name,Notes", "x,y"), read_nominations)
    assert "no column for E-mail or Staff number; Class code" in message


def test_file_without_a_header_row_is_told_to_add_one(app):
    message = unreadable(csv_bytes("amy@harbour-it.test,Amy Chan", "bob@harbour-it.test,Bob"))
    assert "seems to hold data" in message
    assert "E-mail, Name, Staff number, Department, Job title" in message


def test_two_columns_for_the_same_thing_are_refused(app):
    message = unreadable(csv_bytes("Email,Name,E-mail address", "a@x.test,A,b@x.test"))
    assert "Two columns are for E-mail: “Email” and “E-mail address”" in message


def test_broken_quoting_is_refused_with_the_row(app):
    message = unreadable(csv_bytes("E-mail,Name", "a@x.test,Amy", 'b@x.test,"Bob', "c@x.test,C"))
    assert message.startswith("Row 3 cannot be read")
    assert "quotation marks" in message


def test_file_over_2_mb_is_refused_before_decoding(app):
    # Not UTF-8 either, but the size is checked first.
    data = csv_bytes("E-mail,Name") + b"\xff" * (csvfiles.MAX_FILE_BYTES + 1)
    message = unreadable(data)
    assert message == "The file is larger than 2 MB. Split it into smaller files."


def test_at_most_5000_rows(app):
    lines = ["E-mail,Name"] + [f"p{i}@harbour-it.test,P {i}" for i in range(5000)]
    assert len(read_staff(csv_bytes(*lines)).rows) == 5000
    message = unreadable(csv_bytes(*lines, "last@harbour-it.test,Last"))
    assert "more than 5,000 rows" in message


# Staff import: service -------------------------------------------------------------------

GOOD_STAFF = [
    ("amy.chan@harbour-it.test", "Amy Chan", "E001", "Infrastructure", "Engineer"),
    ("Bob.Lee@Harbour-IT.test", "Bob Lee", "", "", ""),
]


def test_staff_preview_invites_good_rows_and_saves_nothing(hr_officer, outbox):
    users = count(User)
    preview = staff_import.preview_staff_import(hr_officer, staff(GOOD_STAFF))
    db.session.commit()
    assert [r.outcome for r in preview.results] == [Outcome.INVITE, Outcome.INVITE]
    assert preview.can_confirm
    assert count(User) == users
    assert outbox == []


def test_staff_preview_reports_every_problem_with_its_row(hr_officer, make, company):
    make.user(company=company, email="taken@harbour-it.test", staff_number="E900")
    other = make.company(domains=["elsewhere.test"])
    make.user(company=other, staff_number="E777")  # another company's number is free here
    rows = staff(
        [
            ("not-an-address", "A", "", "", ""),  # 2
            ("amy@gmail.test", "Amy", "", "", ""),  # 3
            ("taken@harbour-it.test", "Taken", "", "", ""),  # 4
            ("dup@harbour-it.test", "Dup One", "", "", ""),  # 5
            ("DUP@harbour-it.test", "Dup Two", "", "", ""),  # 6
            ("", "No Mail", "", "", ""),  # 7
            ("noname@harbour-it.test", "", "", "", ""),  # 8
            ("num@harbour-it.test", "Num", "E900", "", ""),  # 9
            ("n1@harbour-it.test", "N1", "E500", "", ""),  # 10
            ("n2@harbour-it.test", "N2", "E500", "", ""),  # 11
            ("long@harbour-it.test", "L" * 201, "S" * 51, "D" * 121, "J" * 121),  # 12
            ("fine@harbour-it.test", "Fine", "E777", "", ""),  # 13
        ]
    )
    preview = staff_import.preview_staff_import(hr_officer, rows)
    results = by_number(preview)
    assert results[2].problems == ["“not-an-address” is not a valid e-mail address."]
    assert results[3].problems == [
        "The address is not at your company's e-mail domain (harbour-it.test)."
    ]
    assert results[4].problems == ["Someone with this e-mail address already has an account."]
    assert results[5].problems == ["The same e-mail address is also on row 6."]
    assert results[6].problems == ["The same e-mail address is also on row 5."]
    assert results[7].problems == ["The e-mail address is missing."]
    assert results[8].problems == ["The name is missing."]
    assert results[9].problems == ["Another employee already has this staff number."]
    assert results[10].problems == ["The same staff number is also on row 11."]
    assert results[11].problems == ["The same staff number is also on row 10."]
    assert results[12].problems == [
        "The name is longer than 200 characters.",
        "The staff number is longer than 50 characters.",
        "The department is longer than 120 characters.",
        "The job title is longer than 120 characters.",
    ]
    assert results[13].outcome == Outcome.INVITE
    assert not preview.can_confirm
    assert preview.count(Outcome.ERROR) == 11


def test_staff_preview_names_several_domains_and_a_company_without_any(hr_officer, make, company):
    make.company(domains=["unrelated.test"])
    company.domains[0].domain = "harbour-it.test"
    from skillsup.models import CompanyDomain

    company.domains.append(CompanyDomain(domain="harbour.example"))
    db.session.commit()
    [result] = staff_import.preview_staff_import(
        hr_officer, staff([("x@unrelated.test", "X", "", "", "")])
    ).results
    assert result.problems == [
        "The address is not at one of your company's e-mail domains "
        "(harbour-it.test, harbour.example)."
    ]
    company.domains.clear()
    db.session.commit()
    [result] = staff_import.preview_staff_import(
        hr_officer, staff([("x@harbour-it.test", "X", "", "", "")])
    ).results
    assert "no e-mail domains on record" in result.problems[0]


def test_staff_preview_runs_a_fixed_number_of_queries(hr_officer):
    def queries(n: int) -> int:
        rows = staff([(f"p{i}@harbour-it.test", f"P {i}", f"E{i}", "", "") for i in range(n)])
        db.session.expire_all()
        with recorded_statements() as statements:
            staff_import.preview_staff_import(hr_officer, rows)
        return len(statements)

    assert queries(3) == queries(40)


def test_import_staff_invites_everyone_as_learners_and_mails_after_commit(
    hr_officer, company, outbox
):
    staff_import.import_staff(hr_officer, staff(GOOD_STAFF), filename="new-staff.csv", links=LINKS)
    assert outbox == []  # not before the commit
    db.session.commit()
    amy = db.session.scalar(select(User).where(User.email == "amy.chan@harbour-it.test"))
    bob = db.session.scalar(select(User).where(User.email == "bob.lee@harbour-it.test"))
    assert (amy.role, amy.company_id, amy.staff_number) == (Role.LEARNER, company.id, "E001")
    assert (amy.department, amy.job_title, amy.invited_by_id) == (
        "Infrastructure",
        "Engineer",
        hr_officer.id,
    )
    assert bob.staff_number is None and bob.department is None
    assert sorted(m.to for m in outbox) == [amy.email, bob.email]
    [entry] = audit_actions("import.staff")
    assert entry.details["file"] == "new-staff.csv"
    assert entry.details["rows"] == 2
    assert len(audit_actions("account.invited")) == 2


def test_import_staff_saves_nothing_when_a_row_now_fails(hr_officer, make, company, outbox):
    rows = staff(GOOD_STAFF)
    preview = staff_import.preview_staff_import(hr_officer, rows)
    make.user(company=company, email="bob.lee@harbour-it.test")  # taken in between
    users = count(User)
    with pytest.raises(ImportChanged) as caught:
        staff_import.import_staff(hr_officer, rows, expected=preview.expected, links=LINKS)
    db.session.rollback()
    assert count(User) == users
    assert audit_actions("import.staff") == []
    fresh = by_number(caught.value.preview)
    assert fresh[2].outcome == Outcome.INVITE and not fresh[2].changed
    assert fresh[3].outcome == Outcome.ERROR
    assert fresh[3].previous == Outcome.INVITE
    assert fresh[3].problems == ["Someone with this e-mail address already has an account."]
    db.session.commit()
    assert outbox == []


def test_import_staff_reports_a_clash_saved_between_the_checks_and_the_insert(
    hr_officer, company, monkeypatch
):
    from skillsup.services import accounts

    real_invite = accounts.invite_user
    calls = []

    def invite_racing(actor, **fields):
        calls.append(fields["email"])
        if len(calls) == 2:
            # What a concurrent request might have saved a moment ago.
            db.session.add(
                User(
                    email="bob.lee@harbour-it.test", name="Bob", role=Role.LEARNER, company=company
                )
            )
        return real_invite(actor, **fields)

    monkeypatch.setattr(accounts, "invite_user", invite_racing)
    with pytest.raises(ImportChanged) as caught:
        staff_import.import_staff(hr_officer, staff(GOOD_STAFF), links=LINKS)
    db.session.rollback()
    assert count(User) == 1  # the HR officer only: nothing of the import was kept
    failed = by_number(caught.value.preview)[3]
    assert failed.outcome == Outcome.ERROR and failed.previous == Outcome.INVITE
    assert failed.problems


@pytest.mark.parametrize("role", ["learner", "trainer", "admin"])
def test_only_hr_officers_import(make, company, role):
    user = make.user(role=role, company=company if role == "learner" else None)
    with pytest.raises(PermissionDenied):
        staff_import.preview_staff_import(user, staff(GOOD_STAFF))
    with pytest.raises(PermissionDenied):
        staff_import.import_staff(user, staff(GOOD_STAFF), links=LINKS)
    with pytest.raises(PermissionDenied):
        nomination_import.preview_nominations(user, nominations([("a@x.test", "", "X")]))
    with pytest.raises(PermissionDenied):
        nomination_import.import_nominations(
            user, nominations([("a@x.test", "", "X")]), expected=[]
        )
    assert count(User) == 1  # no one was invited


# Nominations: service --------------------------------------------------------------------


@pytest.fixture
def people(make, company) -> list[User]:
    return [
        make.user(company=company, email=f"staff{i}@harbour-it.test", staff_number=f"E{i:03d}")
        for i in range(1, 6)
    ]


def nomination_state() -> tuple[int, int, int, int]:
    """What a preview must leave as it was: enrolments, seats, history and audit entries."""
    return (
        count(Enrolment),
        db.session.scalar(select(func.coalesce(func.sum(CourseClass.seats_taken), 0))) or 0,
        count(AuditEntry),
        count(imports_outbox_model()),
    )


def imports_outbox_model() -> Any:
    from skillsup.models.outbox import OutboxMessage

    return OutboxMessage


def test_nomination_preview_confirms_then_waitlists_and_saves_nothing(
    hr_officer, make, people, outbox
):
    course_class = make.course_class(capacity=2, sessions=1)
    before = nomination_state()
    rows = nominations(
        [
            (people[0].email, "", course_class.code),
            ("", people[1].staff_number, course_class.code.lower()),
            (people[2].email.upper(), people[2].staff_number, course_class.code),
            (people[3].email, "", course_class.code),
        ]
    )
    preview = nomination_import.preview_nominations(hr_officer, rows)
    db.session.commit()
    assert [(r.outcome, r.waitlist_position) for r in preview.results] == [
        (Outcome.CONFIRMED, None),
        (Outcome.CONFIRMED, None),
        (Outcome.WAITLISTED, 1),
        (Outcome.WAITLISTED, 2),
    ]
    assert preview.results[1].employee_name == people[1].name
    assert preview.results[1].class_code == course_class.code
    assert preview.results[1].course_title == course_class.course.title_en
    assert nomination_state() == before
    assert outbox == []


def test_nomination_preview_queues_no_mail_and_the_import_queues_each_unrendered(
    hr_officer, make, people, monkeypatch
):
    rendered: list[str] = []
    render = mail.render_message
    monkeypatch.setattr(
        mail, "render_message", lambda to, *a, **k: rendered.append(to) or render(to, *a, **k)
    )
    course_class = make.course_class(capacity=1, sessions=1)
    rows = nominations([(p.email, "", course_class.code) for p in people[:2]])
    preview = nomination_import.preview_nominations(hr_officer, rows)
    assert mail.queued(db.session()) == []
    assert not mail.in_dry_run(db.session())
    nomination_import.import_nominations(hr_officer, rows, expected=preview.expected)
    # Each learner's message is queued, to be written when it is delivered.
    assert rendered == []
    assert [m.to for m in mail.queued(db.session())] == [people[0].email, people[1].email]


def test_nomination_preview_counts_the_quota_used_by_rows_above(hr_officer, make, company, people):
    course_class = make.course_class(capacity=10, sessions=1)
    make.quota(company, 2, course_class.starts_on, course_class.starts_on, label="Spring term")
    rows = nominations([(p.email, "", course_class.code) for p in people[:3]])
    results = nomination_import.preview_nominations(hr_officer, rows).results
    assert [r.outcome for r in results] == [Outcome.CONFIRMED, Outcome.CONFIRMED, Outcome.ERROR]
    assert results[2].problems == [
        "Your company has used all 2 seats of its quota for Spring term (0 left)."
    ]


def test_nomination_preview_explains_every_refusal(hr_officer, make, company, people):
    other_company = make.company(domains=["rival.test"])
    outsider = make.user(
        company=other_company, email="spy@rival.test", staff_number="R-1", name="Rita Rival"
    )
    inactive = make.user(company=company, email="gone@harbour-it.test", is_active=False)
    prerequisite = make.course(code="SU-PRE-001")
    advanced = make.course(code="SU-ADV-002")
    advanced.prerequisites.append(prerequisite)
    db.session.commit()
    open_class = make.course_class(sessions=1)
    closed = make.course_class(sessions=1, status=ClassStatus.CLOSED)
    past_window = make.course_class(sessions=1, enrolment_closes_at=utcnow() - timedelta(days=1))
    needs_prerequisite = make.course_class(course=advanced, sessions=1)
    clashing = make.course_class(sessions=1)  # same time as open_class
    make.enrolment(open_class, people[1])
    make.enrolment(clashing, people[2])
    rows = nominations(
        [
            ("spy@rival.test", "", open_class.code),  # 2
            ("nobody@harbour-it.test", "", open_class.code),  # 3
            ("", "R-1", open_class.code),  # 4
            (inactive.email, "", open_class.code),  # 5
            (hr_officer.email, "", open_class.code),  # 6
            (people[0].email, "", "NO-SUCH-CLASS"),  # 7
            (people[0].email, "", closed.code),  # 8
            (people[0].email, "", past_window.code),  # 9
            (people[1].email, "", open_class.code),  # 10
            (people[2].email, "", open_class.code),  # 11
            (people[3].email, "", needs_prerequisite.code),  # 12
            ("", "", open_class.code),  # 13
            (people[4].email, "", ""),  # 14
            (people[0].email, people[4].staff_number, open_class.code),  # 15
            ("not an address", "", open_class.code),  # 16
        ]
    )
    results = by_number(nomination_import.preview_nominations(hr_officer, rows))
    not_ours = ["Not one of your staff: no employee of yours has this e-mail address."]
    assert results[2].problems == not_ours
    assert results[3].problems == not_ours  # the same answer: nothing about other companies
    assert results[4].problems == [
        "Not one of your staff: no employee of yours has this staff number."
    ]
    assert results[2].employee_name is None and results[4].employee_name is None
    assert results[5].problems == ["This employee's account is deactivated."]
    assert results[6].problems == ["Only learners can be nominated, and this account is not one."]
    assert results[7].problems == ["There is no class with the code “NO-SUCH-CLASS”."]
    assert results[8].problems == ["This class is not open for enrolment."]
    assert results[9].problems == ["Enrolment for this class has closed."]
    assert results[10].problems == ["This employee already has a place or a request in this class."]
    assert results[11].problems == [
        f"The class's sessions clash with this employee's class {clashing.code}."
    ]
    assert results[12].problems == [
        "This employee has not completed the courses this one requires: SU-PRE-001."
    ]
    assert results[13].problems == ["Give the employee's e-mail address or staff number."]
    assert results[14].problems == ["The class code is missing."]
    assert results[15].problems == [
        "The e-mail address and the staff number are of two different employees."
    ]
    assert results[16].problems == ["“not an address” is not a valid e-mail address."]
    assert all(r.is_error for r in results.values())
    assert db.session.get(User, outsider.id).name == "Rita Rival"


def test_nomination_rows_find_no_draft_class_as_the_nomination_form_finds_none(
    hr_officer, make, people
):
    draft = make.course_class(sessions=1, status=ClassStatus.DRAFT)
    of_draft_course = make.course_class(
        course=make.course(status=CourseStatus.DRAFT), sessions=1, status=ClassStatus.OPEN
    )
    rows = nominations(
        [(people[0].email, "", draft.code), (people[0].email, "", of_draft_course.code)]
    )
    results = by_number(nomination_import.preview_nominations(hr_officer, rows))
    assert results[2].problems == [f"There is no class with the code “{draft.code}”."]
    assert results[3].problems == [f"There is no class with the code “{of_draft_course.code}”."]


def test_nomination_preview_counts_clashes_with_rows_above(hr_officer, make, people):
    first = make.course_class(sessions=1)
    same_time = make.course_class(sessions=1)
    rows = nominations([(people[0].email, "", first.code), (people[0].email, "", same_time.code)])
    results = nomination_import.preview_nominations(hr_officer, rows).results
    assert results[0].outcome == Outcome.CONFIRMED
    assert results[1].problems == [
        f"The class's sessions clash with this employee's class {first.code}."
    ]


def test_nomination_duplicates_are_errors_on_every_row(hr_officer, make, people):
    course_class = make.course_class(sessions=1)
    rows = nominations(
        [
            (people[0].email, "", course_class.code),
            ("", people[0].staff_number, course_class.code),  # the same person by number
            (people[1].email, "", course_class.code),
            (people[0].email, "", course_class.code),
        ]
    )
    results = by_number(nomination_import.preview_nominations(hr_officer, rows))
    assert results[2].problems == ["The same employee and class are also on rows 3, 5."]
    assert results[3].problems == ["The same employee and class are also on rows 2, 5."]
    assert results[4].outcome == Outcome.CONFIRMED
    assert results[5].problems == ["The same employee and class are also on rows 2, 3."]


def test_nomination_preview_looks_rows_up_in_a_fixed_number_of_queries(hr_officer, make, company):
    """Only the enrolment service queries per row; the look-ups are a few for the file."""
    course_class = make.course_class(sessions=1)

    def queries(n: int) -> int:
        rows = nominations([(f"ghost{i}@harbour-it.test", "", course_class.code) for i in range(n)])
        db.session.expire_all()
        with recorded_statements() as statements:
            nomination_import.preview_nominations(hr_officer, rows)
        db.session.rollback()
        return len(statements)

    assert queries(2) == queries(30)


def test_import_nominations_enrols_every_row_in_one_go(hr_officer, make, people, outbox):
    course_class = make.course_class(capacity=1, sessions=1)
    rows = nominations([(people[0].email, "", course_class.code), (people[1].email, "", "")])
    rows[1] = NominationRow(3, people[1].email, "", course_class.code)
    preview = nomination_import.preview_nominations(hr_officer, rows)
    done = nomination_import.import_nominations(
        hr_officer, rows, expected=preview.expected, filename="q3.csv"
    )
    db.session.commit()
    enrolments = list(db.session.scalars(select(Enrolment).order_by(Enrolment.id)))
    assert [(e.learner_id, e.status, e.source) for e in enrolments] == [
        (people[0].id, EnrolmentStatus.CONFIRMED, EnrolmentSource.CSV),
        (people[1].id, EnrolmentStatus.WAITLISTED, EnrolmentSource.CSV),
    ]
    assert all(e.requested_by_id == hr_officer.id for e in enrolments)
    assert db.session.get(CourseClass, course_class.id).seats_taken == 1
    assert done.count(Outcome.CONFIRMED) == 1 and done.count(Outcome.WAITLISTED) == 1
    assert sorted(m.to for m in outbox) == [people[0].email, people[1].email]
    [entry] = audit_actions("import.nominations")
    assert entry.details == {"file": "q3.csv", "rows": 2, "confirmed": 1, "waitlisted": 1}


def test_import_nominations_saves_nothing_when_the_class_filled_up(
    hr_officer, make, company, people, outbox
):
    course_class = make.course_class(capacity=2, sessions=1)
    rows = nominations([(p.email, "", course_class.code) for p in people[:2]])
    preview = nomination_import.preview_nominations(hr_officer, rows)
    assert preview.expected == [Outcome.CONFIRMED, Outcome.CONFIRMED]
    make.enrolment(course_class, make.user(company=company))  # someone takes a seat
    before = nomination_state()
    with pytest.raises(ImportChanged) as caught:
        nomination_import.import_nominations(hr_officer, rows, expected=preview.expected)
    db.session.rollback()
    assert nomination_state() == before
    fresh = caught.value.preview
    assert [(r.outcome, r.previous) for r in fresh.results] == [
        (Outcome.CONFIRMED, None),
        (Outcome.WAITLISTED, Outcome.CONFIRMED),
    ]
    assert fresh.can_confirm  # a waitlist place is no error: the HR officer may accept it
    assert outbox == []


def test_import_nominations_saves_nothing_when_the_class_was_closed(hr_officer, make, people):
    course_class = make.course_class(sessions=1)
    rows = nominations([(people[0].email, "", course_class.code)])
    preview = nomination_import.preview_nominations(hr_officer, rows)
    course_class.status = ClassStatus.CLOSED
    db.session.commit()
    with pytest.raises(ImportChanged) as caught:
        nomination_import.import_nominations(hr_officer, rows, expected=preview.expected)
    db.session.rollback()
    assert count(Enrolment) == 0
    [result] = caught.value.preview.results
    assert result.previous == Outcome.CONFIRMED
    assert result.problems == ["This class is not open for enrolment."]
    assert not caught.value.preview.can_confirm


def test_a_different_waitlist_place_is_not_a_change(hr_officer, make, company, people):
    course_class = make.course_class(capacity=0, sessions=1)
    rows = nominations([(people[0].email, "", course_class.code)])
    preview = nomination_import.preview_nominations(hr_officer, rows)
    assert preview.results[0].waitlist_position == 1
    make.enrolment(course_class, make.user(company=company), EnrolmentStatus.WAITLISTED)
    done = nomination_import.import_nominations(hr_officer, rows, expected=preview.expected)
    db.session.commit()
    assert done.results[0].waitlist_position == 2
    assert count(Enrolment) == 2


def test_imports_refuse_outcomes_that_do_not_match_the_rows(hr_officer, people):
    rows = nominations([(people[0].email, "", "X")])
    with pytest.raises(ImportTampered):
        nomination_import.import_nominations(hr_officer, rows, expected=[])
    with pytest.raises(ImportTampered):
        staff_import.import_staff(
            hr_officer, staff(GOOD_STAFF), expected=[Outcome.INVITE], links=LINKS
        )
    assert count(User) == 1 + len(people)


# Signing the rows ------------------------------------------------------------------------


def _signed_preview(hr_officer, people, make) -> tuple[str, imports.ImportPreview[Any]]:
    course_class = make.course_class(sessions=1)
    preview = nomination_import.preview_nominations(
        hr_officer, nominations([(people[0].email, "", course_class.code)])
    )
    return imports.sign(hr_officer, preview, filename="n.csv"), preview


def test_signed_rows_come_back_unchanged(hr_officer, make, people):
    token, preview = _signed_preview(hr_officer, people, make)
    signed = imports.unsign(hr_officer, imports.NOMINATIONS, token)
    assert signed.rows == preview.rows
    assert signed.expected == [Outcome.CONFIRMED]
    assert signed.filename == "n.csv"


def test_altered_or_misdirected_tokens_are_refused(hr_officer, make, company, people):
    token, _preview = _signed_preview(hr_officer, people, make)
    colleague = make.user(role="hr", company=company)
    for bad in [token[:-3] + "AAA", token.replace(".", "", 1), "garbage", ""]:
        with pytest.raises(ImportTampered):
            imports.unsign(hr_officer, imports.NOMINATIONS, bad)
    with pytest.raises(ImportTampered):
        imports.unsign(hr_officer, imports.STAFF, token)
    with pytest.raises(ImportTampered):
        imports.unsign(colleague, imports.NOMINATIONS, token)


def test_a_token_signed_with_the_right_key_but_a_wrong_shape_is_refused(hr_officer, app):
    serializer = imports._serializer()
    base = {"v": 1, "k": "staff", "u": hr_officer.id, "c": hr_officer.company_id, "f": ""}
    for rows, expected in [
        ([[2, "a@b.test"]], ["invite"]),  # too few values
        ([["2", "a", "b", "", "", ""]], ["invite"]),  # a row number that is not a number
        ([[2, "a", "b", "", "", ""]], ["bogus"]),  # an unknown outcome
        ([[2, "a", "b", "", "", ""]], []),  # outcomes that do not match the rows
        ([], []),
    ]:
        token = serializer.dumps({**base, "r": rows, "e": expected})
        with pytest.raises(ImportTampered):
            imports.unsign(hr_officer, imports.STAFF, token)


def test_old_tokens_expire(hr_officer, make, people):
    token, _preview = _signed_preview(hr_officer, people, make)
    later = utcnow() + timedelta(seconds=imports.PREVIEW_MAX_AGE + 60)
    with time_machine.travel(later), pytest.raises(ImportExpired):
        imports.unsign(hr_officer, imports.NOMINATIONS, token)


# Pages: staff ----------------------------------------------------------------------------


def test_staff_upload_page_explains_the_file(client, login_as, hr_officer):
    login_as(hr_officer)
    body = text(client.get(STAFF_URL))
    assert 'enctype="multipart/form-data"' in body
    assert "at harbour-it.test" in body
    assert 'href="/hr/staff/import/sample.csv"' in body
    assert '<label for="file">CSV file</label>' in body


@pytest.mark.parametrize("url", [STAFF_URL, "/hr/nominations/import"])
def test_upload_pages_state_the_limits_the_import_applies(
    client, login_as, hr_officer, monkeypatch, url
):
    login_as(hr_officer)
    assert "At most 2 MB and 5,000 rows per file." in text(client.get(url))
    monkeypatch.setattr(csvfiles, "MAX_FILE_BYTES", 3 * 1024 * 1024)
    monkeypatch.setattr(csvfiles, "MAX_DATA_ROWS", 800)
    assert "At most 3 MB and 800 rows per file." in text(client.get(url))


@pytest.mark.parametrize(
    ("url", "header"),
    [
        ("/hr/staff/import/sample.csv", "E-mail,Name,Staff number,Department,Job title"),
        ("/hr/nominations/import/sample.csv", "E-mail,Staff number,Class code"),
    ],
)
def test_sample_files_download(app, client, login_as, hr_officer, url, header):
    login_as(hr_officer)
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == header
    assert len(lines) == 3
    assert all("@example.test" in line for line in lines[1:] if "@" in line)
    # The samples are what the import reads.
    table = csvfiles.read_csv(
        response.get_data(),
        imports.STAFF_COLUMNS if "staff" in url else imports.NOMINATION_COLUMNS,
        required=imports.STAFF_REQUIRED if "staff" in url else imports.NOMINATION_REQUIRED,
    )
    assert len(table.rows) == 2


def test_staff_upload_preview_and_confirm(client, login_as, hr_officer, company, outbox):
    login_as(hr_officer)
    users = count(User)
    response = upload(client, STAFF_URL, (DATA / "staff-utf8-bom.csv").read_bytes(), "新.csv")
    body = text(response)
    assert response.status_code == 200
    assert "File: 新.csv" in body
    assert "陳大文 Chan Tai Man" in body
    assert "Will be invited" in body
    assert "Invite 1 person" in body
    assert count(User) == users  # the preview saved nothing
    response = client.post(f"{STAFF_URL}/confirm", data={"payload": payload_of(response)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(STAFF_URL)
    assert "1 invitation is on its way." in text(client.get(STAFF_URL))
    new = db.session.scalar(select(User).where(User.email == "chan.tai.man@harbour-it.test"))
    assert (new.name, new.company_id, new.role) == ("陳大文 Chan Tai Man", company.id, Role.LEARNER)
    assert [m.to for m in outbox] == [new.email]


def test_staff_preview_with_errors_has_no_confirm_button(client, login_as, hr_officer):
    login_as(hr_officer)
    response = upload(
        client,
        STAFF_URL,
        csv_bytes(
            "E-mail;Name;Notes",
            "ok@harbour-it.test;OK;x",
            "bad@elsewhere.test;Bad;y",
            newline="\r\n",
        ),
    )
    body = text(response)
    assert response.status_code == 200
    assert not has_confirm(response)
    assert "1 row cannot be imported." in body
    assert "Rows to correct" in body
    row = r'<th scope="row" class="numeric"[^>]*>3</th>\s*<td[^>]*>bad@elsewhere.test'
    assert re.search(row, body)
    assert "not at your company's e-mail domain" in body
    assert "Upload a corrected file" in body


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("staff.xlsx", b"E-mail,Name\n", "its name must end in .csv or .txt"),
        ("staff", b"E-mail,Name\n", "its name must end in .csv or .txt"),
        ("staff.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "it contains binary data"),
        ("staff.csv", "E-mail,Name\nx@y.test,Zoë\n".encode("latin-1"), "save it as CSV UTF-8"),
        ("staff.txt", b"", "The file is empty."),
        ("staff.csv", b"E-mail,Name\n", "no rows under them"),
        ("staff.csv", b"Address,Who\nx,y\n", "no column for E-mail; Name"),
        ("staff.csv", b"a" * (csvfiles.MAX_FILE_BYTES + 1), "larger than 2 MB"),
    ],
)
def test_bad_uploads_get_a_clear_message_on_the_form(
    client, login_as, hr_officer, filename, content, message
):
    login_as(hr_officer)
    users, audit = count(User), count(AuditEntry)
    response = upload(client, STAFF_URL, content, filename)
    body = text(response)
    assert response.status_code == 200
    assert message in body
    assert 'aria-invalid="true"' in body
    assert not has_confirm(response)
    assert (count(User), count(AuditEntry)) == (users, audit)


def test_uploading_without_a_file_asks_for_one(client, login_as, hr_officer):
    login_as(hr_officer)
    response = client.post(STAFF_URL, data={}, content_type="multipart/form-data")
    assert "Choose a CSV file to upload." in text(response)


def test_5001_rows_are_refused(client, login_as, hr_officer):
    login_as(hr_officer)
    lines = ["E-mail,Name"] + [f"p{i}@harbour-it.test,P" for i in range(5001)]
    response = upload(client, STAFF_URL, csv_bytes(*lines))
    assert "more than 5,000 rows" in text(response)
    assert not has_confirm(response)


def test_staff_confirm_after_an_address_was_taken_saves_nothing_and_explains(
    client, login_as, make, hr_officer, company, outbox
):
    login_as(hr_officer)
    response = upload(
        client,
        STAFF_URL,
        csv_bytes("E-mail,Name", "amy@harbour-it.test,Amy", "bob@harbour-it.test,Bob"),
    )
    payload = payload_of(response)
    make.user(company=company, email="bob@harbour-it.test")
    users = count(User)
    response = client.post(f"{STAFF_URL}/confirm", data={"payload": payload})
    body = text(response)
    assert response.status_code == 200
    assert "Nothing was saved" in body
    assert "Changed since your preview, which showed: will be invited." in body
    assert "already has an account" in body
    assert not has_confirm(response)
    assert count(User) == users
    assert outbox == []


@pytest.mark.parametrize("url", [f"{STAFF_URL}/confirm", f"{NOMINATIONS_URL}/confirm"])
def test_tampered_or_missing_rows_get_400_with_a_reason(client, login_as, hr_officer, url):
    login_as(hr_officer)
    users, audit = count(User), count(AuditEntry)
    response = client.post(url, data={"payload": "eyJ2IjoxfQ.forged.signature"})
    assert response.status_code == 400
    assert "altered or damaged" in text(response)
    response = client.post(url, data={})
    assert response.status_code == 400
    assert "without the rows to import" in text(response)
    assert (count(User), count(AuditEntry)) == (users, audit)


def test_a_staff_token_cannot_confirm_nominations(client, login_as, hr_officer):
    login_as(hr_officer)
    response = upload(client, STAFF_URL, csv_bytes("E-mail,Name", "amy@harbour-it.test,Amy"))
    response = client.post(f"{NOMINATIONS_URL}/confirm", data={"payload": payload_of(response)})
    assert response.status_code == 400
    assert "another import or another account" in text(response)


def test_another_hr_officer_cannot_use_a_preview_made_for_someone_else(
    client, login_as, make, hr_officer, people
):
    course_class = make.course_class(sessions=1)
    login_as(hr_officer)
    response = upload(
        client, NOMINATIONS_URL, csv_bytes("Email,Class", f"{people[0].email},{course_class.code}")
    )
    payload = payload_of(response)
    client.post("/logout")
    rival = make.user(role="hr", company=make.company(domains=["rival.test"]))
    login_as(rival)
    response = client.post(f"{NOMINATIONS_URL}/confirm", data={"payload": payload})
    assert response.status_code == 400
    assert count(Enrolment) == 0


def test_an_expired_preview_sends_back_to_the_upload_page(client, login_as, hr_officer):
    login_as(hr_officer)
    response = upload(client, STAFF_URL, csv_bytes("E-mail,Name", "amy@harbour-it.test,Amy"))
    payload = payload_of(response)
    later = utcnow() + timedelta(seconds=imports.PREVIEW_MAX_AGE + 60)
    with time_machine.travel(later):
        login_as(hr_officer)
        response = client.post(f"{STAFF_URL}/confirm", data={"payload": payload})
        assert response.status_code == 302
        assert "too old to be confirmed" in text(client.get(STAFF_URL))
    assert db.session.scalar(select(User).where(User.email == "amy@harbour-it.test")) is None


# Pages: nominations ----------------------------------------------------------------------


def test_nominations_upload_preview_and_confirm(client, login_as, make, hr_officer, people, outbox):
    course_class = make.course_class(capacity=1, sessions=1)
    login_as(hr_officer)
    assert "Class code" in text(client.get(NOMINATIONS_URL))
    response = upload(
        client,
        NOMINATIONS_URL,
        csv_bytes(
            "Staff no,Class code,Comment",
            f"{people[0].staff_number},{course_class.code},first",
            f"{people[1].staff_number},{course_class.code},second",
        ),
    )
    body = text(response)
    assert "Will be confirmed" in body
    assert "Will be waitlisted" in body and "1st in line" in body
    assert people[0].name in body
    assert "Nominate 2 employees" in body
    assert count(Enrolment) == 0
    assert db.session.get(CourseClass, course_class.id).seats_taken == 0
    assert outbox == []
    response = client.post(f"{NOMINATIONS_URL}/confirm", data={"payload": payload_of(response)})
    assert response.status_code == 302
    assert "2 employees nominated: 1 confirmed, 1 on the waitlist." in text(
        client.get(NOMINATIONS_URL)
    )
    assert count(Enrolment) == 2
    assert sorted(m.to for m in outbox) == sorted([people[0].email, people[1].email])


def test_nomination_preview_reveals_nothing_about_another_companys_staff(
    client, login_as, make, hr_officer
):
    rival = make.company(name="Rival Systems", domains=["rival.test"])
    outsider = make.user(
        company=rival,
        email="rita.rival@rival.test",
        name="Rita Rival",
        staff_number="RIV-42",
        department="Secret Projects",
    )
    course_class = make.course_class(sessions=1)
    make.enrolment(course_class, outsider)
    login_as(hr_officer)
    response = upload(
        client,
        NOMINATIONS_URL,
        csv_bytes(
            "E-mail,Class code",
            f"{outsider.email},{course_class.code}",
            f"nobody@rival.test,{course_class.code}",
        ),
    )
    body = text(response)
    rows = re.findall(r'<tr class="row-error">(.*?)</tr>', body, re.S)
    assert len(rows) == 4  # the two rows, in the table of problems and in the full table
    outcomes = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[-1] for row in rows]
    # The same words for someone who exists elsewhere and for no one at all.
    assert outcomes[0] == outcomes[1] == outcomes[2] == outcomes[3]
    assert "Not one of your staff" in body
    for secret in ("Rita Rival", "RIV-42", "Secret Projects", "Rival Systems", "already"):
        assert secret not in body
    assert count(Enrolment) == 1


def test_nominations_confirm_after_the_class_filled_up(
    client, login_as, make, company, hr_officer, people, outbox
):
    course_class = make.course_class(capacity=2, sessions=1)
    login_as(hr_officer)
    response = upload(
        client,
        NOMINATIONS_URL,
        csv_bytes("E-mail,Class code", *[f"{p.email},{course_class.code}" for p in people[:2]]),
    )
    assert text(response).count("Will be confirmed") == 2
    make.enrolment(course_class, make.user(company=company))
    response = client.post(f"{NOMINATIONS_URL}/confirm", data={"payload": payload_of(response)})
    body = text(response)
    assert response.status_code == 200
    assert "Nothing was saved" in body
    assert "1 changed since your preview" in body
    assert "Changed since your preview, which showed: will be confirmed." in body
    assert count(Enrolment) == 1
    assert db.session.get(CourseClass, course_class.id).seats_taken == 1
    assert outbox == []
    # The fresh preview can be confirmed as it now stands.
    response = client.post(f"{NOMINATIONS_URL}/confirm", data={"payload": payload_of(response)})
    assert response.status_code == 302
    statuses = sorted(
        e.status.value
        for e in db.session.scalars(select(Enrolment).where(Enrolment.source == "csv"))
    )
    assert statuses == ["confirmed", "waitlisted"]


def test_nominations_confirm_after_the_class_was_closed(client, login_as, make, hr_officer, people):
    course_class = make.course_class(sessions=1)
    login_as(hr_officer)
    response = upload(
        client,
        NOMINATIONS_URL,
        csv_bytes("E-mail,Class code", f"{people[0].email},{course_class.code}"),
    )
    payload = payload_of(response)
    course_class.status = ClassStatus.CLOSED
    db.session.commit()
    response = client.post(f"{NOMINATIONS_URL}/confirm", data={"payload": payload})
    body = text(response)
    assert "Nothing was saved" in body
    assert "This class is not open for enrolment." in body
    assert not has_confirm(response)
    assert count(Enrolment) == 0


def test_nominations_preview_with_errors_lists_them_by_row(
    client, login_as, make, hr_officer, people
):
    course_class = make.course_class(sessions=1)
    login_as(hr_officer)
    response = upload(
        client,
        NOMINATIONS_URL,
        csv_bytes(
            "E-mail,Class code",
            f"{people[0].email},{course_class.code}",
            "",
            f"{people[1].email},NOPE-1",
        ),
    )
    body = text(response)
    assert not has_confirm(response)
    row = r'<th scope="row" class="numeric"[^>]*>4</th>\s*<td[^>]*>' + people[1].name
    assert re.search(row, body)
    assert "There is no class with the code “NOPE-1”." in body


# Permissions -----------------------------------------------------------------------------

ROUTES = [
    ("GET", STAFF_URL),
    ("POST", STAFF_URL),
    ("POST", f"{STAFF_URL}/confirm"),
    ("GET", f"{STAFF_URL}/sample.csv"),
    ("GET", NOMINATIONS_URL),
    ("POST", NOMINATIONS_URL),
    ("POST", f"{NOMINATIONS_URL}/confirm"),
    ("GET", f"{NOMINATIONS_URL}/sample.csv"),
]


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_anonymous_visitors_are_sent_to_log_in(client, method, url):
    response = client.open(url, method=method)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["learner", "trainer", "admin"])
@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_other_roles_are_refused(client, make, company, login_as, role, method, url):
    login_as(make.user(role=role, company=company if role == "learner" else None))
    assert client.open(url, method=method).status_code == 403


# With CSRF protection on, as in production ------------------------------------------------


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def _csrf_token(response: Any) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', response.get_data(True))
    assert match
    return match.group(1)


def test_with_csrf_on_a_rows_field_over_1_mb_still_reaches_the_view(
    app, csrf_on, client, hr_officer
):
    """The rows come back in a form field over 1 MB; the form-memory limit must not bite."""
    page = client.get("/login")
    client.post(
        "/login",
        data={
            "email": hr_officer.email,
            "password": "correct horse battery staple",
            "csrf_token": _csrf_token(page),
        },
    )
    token = _csrf_token(client.get(STAFF_URL))
    response = client.post(
        f"{STAFF_URL}/confirm", data={"payload": "x" * (1024 * 1024 + 10), "csrf_token": token}
    )
    assert response.status_code == 400
    assert "altered or damaged" in text(response)
    response = client.post(f"{STAFF_URL}/confirm", data={"payload": "x"})
    assert response.status_code == 400
    assert "The form has expired" in text(response)


# A long file -----------------------------------------------------------------------------


@pytest.mark.slow
# As in production: the outbox is delivered by `flask send-mail`, not by the request, so the
# only commit of the confirmation is the import's own.
@pytest.mark.parametrize("app_config", [{"MAIL_DELIVER_IN_REQUEST": False}])
def test_5000_nominations_preview_and_import_in_one_transaction(
    client, login_as, make, hr_officer, company
):
    classes = [make.course_class(capacity=1000, sessions=1) for _ in range(5)]
    now = utcnow()
    db.session.execute(
        insert(User),
        [
            {
                "email": f"p{i:04d}@harbour-it.test",
                "name": f"Person {i:04d}",
                "role": Role.LEARNER,
                "company_id": company.id,
                "staff_number": f"N{i:05d}",
                "email_confirmed_at": now,
                "created_at": now,
            }
            for i in range(5000)
        ],
    )
    db.session.commit()
    lines = ["E-mail,Class code"] + [
        f"p{i:04d}@harbour-it.test,{classes[i % 5].code}" for i in range(5000)
    ]
    login_as(hr_officer)
    started = time.perf_counter()
    response = upload(client, NOMINATIONS_URL, csv_bytes(*lines))
    previewed = time.perf_counter()
    assert "5000 will be confirmed" in text(response)
    assert count(Enrolment) == 0

    # The session was seen just now, so that the request notes no activity of its own (a slow
    # preview would otherwise be a minute old), and the test's own session has nothing left
    # to commit: the one commit counted below is the import's.
    db.session.execute(update(UserSession).values(last_seen_at=utcnow()))
    db.session.commit()
    commits: list[Any] = []

    def record_commit(connection: Any) -> None:
        commits.append(connection)

    event.listen(db.engine, "commit", record_commit)
    try:
        response = client.post(f"{NOMINATIONS_URL}/confirm", data={"payload": payload_of(response)})
    finally:
        event.remove(db.engine, "commit", record_commit)
    finished = time.perf_counter()
    print(  # noqa: T201 (the measurement is worth seeing with -s)
        f"\n5,000 nominations on {db.engine.dialect.name}: preview {previewed - started:.1f} s,"
        f" import {finished - previewed:.1f} s"
    )
    assert response.status_code == 302
    assert len(commits) == 1
    assert count(Enrolment) == 5000
    assert {c.seats_taken for c in db.session.scalars(select(CourseClass))} == {1000}
