"""Whole journeys through the portal in a real browser, checking what a person sees at each step.

Each journey ends with a full-page screenshot of its last page, kept in a temporary folder.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from .support import skip_without_playwright

skip_without_playwright()

from openpyxl import load_workbook  # noqa: E402
from playwright.sync_api import expect  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from skillsup.models import EnrolmentStatus  # noqa: E402
from skillsup.timeutil import today_hk  # noqa: E402

from . import scenes  # noqa: E402
from .support import (  # noqa: E402
    ADMIN,
    HR_A,
    HR_B,
    LEARNER_A,
    LEARNER_B,
    TRAINER,
    LiveServer,
    log_in,
)

# A browser and a live server: seconds, not milliseconds.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: A full-page screenshot of a real page is well over this; a blank one is far under it.
MIN_SCREENSHOT_BYTES = 20_000


def save_screenshot(page: Any, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    size = path.stat().st_size
    assert size > MIN_SCREENSHOT_BYTES, f"{path.name} is only {size} bytes: is the page blank?"
    return path


def expect_flash(page: Any, pattern: str | re.Pattern[str]) -> None:
    expect(page.locator(".flashes")).to_contain_text(pattern)


# 1. A learner who needs no approval ----------------------------------------------------------


def test_learner_finds_enrols_subscribes_and_withdraws(
    live_server: LiveServer, open_page: Callable[..., Any], screenshot_dir: Path
) -> None:
    with live_server.app_context():
        offer = scenes.offer_for(LEARNER_A)
    page = open_page()
    log_in(page, LEARNER_A)
    expect(page.get_by_role("heading", name="My learning", level=1)).to_be_visible()

    # The catalogue: search by words of the title, narrow by skill area and open seats.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    expect(page.get_by_role("heading", name="Course catalogue")).to_be_visible()
    search = page.get_by_role("search", name="Find a course")
    search.get_by_label("Search courses").fill(" ".join(offer.title.split()[:2]))
    search.get_by_label("Skill area").select_option(label=offer.skill_area)
    search.get_by_label("Only courses with open seats").check()
    search.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/courses\?.*skill_area="))
    expect(page.locator(".result-count")).to_contain_text(re.compile(r"\d+ courses?"))
    cards = page.locator("li.course-card")
    expect(cards.filter(has_text=offer.course_code)).to_have_count(1)
    # Every course shown is of that skill area, with seats open.
    shown = cards.count()
    areas = cards.locator(".card-facts > div").filter(
        has=page.get_by_text("Skill area", exact=True)
    )
    expect(areas.locator("dd")).to_have_text([offer.skill_area] * shown)
    expect(cards.locator(".availability")).to_have_text(["Seats open"] * shown)
    cards.get_by_role("link", name=offer.title).click()

    # The course page: enrol in the class that has seats.
    expect(page.get_by_role("heading", name=offer.title, level=1)).to_be_visible()
    class_offer = page.locator("li.class-offer").filter(
        has=page.get_by_role("heading", name=offer.class_code, exact=True)
    )
    expect(class_offer).to_contain_text(re.compile(r"\d+ seats? left"))
    class_offer.get_by_role("button", name=re.compile(r"^Enrol\b")).click()
    expect_flash(page, f"You are confirmed in {offer.class_code}.")
    expect(class_offer).to_contain_text("You: Confirmed")

    # My learning shows the class and its sessions.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
    card = page.locator("li.enrolment-card").filter(has_text=offer.class_code)
    expect(card.locator(".enrolment-status .badge")).to_have_text("Confirmed")
    expect(page.locator("section", has=page.locator("#next-sessions"))).to_contain_text(
        offer.class_code
    )

    # The calendar feed: created on the account page, then fetched as a calendar app would.
    page.locator(".header-tools").get_by_role("link", name="Chan Tai Man").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    page.get_by_role(
        "button", name=re.compile(r"Create my calendar feed|Get a new address")
    ).click()
    expect_flash(page, re.compile(r"Your calendar feed (is ready|has a new address)"))
    feed_box = page.get_by_label("Your feed address")
    expect(feed_box).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/calendar/[^/]+\.ics$"))
    feed = page.request.get(feed_box.input_value())
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    body = feed.text()
    assert body.startswith("BEGIN:VCALENDAR")
    assert "BEGIN:VEVENT" in body
    assert offer.class_code in body

    # Withdrawing from My learning frees the seat.
    page.get_by_role("link", name="My learning").first.click()
    card = page.locator("li.enrolment-card").filter(has_text=offer.class_code)
    card.get_by_role("link", name=f"Withdraw from {offer.class_code}").click()
    # The confirmation page says what withdrawing does; its button does it.
    expect(page.get_by_role("heading", name="What will happen")).to_be_visible()
    page.get_by_role("button", name=f"Withdraw from {offer.class_code}").click()
    expect_flash(page, f"You have withdrawn from {offer.class_code}.")
    expect(page.locator("li.enrolment-card").filter(has_text=offer.class_code)).to_have_count(0)
    history = (
        page.locator("section", has=page.locator("#history"))
        .locator("tr")
        .filter(has_text=offer.class_code)
    )
    expect(history.first).to_contain_text("Withdrawn")
    with live_server.app_context():
        assert scenes.enrolment_status(LEARNER_A, offer.class_code) == EnrolmentStatus.WITHDRAWN
    save_screenshot(page, screenshot_dir, "journey-1-withdrawn")


# 2. A learner whose company approves requests ------------------------------------------------


def test_request_approved_by_hr_then_confirmed(
    live_server: LiveServer,
    open_context: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    with live_server.app_context():
        offer = scenes.offer_for(LEARNER_B)
    learner = open_context().new_page()
    log_in(learner, LEARNER_B)
    learner.goto(f"/courses/{offer.course_code}")
    class_offer = learner.locator("li.class-offer").filter(
        has=learner.get_by_role("heading", name=offer.class_code, exact=True)
    )
    class_offer.get_by_role("button", name=re.compile(r"^Request approval\b")).click()
    expect_flash(learner, "Your request is waiting for HR approval.")
    expect(class_offer).to_contain_text("You: Waiting for HR approval")

    # The HR officer, in a browser of their own, approves this one request.
    hr = open_context().new_page()
    log_in(hr, HR_B)
    hr.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    expect(hr.get_by_role("heading", name="Requests waiting for approval")).to_be_visible()
    queue = hr.locator(".approvals-table tbody tr")
    row = queue.filter(has_text="Wong Ka Yan").filter(has_text=offer.class_code)
    expect(row).to_have_count(1)
    row.get_by_role("checkbox").check()
    hr.get_by_role("button", name="Approve the ticked requests").click()
    expect_flash(hr, re.compile(r"\b1 request approved (and confirmed|onto the waitlist)"))
    expect(
        hr.locator(".decision-outcomes tbody tr").filter(has_text="Wong Ka Yan")
    ).to_contain_text(re.compile(r"Approved(: confirmed|, but the class is full)"))
    expect(queue.filter(has_text="Wong Ka Yan").filter(has_text=offer.class_code)).to_have_count(0)

    # The learner sees the decision.
    learner.goto("/my-learning")
    card = learner.locator("li.enrolment-card").filter(has_text=offer.class_code)
    expect(card.locator(".enrolment-status .badge")).to_have_text(
        re.compile(r"^(Confirmed|On the waitlist)$")
    )
    with live_server.app_context():
        assert scenes.enrolment_status(LEARNER_B, offer.class_code) in (
            EnrolmentStatus.CONFIRMED,
            EnrolmentStatus.WAITLISTED,
        )
    save_screenshot(learner, screenshot_dir, "journey-2-approved")


# 3. HR nominates from a CSV file and downloads a report --------------------------------------


def _nominations_csv(rows: list[tuple[str, str, str]]) -> bytes:
    lines = ["E-mail,Staff number,Class code", *(",".join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def test_hr_nominates_from_csv_and_downloads_report(
    live_server: LiveServer,
    open_page: Callable[..., Any],
    screenshot_dir: Path,
    tmp_path: Path,
) -> None:
    with live_server.app_context():
        class_code, nominees = scenes.nomination_target("HVIT", 3)
        starts_on = scenes.course_class(class_code).starts_on
    first, second, third = nominees
    rows = [
        (first.email, "", class_code),
        ("", second.staff_number or "", class_code),
        (third.email, "", "SU-NOPE-999-0000"),
    ]
    broken = tmp_path / "nominations.csv"
    broken.write_bytes(_nominations_csv(rows))

    page = open_page()
    log_in(page, HR_A)
    page.goto("/hr/nominations/import")
    expect(page.get_by_role("heading", name="Nominate staff from a CSV file")).to_be_visible()
    page.get_by_label("CSV file").set_input_files(str(broken))
    page.get_by_role("button", name="Upload and preview").click()

    # The preview: one row cannot be imported, and nothing can be confirmed yet.
    expect(page.get_by_role("heading", name="Check the nominations", level=1)).to_be_visible()
    expect(page.locator(".import-counts")).to_contain_text("3 rows")
    expect(page.locator(".import-counts")).to_contain_text("1 cannot be imported")
    expect(page.locator(".import-blocked")).to_contain_text("1 row cannot be imported.")
    problems = page.get_by_role("table", name="Rows to correct")
    expect(problems.locator("tbody tr")).to_have_count(1)
    expect(problems.locator("tbody tr")).to_contain_text("SU-NOPE-999-0000")
    expect(page.get_by_role("button", name=re.compile(r"^Nominate \d"))).to_have_count(0)
    with live_server.app_context():
        assert scenes.enrolment_status(first.email, class_code) is None

    # The corrected file can be confirmed.
    fixed = tmp_path / "nominations-fixed.csv"
    fixed.write_bytes(_nominations_csv([*rows[:2], (third.email, "", class_code)]))
    page.get_by_label("CSV file").set_input_files(str(fixed))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator(".import-ready")).to_contain_text("Every row can be imported.")
    every_row = page.get_by_role("table", name="Every row")
    expect(every_row.locator("tbody tr")).to_have_count(3)
    for nominee in nominees:
        expect(every_row.locator("tr").filter(has_text=nominee.name)).to_contain_text(
            re.compile(r"Will be (confirmed|waitlisted)")
        )
    page.get_by_role("button", name="Nominate 3 employees").click()
    expect_flash(page, re.compile(r"3 employees nominated: \d+ confirmed, \d+ on the waitlist\."))
    with live_server.app_context():
        for nominee in nominees:
            assert scenes.enrolment_status(nominee.email, class_code) in (
                EnrolmentStatus.CONFIRMED,
                EnrolmentStatus.WAITLISTED,
            )

    # The enrolments report, as an Excel file, for the days around the class's start.
    page.goto("/hr/reports")
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    page.get_by_label("Classes starting from").fill((starts_on - timedelta(days=1)).isoformat())
    page.get_by_label("Up to and including").fill((starts_on + timedelta(days=1)).isoformat())
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Enrolments (Excel)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)
    cells = [
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    workbook.close()
    for nominee in nominees:
        assert nominee.name in cells, f"{nominee.name} is missing from the report"
    assert class_code in cells
    save_screenshot(page, screenshot_dir, "journey-3-reports")


# 4. A trainer on a phone; the certificate and its public check --------------------------------

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def test_trainer_takes_attendance_on_a_phone_and_closes_the_class(
    live_server: LiveServer,
    open_context: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    with live_server.app_context():
        absentee, other = scenes.new_learners("HVIT", ["Olivia Kwok Hoi Yan", "Ryan Lui Chi Ho"])
        scene = scenes.running_class(
            [scenes.user(LEARNER_A), absentee, other], title="Accessible Web Forms Workshop"
        )
        absentee_name = absentee.name

    phone = open_context(**PHONE).new_page()
    log_in(phone, TRAINER)
    attendance_url = f"/trainer/classes/{scene.code}/sessions/{scene.session_id}/attendance"
    phone.goto(attendance_url)
    expect(phone.get_by_role("heading", name=re.compile(r"^Attendance:"))).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        "the attendance page scrolls sideways on a phone"
    )
    phone.get_by_role("button", name="All present").tap()
    expect(phone.locator("main")).to_contain_text(
        "3 learners not yet marked are marked present on the form"
    )
    marks = phone.locator("fieldset.attendance-mark")
    expect(marks).to_have_count(3)
    expect(marks.locator("input[value=present]:checked")).to_have_count(3)
    absent_mark = marks.filter(has_text=absentee_name).get_by_label("Absent")
    absent_mark.tap()
    expect(absent_mark).to_be_checked()
    phone.get_by_role("button", name="Save attendance").tap()
    expect_flash(phone, "Attendance saved: 3 changes.")
    expect(marks.filter(has_text=absentee_name).get_by_label("Absent")).to_be_checked()
    expect(marks.locator("input[value=present]:checked")).to_have_count(2)

    # Closing the class issues certificates to those who attended.
    phone.get_by_role("link", name="Close the class").click()
    expect(phone.get_by_role("heading", name=f"Close {scene.code}")).to_be_visible()
    expect(phone.get_by_role("heading", name=re.compile(r"^Will complete"))).to_contain_text("2")
    not_completing = phone.get_by_role("table", name=re.compile(r"^Will not complete"))
    expect(not_completing).to_contain_text(absentee_name)
    phone.get_by_role("button", name="Close the class and issue certificates").tap()
    expect_flash(
        phone,
        f"{scene.code} is closed: 2 completed, 1 did not complete, 2 certificates issued.",
    )
    save_screenshot(phone, screenshot_dir, "journey-4-phone-closed")

    # The learner downloads the certificate from My learning.
    learner = open_context().new_page()
    log_in(learner, LEARNER_A)
    certificate = learner.locator(".certificate-list li").filter(has_text=scene.title)
    expect(certificate).to_have_count(1)
    with learner.expect_download() as download_info:
        certificate.get_by_role("link", name=re.compile(r"^Download \(PDF\)")).click()
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Chan Tai Man" in text
    assert scene.title in text
    check_path = certificate.get_by_role(
        "link", name=re.compile(r"^Public check page")
    ).get_attribute("href")
    assert check_path and check_path.startswith("/verify/")

    # Anyone, not logged in, checks it.
    visitor = open_context().new_page()
    visitor.goto(check_path)
    expect(visitor.get_by_role("heading", name="Certificate check")).to_be_visible()
    expect(visitor.locator(".certificate-status")).to_contain_text("Valid")
    facts = visitor.locator(".certificate-facts")
    expect(facts).to_contain_text("Chan Tai Man")
    expect(facts).to_contain_text(scene.title)
    expect(visitor.get_by_role("link", name=re.compile("Download the certificate"))).to_have_count(
        0
    )
    save_screenshot(visitor, screenshot_dir, "journey-4-verified")


# 5. An admin puts a new course in the catalogue ----------------------------------------------

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def test_admin_creates_course_and_class_and_publishes(
    live_server: LiveServer, open_page: Callable[..., Any], screenshot_dir: Path
) -> None:
    code = "SU-BRW-501"
    title = "Web Accessibility Auditing"
    starts_on = today_hk() + timedelta(days=35)
    ends_on = starts_on + timedelta(days=14)
    page = open_page()
    log_in(page, ADMIN)

    page.goto("/admin/courses/new")
    expect(page.get_by_role("heading", name="New course")).to_be_visible()
    page.get_by_label("Course code").fill(code)
    page.get_by_label("Skill area").select_option(label="Software engineering")
    page.get_by_label("Delivery mode").select_option(label="On campus")
    page.get_by_label("Teaching language").select_option(label="English")
    page.get_by_label("QF level").fill("4")
    page.get_by_label("QF credits").fill("3")
    page.get_by_label("Contact hours").fill("9")
    page.get_by_label("Fee (HKD)").fill("2400")
    page.get_by_label("Title in English").fill(title)
    page.get_by_label("Summary in English").fill(
        "Check web pages against WCAG 2.2 with tools and by hand, and report what to fix."
    )
    page.get_by_label("Title in Traditional Chinese").fill("網頁無障礙審核")
    page.get_by_role("button", name="Create the course").click()
    expect_flash(page, f"Course {code} has been created as a draft.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(code)
    course_id = re.search(r"/admin/courses/(\d+)$", page.url)
    assert course_id, page.url

    # A class of the course, preselected from the link.
    page.goto(f"/admin/classes/new?course_id={course_id.group(1)}")
    expect(page.get_by_label("Course", exact=True)).to_have_value(course_id.group(1))
    class_code = f"{code}-{starts_on:%y%m}"
    page.get_by_label("Class code").fill(class_code)
    page.get_by_label("Trainers").select_option(label="Alan Yip Chun Kit")
    page.get_by_label("Capacity").fill("12")
    page.get_by_label("Venue").fill("Tsing Yi campus, Room 301")
    page.get_by_label("First day of the class").fill(starts_on.isoformat())
    page.get_by_label("Last day of the class").fill(ends_on.isoformat())
    page.get_by_label("Enrolment opens").fill(f"{today_hk().isoformat()}T00:00")
    page.get_by_label("Enrolment closes").fill(
        f"{(starts_on - timedelta(days=3)).isoformat()}T23:59"
    )
    page.get_by_label("Withdrawal deadline").fill(
        f"{(starts_on - timedelta(days=5)).isoformat()}T23:59"
    )
    page.get_by_role("button", name="Create the class").click()
    expect_flash(page, f"Class {class_code} has been created as a draft.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(class_code)
    expect(page.locator("#sessions-section")).to_contain_text("No sessions yet.")

    # A weekly series of sessions on the class's first weekday, early in the morning: the demo
    # data's classes (relative to today) never start before nine, so the trainer is free then
    # whatever the day.
    series = page.locator("form.series-form")
    series.get_by_label(WEEKDAYS[starts_on.weekday()], exact=True).check()
    series.get_by_label("Starts at").fill("07:00")
    series.get_by_label("Ends at").fill("08:45")
    series.get_by_label("From").fill(starts_on.isoformat())
    series.get_by_label("Number of weeks").fill("3")
    series.get_by_label("Leave out Hong Kong public holidays").uncheck()
    series.get_by_role("button", name="Add the series").click()
    expect_flash(page, "3 sessions have been added.")
    expect(page.locator("#sessions-section tbody tr")).to_have_count(3)

    # Open enrolment, then publish the course.
    page.get_by_role("button", name="Open enrolment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Open for enrolment")
    page.get_by_role("link", name=code, exact=True).click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flashes")).to_be_visible()
    expect(page.get_by_role("button", name="Unpublish")).to_be_visible()

    # The course is in the public catalogue, with its class.
    page.goto(f"/courses?q={code}")
    card = page.locator("li.course-card").filter(has_text=code)
    expect(card).to_have_count(1)
    expect(card.locator(".availability")).to_have_text("Seats open")
    card.get_by_role("link", name=title).click()
    offer = page.locator("li.class-offer").filter(has_text=class_code)
    expect(offer).to_contain_text("12 seats left")
    expect(offer).to_contain_text("Alan Yip Chun Kit")
    save_screenshot(page, screenshot_dir, "journey-5-published")
