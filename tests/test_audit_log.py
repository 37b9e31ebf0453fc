"""The audit log's search: the admins' whole log and the HR officers' part of it.

Service tests call ``skillsup.services.audit_log`` inside a request context; view tests go
through the client. Every scene has two companies with the same kinds of entries, so that
each test also checks that nothing of the other company reaches an HR officer: not in the
list, not through the object filter, not in the CSV file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import Attendance, AttendanceStatus, AuditEntry, Certificate, Enrolment
from skillsup.services import audit, audit_log
from skillsup.services.audit_log import AuditFilters
from skillsup.services.errors import PermissionDenied, ValidationFailed

from .factories import hk_datetime
from .queries import page_queries

EVIL = '=HYPERLINK("http://evil.example","Click")'


@pytest.fixture(autouse=True)
def in_request(app: Any) -> Iterator[None]:
    with app.test_request_context("/"):
        yield


@dataclass
class Scene:
    admin: Any
    hr_a: Any
    hr_b: Any
    amy: Any
    bob: Any
    course: Any
    course_class: Any
    company_a: Any
    company_b: Any
    #: The entries HR officer A may read, and those only admins (or B) may read.
    a_entries: set[int]
    other_entries: set[int]
    by_name: dict[str, AuditEntry]


def _at(entry: AuditEntry, when: Any) -> AuditEntry:
    entry.occurred_at = when
    return entry


@pytest.fixture
def scene(make: Any) -> Scene:
    """Company A (Harbour IT) and company B (Kowloon Data), each with a learner enrolled in the
    same class, an attendance mark, a certificate, a quota, an import and a nomination; and
    entries of the institute's own (a course, the company's name)."""
    company_a = make.company(name="Harbour IT", code="HBIT", domains=["harbour-it.test"])
    company_b = make.company(name="Kowloon Data", code="KLDT", domains=["kowloon-data.test"])
    admin = make.user(role="admin", email="admin@skillsup.test", name="Ada Admin")
    hr_a = make.user(role="hr", company=company_a, email="hr@harbour-it.test", name="Helen Ho")
    hr_b = make.user(role="hr", company=company_b, email="hr@kowloon-data.test", name="Kit Kwok")
    amy = make.user(company=company_a, email="amy@harbour-it.test", name="Amy Chan")
    bob = make.user(company=company_b, email="bob@kowloon-data.test", name="Bob Lee")
    course = make.course(code="SU-AUD-101")
    course_class = make.course_class(course=course, code="SU-AUD-101-01", sessions=1)
    session = course_class.sessions[0]
    enrolments = {p.id: make.enrolment(course_class, p) for p in (amy, bob)}
    marks, certificates, quotas = {}, {}, {}
    for person, company in ((amy, company_a), (bob, company_b)):
        enrolment = enrolments[person.id]
        marks[person.id] = Attendance(
            enrolment=enrolment, session=session, status=AttendanceStatus.PRESENT
        )
        certificates[person.id] = Certificate(
            enrolment=enrolment,
            serial_number=f"SU-{person.id}",
            verification_code=f"code-{person.id}",
        )
        db.session.add_all([marks[person.id], certificates[person.id]])
        quotas[company.id] = make.quota(company, 10, date(2026, 1, 1), date(2026, 12, 31))
    db.session.flush()

    day = hk_datetime(2026, 3, 2, 10)
    by_name: dict[str, AuditEntry] = {}

    def add(name: str, actor: Any, action: str, obj: Any = None, **kwargs: Any) -> None:
        # The note names the entry on the pages: it shows as a detail ("Note: a enrolled").
        entry = audit.record(actor, action, obj, name, {"note": name}, **kwargs)
        by_name[name] = _at(entry, day + timedelta(minutes=len(by_name)))

    for person, hr, company in ((amy, hr_a, company_a), (bob, hr_b, company_b)):
        key = "a" if person is amy else "b"
        add(f"{key} login", person, "auth.login", person)
        add(f"{key} invited", hr, "account.invited", person)
        add(f"{key} enrolled", person, "enrolment.created", enrolments[person.id])
        add(f"{key} marked", admin, "attendance.marked", marks[person.id])
        add(f"{key} certificate", admin, "certificate.issued", certificates[person.id])
        add(f"{key} quota", admin, "company.quota_added", company)
        add(f"{key} import", hr, "import.staff", company)
        add(f"{key} export", hr, "report_exported", company)
        add(f"{key} nominated", hr, "staff.nominated", course_class, company=company)
        add(f"{key} renamed", admin, "company.updated", company)
    add("course created", admin, "course.created", course)
    add("class created", admin, "class.created", course_class)
    add("seeded", None, "demo.seeded")
    db.session.commit()

    a_names = {
        "a login",
        "a invited",
        "a enrolled",
        "a marked",
        "a certificate",
        "a quota",
        "a import",
        "a export",
        "a nominated",
    }
    return Scene(
        admin=admin,
        hr_a=hr_a,
        hr_b=hr_b,
        amy=amy,
        bob=bob,
        course=course,
        course_class=course_class,
        company_a=company_a,
        company_b=company_b,
        a_entries={by_name[n].id for n in a_names},
        other_entries={e.id for n, e in by_name.items() if n not in a_names},
        by_name=by_name,
    )


def found(actor: Any, **filters: Any) -> list[AuditEntry]:
    return list(db.session.scalars(audit_log.search(actor, AuditFilters(**filters))).all())


def ids(actor: Any, **filters: Any) -> list[int]:
    return [
        entry.id for entry in db.session.scalars(audit_log.search(actor, AuditFilters(**filters)))
    ]


# The HR officer's part ------------------------------------------------------------------------


def test_hr_officers_read_their_own_companys_part_and_nothing_else(scene):
    a_part, b_part = set(ids(scene.hr_a)), set(ids(scene.hr_b))
    assert a_part == scene.a_entries
    # B's part is the same kinds of entry about B's people, enrolments, marks and quota.
    b_names = {name for name in scene.by_name if name.startswith("b ") and name != "b renamed"}
    assert b_part == {scene.by_name[name].id for name in b_names}
    # The institute's own entries, and the admins' edits of a company, are in neither.
    for name in ("a renamed", "b renamed", "course created", "class created", "seeded"):
        assert scene.by_name[name].id not in a_part | b_part, name


def test_admins_read_every_entry(scene):
    assert set(ids(scene.admin)) == scene.a_entries | scene.other_entries


@pytest.mark.parametrize(
    ("object_type", "attribute"),
    [
        ("users", "bob"),
        ("partner_companies", "company_b"),
        ("courses", "course"),
    ],
)
def test_the_object_filter_never_reaches_another_companys_entries(scene, object_type, attribute):
    target = getattr(scene, attribute)
    assert ids(scene.hr_a, object_type=object_type, object_id=target.id) == []
    assert ids(scene.admin, object_type=object_type, object_id=target.id)


def test_a_class_shows_hr_officers_only_their_own_nominations_into_it(scene):
    class_id = scene.course_class.id
    assert ids(scene.hr_a, object_type="classes", object_id=class_id) == [
        scene.by_name["a nominated"].id
    ]
    assert ids(scene.hr_b, object_type="classes", object_id=class_id) == [
        scene.by_name["b nominated"].id
    ]


@pytest.mark.parametrize(
    ("object_type", "name"),
    [
        ("enrolments", "b enrolled"),
        ("attendance", "b marked"),
        ("certificates", "b certificate"),
        ("users", "b login"),
    ],
)
def test_the_object_filter_with_another_companys_ids_finds_nothing(scene, object_type, name):
    object_id = scene.by_name[name].object_id
    assert ids(scene.admin, object_type=object_type, object_id=object_id)
    assert ids(scene.hr_a, object_type=object_type, object_id=object_id) == []
    # Without the type, the id finds only A's own entries about objects that share it.
    assert set(ids(scene.hr_a, object_id=object_id)) <= scene.a_entries


def test_learners_and_trainers_read_nothing(scene, make):
    trainer = make.user(role="trainer")
    for actor in (scene.amy, trainer):
        with pytest.raises(PermissionDenied):
            audit_log.search(actor, AuditFilters())


# Filters ---------------------------------------------------------------------------------------


def test_newest_first(scene):
    entries = found(scene.admin)
    times = [entry.occurred_at for entry in entries]
    assert times == sorted(times, reverse=True)


def test_filter_by_person_name_or_address(scene):
    helen = set(ids(scene.admin, person="helen"))
    assert helen == {
        scene.by_name[n].id for n in ("a invited", "a import", "a export", "a nominated")
    }
    assert set(ids(scene.admin, person="HR@HARBOUR")) == helen
    # What was typed is literal: a percent sign or an underscore is no wildcard.
    assert ids(scene.admin, person="%") == []
    assert ids(scene.admin, person="_") == []


def test_filter_by_action_and_object(scene):
    assert set(ids(scene.admin, action="company.quota_added")) == {
        scene.by_name["a quota"].id,
        scene.by_name["b quota"].id,
    }
    assert ids(
        scene.admin,
        object_type="partner_companies",
        object_id=scene.company_a.id,
        action="import.staff",
    ) == [scene.by_name["a import"].id]
    assert set(ids(scene.admin, object_type="courses")) == {scene.by_name["course created"].id}


def test_filter_by_hong_kong_dates_includes_both_days(scene):
    late = _at(scene.by_name["course created"], hk_datetime(2026, 3, 5, 23, 59))
    early = _at(scene.by_name["class created"], hk_datetime(2026, 3, 6, 0, 0))
    db.session.commit()
    assert ids(scene.admin, from_day=date(2026, 3, 5), to_day=date(2026, 3, 5)) == [late.id]
    assert ids(scene.admin, from_day=date(2026, 3, 6)) == [early.id]
    assert late.id not in ids(scene.admin, to_day=date(2026, 3, 4))
    assert len(ids(scene.admin, to_day=date(2026, 3, 2))) == len(scene.by_name) - 2


def test_impossible_filters_are_refused_with_the_field_named(scene):
    with pytest.raises(ValidationFailed) as error:
        audit_log.search(scene.admin, AuditFilters(object_id=2**31))
    assert error.value.field == "object_id"
    with pytest.raises(ValidationFailed) as error:
        audit_log.search(
            scene.admin, AuditFilters(from_day=date(2026, 3, 2), to_day=date(2026, 3, 1))
        )
    assert error.value.field == "to_day"


def test_hr_officers_choose_only_from_what_their_part_can_hold(scene):
    assert "course.created" in audit_log.actions_for(scene.admin)
    hr_actions = audit_log.actions_for(scene.hr_a)
    assert "course.created" not in hr_actions and "company.updated" not in hr_actions
    assert {
        "enrolment.created",
        "company.quota_added",
        "import.staff",
        "audit_log.exported",
    } <= set(hr_actions)
    assert "courses" not in audit_log.object_types_for(scene.hr_a)


# Pages -------------------------------------------------------------------------------------------


def test_the_admin_page_lists_entries_with_who_and_links(scene, client, login_as):
    login_as(scene.admin)
    response = client.get("/admin/audit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Helen Ho" in page and "Bob Lee" in page and "course created" in page
    assert f"/admin/classes/{scene.course_class.id}" in page
    assert f"/admin/companies/{scene.company_a.id}" in page
    assert "/admin/audit?person=hr@harbour-it.test" in page
    assert 'href="/admin/audit.csv"' in page


def test_the_hr_page_shows_only_the_companys_part(scene, client, login_as):
    login_as(scene.hr_a)
    response = client.get("/hr/audit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "a enrolled" in page and "a quota" in page
    for name in ("b enrolled", "b quota", "b login", "a renamed", "course created", "Bob Lee"):
        assert name not in page, name
    # Another company's object asked for by address shows nothing either.
    response = client.get(f"/hr/audit?object_type=users&object_id={scene.bob.id}")
    assert response.status_code == 200
    assert "b login" not in response.get_data(as_text=True)
    assert "No entries match these filters." in response.get_data(as_text=True)


def test_the_filters_stay_on_the_other_pages(scene, client, login_as):
    for minute in range(60):
        _at(
            audit.record(
                scene.admin, "course.updated", scene.course, "", {"note": f"bulk {minute}"}
            ),
            hk_datetime(2026, 4, 1, 9, minute),
        )
    db.session.commit()
    login_as(scene.admin)
    first = client.get("/admin/audit?action=course.updated").get_data(as_text=True)
    assert "bulk 59" in first and "bulk 9" not in first.replace("bulk 59", "")
    assert "/admin/audit?page=2&amp;action=course.updated" in first or (
        "action=course.updated&amp;page=2" in first
    )
    second = client.get("/admin/audit?action=course.updated&page=2").get_data(as_text=True)
    assert "bulk 9" in second and "bulk 59" not in second
    assert "course created" not in second


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("object_id=2147483648", "Enter a whole number from 1 to 2147483647."),
        ("object_id=99999999999999999999999", "Enter a whole number from 1 to 2147483647."),
        ("object_id=-1", "Enter a whole number from 1 to 2147483647."),
        ("object_id=abc", "Not a valid integer value."),
        ("from_day=2026-02-30", "Enter a date such as 2025-09-01."),
        ("from_day=9999-12-31", "Enter a date from the year 1900 to 2999."),
        ("from_day=2026-03-02&to_day=2026-03-01", "The last day cannot be before the first."),
        ("action=drop.tables", "Choose from the list."),
        ("object_type=outbox_messages", "Choose from the list."),
        ("person=" + "x" * 101, "Field cannot be longer than 100 characters."),
    ],
)
def test_hostile_filters_are_a_form_error_not_a_crash(scene, client, login_as, query, message):
    login_as(scene.admin)
    for address in ("/admin/audit", "/admin/audit.csv"):
        response = client.get(f"{address}?{query}")
        assert response.status_code == 400, address
        page = response.get_data(as_text=True)
        assert message in page, address
        assert "a enrolled" not in page
    assert (
        db.session.scalar(select(func.count()).where(AuditEntry.action == "audit_log.exported"))
        == 0
    )


def test_hr_cannot_filter_by_an_action_outside_their_part(scene, client, login_as):
    login_as(scene.hr_a)
    response = client.get("/hr/audit?action=course.created")
    assert response.status_code == 400
    assert "Choose from the list." in response.get_data(as_text=True)


@pytest.mark.parametrize(("persona", "address"), [("admin", "/admin/audit"), ("hr_a", "/hr/audit")])
def test_a_page_runs_the_same_queries_however_many_entries(
    scene, make, client, login_as, persona, address
):
    login_as(getattr(scene, persona))
    audit.record(
        scene.admin,
        "enrolment.status_changed",
        db.session.get(Enrolment, scene.by_name["a enrolled"].object_id),
        "",
        {"learner_id": scene.amy.id, "company": {"before": "HBIT", "after": "KLDT"}},
    )
    db.session.commit()
    _response, few = page_queries(client, address)
    enrolment = db.session.get(Enrolment, scene.by_name["a enrolled"].object_id)
    actors = [scene.admin, scene.hr_a, scene.amy, *(make.user(role="admin") for _ in range(3))]
    for number in range(45):
        audit.record(
            actors[number % len(actors)],
            "enrolment.status_changed",
            enrolment,
            "",
            # Names to look up too: the people and companies the details mention.
            {
                "note": f"x{number}",
                "learner_id": actors[(number + 1) % len(actors)].id,
                "company": {"before": "HBIT", "after": "KLDT"},
                "from": "confirmed",
                "to": "withdrawn",
            },
        )
    db.session.commit()
    response, many = page_queries(client, address)
    assert response.status_code == 200
    assert "x44" in response.get_data(as_text=True)
    assert len(many) == len(few), "\n".join(many)


# CSV -------------------------------------------------------------------------------------------


def _rows(response: Any) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_file_holds_the_filtered_entries_escaped(scene, client, login_as):
    scene.amy.name = EVIL
    _at(
        audit.record(scene.amy, "account.updated", scene.amy, "-1+1"), hk_datetime(2026, 3, 3, 8, 5)
    )
    db.session.commit()
    login_as(scene.admin)
    response = client.get("/admin/audit.csv?person=amy%40harbour", buffered=True)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = _rows(response)
    assert header[:5] == ["When (Hong Kong time)", "Who", "E-mail address", "Action", "What"]
    assert rows[0][0] == "2026-03-03 08:05"
    assert rows[0][1] == "'" + EVIL
    assert rows[0][2] == "amy@harbour-it.test"
    assert rows[0][3] == "Profile updated"
    assert rows[0][-1] == "account.updated"
    assert {row[-1] for row in rows} == {"account.updated", "auth.login", "enrolment.created"}
    assert all(row[2] == "amy@harbour-it.test" for row in rows)


def test_an_unknown_action_that_looks_like_a_formula_is_escaped(scene, client, login_as):
    audit.record(scene.admin, "=cmd|' /C calc'!A0", None, "", {"@SUM(1)": "-2+3"})
    db.session.commit()
    login_as(scene.admin)
    _header, *rows = _rows(client.get("/admin/audit.csv?object_type=system", buffered=True))
    row = next(row for row in rows if "cmd" in row[-1])
    assert row[3] == "'=cmd|' /C calc'!A0"
    assert row[-1] == "'=cmd|' /C calc'!A0"
    # The generic sentence and the details name it, behind words that start the cell.
    assert row[4] == "Recorded: =cmd|' /C calc'!A0"
    assert row[5] == "'@sum(1): -2+3"


def test_the_download_is_recorded_and_hr_sees_their_own(scene, client, login_as):
    login_as(scene.hr_a)
    response = client.get("/hr/audit.csv?action=enrolment.created", buffered=True)
    assert response.status_code == 200
    _header, *rows = _rows(response)
    assert [row[-1] for row in rows] == ["enrolment.created"]
    assert rows[0][1] == "Amy Chan"
    recorded = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "audit_log.exported")
    ).one()
    assert recorded.actor_id == scene.hr_a.id
    assert (recorded.object_type, recorded.object_id) == ("partner_companies", scene.company_a.id)
    assert recorded.details == {"action": "enrolment.created"}
    assert recorded.id in ids(scene.hr_a)
    assert recorded.id not in ids(scene.hr_b)


def test_the_hr_csv_never_holds_another_companys_entries(scene, client, login_as):
    login_as(scene.hr_a)
    _header, *rows = _rows(client.get("/hr/audit.csv", buffered=True))
    # Its own part: the scene's entries, the officer's sign-in and this download.
    assert len(rows) == len(scene.a_entries) + 2 == len(ids(scene.hr_a))
    text = repr(rows)
    assert "kowloon" not in text.lower() and "Bob Lee" not in text
    assert not [
        row
        for row in _rows(
            client.get(f"/hr/audit.csv?object_type=users&object_id={scene.bob.id}", buffered=True)
        )[1:]
    ]


def test_the_pages_that_mention_the_log_link_to_it(scene, client, login_as):
    login_as(scene.hr_a)
    assert 'href="/hr/audit"' in client.get("/hr/").get_data(as_text=True)
    assert "/hr/audit?action=report_exported" in client.get("/hr/reports").get_data(as_text=True)
    client.post("/logout")
    login_as(scene.admin)
    assert 'href="/admin/audit"' in client.get("/admin/").get_data(as_text=True)


def test_the_pages_read_in_chinese(scene, client, login_as):
    login_as(scene.hr_a)
    client.post("/language", data={"lang": "zh_Hant_HK", "next": "/"})
    page = client.get("/hr/audit").get_data(as_text=True)
    assert "審計紀錄" in page


def _recorded_actions() -> set[str]:
    """Every action the portal's code records: the text in a call of ``audit.record``, the
    text a function passes on as the action it records (``_set_status(..., "course.archived",
    ...)``), and the module constants the seeders record (``SEEDED_ACTION``)."""
    import ast
    from pathlib import Path

    actions: set[str] = set()

    def texts(node: ast.AST) -> set[str]:
        return {
            text.value
            for text in ast.walk(node)
            if isinstance(text, ast.Constant) and isinstance(text.value, str)
        }

    for path in (Path(__file__).resolve().parent.parent / "skillsup").rglob("*.py"):
        tree = ast.parse(path.read_text())
        # Functions that record the action they are given: their name and its position.
        passers: dict[str, int] = {}
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            parameters = [argument.arg for argument in function.args.args]
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and ast.unparse(node.func) == "audit.record"
                    and len(node.args) > 1
                    and isinstance(node.args[1], ast.Name)
                    and node.args[1].id in parameters
                ):
                    passers[function.name] = parameters.index(node.args[1].id)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name == "audit.record" and len(node.args) > 1:
                    actions |= texts(node.args[1])
                elif name in passers and len(node.args) > passers[name]:
                    actions |= texts(node.args[passers[name]])
            elif isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id.endswith("_ACTION")
                for target in node.targets
            ):
                actions |= texts(node.value)
    return actions


def test_every_recorded_action_has_a_name_and_a_sentence():
    from skillsup.audit_text import ACTIONS

    actions = _recorded_actions()
    assert {
        "auth.login",
        "enrolment.created",
        "audit_log.exported",
        "account.changed",
        "course.archived",
        "demo.seeded",
        "bench.seeded",
    } <= actions
    assert actions <= set(ACTIONS), sorted(actions - set(ACTIONS))
    for action, words in ACTIONS.items():
        assert str(words.label).strip() and str(words.sentence).strip(), action


# Entries as sentences ---------------------------------------------------------------------------

ZH = "zh_Hant_HK"


def _table(page: str) -> str:
    """The audit log's table of entries (the filter above it lists the actions' codes)."""
    return page[page.index('class="audit-table"') : page.index("</table>")]


@pytest.fixture
def people_changes(scene, make):
    """An admin's change of Amy's role and company (recorded by code), her e-mail address
    change cancelled, and an entry of an action the portal does not know."""
    make.company(name="Kowloon Bay Logistics", code="KBL", domains=["kbl.test"])
    entries = [
        audit.record(
            scene.admin,
            "account.changed",
            scene.amy,
            "company, role",
            {
                "role": {"before": "learner", "after": "hr"},
                "company": {"before": "HBIT", "after": "KBL"},
                "department": {"before": None, "after": "Finance"},
            },
        ),
        audit.record(
            scene.admin,
            "account.email_change_cancelled",
            scene.amy,
            "",
            {"pending_email": "amy.chan@harbour-it.test"},
        ),
        audit.record(scene.admin, "widget.polished", scene.amy, "", {"learner_id": scene.amy.id}),
        audit.record(
            scene.admin, "sessions.generated", scene.course_class, "", {"weekdays": [1, 3]}
        ),
    ]
    for minute, entry in enumerate(entries):
        _at(entry, hk_datetime(2026, 5, 1, 9, minute))
    db.session.commit()
    return entries


def test_a_persons_changes_read_with_names_not_codes(people_changes):
    from skillsup.audit_text import readable_entries

    changed, cancelled, unknown, generated = readable_entries(people_changes)
    assert changed.sentence == "Changed the person's details"
    assert changed.details == [
        ("Role", "Learner → HR officer"),
        ("Company", "Harbour IT → Kowloon Bay Logistics"),
        ("Department", "— → Finance"),
    ]
    assert cancelled.sentence == "Cancelled a change of e-mail address"
    assert cancelled.details == [("Address waiting for confirmation", "amy.chan@harbour-it.test")]
    assert unknown.sentence == "Recorded: widget polished"
    assert unknown.details == [("Learner", "Amy Chan")]
    assert generated.details == [("Days of the week", "Tuesday, Thursday")]


@pytest.mark.parametrize("language", ["en", ZH])
@pytest.mark.parametrize(("persona", "address"), [("admin", "/admin/audit"), ("hr_a", "/hr/audit")])
def test_the_pages_show_sentences_in_the_readers_language(
    scene, people_changes, client, login_as, language, persona, address
):
    reader = getattr(scene, persona)
    reader.preferred_language = language
    db.session.commit()
    login_as(reader)
    table = _table(client.get(address).get_data(as_text=True))
    assert "{" not in table and "}" not in table
    # No known action shows as its code; the unknown one reads as the generic sentence.
    for action in ("account.changed", "account.email_change_cancelled", "enrolment.created"):
        assert action not in table, action
    assert "Amy Chan" in table
    if language == ZH:
        assert "更改此人的資料" in table
        assert "學員 → 人力資源主任" in table
        assert "取消更改電郵地址" in table
        assert "已記錄：widget polished" in table
        assert "已申請報讀" in table
    else:
        assert "Changed the person&#39;s details" in table
        assert "Learner → HR officer" in table
        assert "Harbour IT → Kowloon Bay Logistics" in table
        assert "Recorded: widget polished" in table
        assert "Enrolment requested" in table


def test_the_csv_is_in_the_downloading_hr_officers_language(
    scene, people_changes, client, login_as
):
    scene.hr_a.preferred_language = ZH
    db.session.commit()
    login_as(scene.hr_a)
    header, *rows = _rows(client.get("/hr/audit.csv", buffered=True))
    assert header[:6] == ["時間（香港時間）", "操作人", "電郵地址", "操作", "事項", "詳情"]
    by_code = {row[-1]: row for row in rows}
    changed = by_code["account.changed"]
    assert changed[3] == "已更改人員資料"
    assert changed[4] == "更改此人的資料"
    assert "學員 → 人力資源主任" in changed[5]
    assert "Harbour IT → Kowloon Bay Logistics" in changed[5]
    assert by_code["account.email_change_cancelled"][4] == "取消更改電郵地址"
    assert by_code["widget.polished"][4] == "已記錄：widget polished"
    assert by_code["enrolment.created"][4] == "已申請報讀"
    assert "{" not in repr(rows)


def test_the_admin_home_tells_recent_changes_as_sentences(scene, people_changes, client, login_as):
    login_as(scene.admin)
    page = client.get("/admin/").get_data(as_text=True)
    recent = page[page.index('id="changes"') : page.index("</section>", page.index('id="changes"'))]
    assert "Changed the person&#39;s details" in recent
    assert "Learner → HR officer" in recent
    assert "account.changed" not in recent and "{" not in recent
