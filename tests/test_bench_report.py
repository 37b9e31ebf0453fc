"""The benchmark's report (bench/report.py): the comparison with an earlier run, the commit
measured, the pass with proposed indexes, and the small helpers that ``make bench`` reads its
inputs with. Pure functions on a sample of results (tests/data/bench/sample-results.json): no
database, no application, no load.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bench import report

# A run recorded once and kept here: the results in bench/results change with every run.
SAMPLE = Path(__file__).resolve().parent / "data" / "bench" / "sample-results.json"
SECTION = "## Before and after the changes"


@pytest.fixture
def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text())


def _row(text: str, title: str) -> list[str]:
    """The cells of the table row that starts with ``title`` (the first such row)."""
    for line in text.splitlines():
        if line.startswith(f"| {title} |"):
            return [cell.strip() for cell in line.strip("|").split("|")]
    raise AssertionError(f"no row {title!r}")


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end >= 0 else None]


def _set_figures(results: dict[str, Any], figures: dict[str, float]) -> dict[str, Any]:
    """A copy of ``results`` with chosen figures at scale 1, so that the expected cells do not
    depend on the sample's own measurements."""
    results = copy.deepcopy(results)
    scale = results["scales"]["1"]
    catalogue = scale["queries"]["catalogue"]
    catalogue["queries"] = figures["queries"]
    catalogue["request_cpu_ms"] = figures["cpu"]
    catalogue["sql_best_ms"] = figures["sql"]
    page = scale["load"]["pages"]["catalogue"]
    page["throughput"] = figures["throughput"]
    page["extra"]["reference"] = 2000.0
    page["p95_ms"] = figures["p95"]
    export = scale["load"]["exports"]["export_csv"]
    export["p50_ms"] = figures["export_p50"]
    export["extra"]["rss_peak_mb"] = figures["rss_peak"]
    burst = scale["load"]["burst"]
    burst["seconds"] = figures["burst"]
    burst["confirmed"], burst["waitlisted"] = 30, 470
    return results


BEFORE = {
    "queries": 3,
    "cpu": 10.0,
    "sql": 20.0,
    "throughput": 30.0,
    "p95": 335.0,
    "export_p50": 5000.0,
    "rss_peak": 118.7,
    "burst": 37.72,
}
AFTER = {
    "queries": 2,
    "cpu": 5.0,
    "sql": 2.0,
    "throughput": 60.0,
    "p95": 160.0,
    "export_p50": 2500.0,
    "rss_peak": 120.1,
    "burst": 3.5,
}


# ---------------------------------------------------------------------------------------------
# Before and after


def test_without_a_baseline_there_is_no_comparison(sample):
    assert SECTION not in report.render(sample)
    assert SECTION not in report.render(sample, None)


def test_a_run_against_itself_shows_every_figure_unchanged(sample):
    text = report.render(sample, sample)

    assert text.count(SECTION) == 1
    # After the burst, before the pass with the proposed indexes.
    assert text.index("## Enrolment burst") < text.index(SECTION)
    assert text.index(SECTION) < text.index("## With the proposed indexes")
    section = _section(text, SECTION)
    queries = sample["scales"]["1"]["queries"]["catalogue"]
    count, cpu = queries["queries"], queries["request_cpu_ms"]
    assert _row(section, "Catalogue, no filter")[1:3] == [
        f"{count} → {count}",
        f"{cpu} → {cpu} (+0 %)",
    ]
    burst = sample["scales"]["1"]["load"]["burst"]
    assert _row(section, "Enrolment burst")[4:] == [
        f"all answered in {burst['seconds']} → {burst['seconds']} s (+0 %)",
        f"{burst['confirmed']} confirmed / {burst['waitlisted']} waitlisted",
    ]


def test_changed_figures_show_before_after_and_the_relative_change(sample):
    before, after = _set_figures(sample, BEFORE), _set_figures(sample, AFTER)

    section = _section(report.render(after, before), SECTION)

    assert _row(section, "Catalogue, no filter") == [
        "Catalogue, no filter",
        "3 → 2",
        "10.0 → 5.0 (-50 %)",
        "20.0 → 2.0 (-90 %)",
        "0.015 → 0.030 (+100 %)",
        "335 → 160 (-52 %)",
    ]
    assert _row(section, "Enrolments export, CSV")[4:] == [
        "p50 5,000 → 2,500 ms (-50 %)",
        "peak RSS 118.7 → 120.1 MB",
    ]
    assert _row(section, "Enrolment burst")[1:] == [
        "",
        "",
        "",
        "all answered in 37.72 → 3.5 s (-91 %)",
        "30 confirmed / 470 waitlisted",
    ]
    header = _row(section, "scenario")
    assert header[1:] == [
        "queries per page: before → after",
        "CPU ms per request (in process): before → after",
        "SQL ms: before → after",
        "ratio to plaintext: before → after",
        "p95 ms: before → after",
    ]


def test_a_broken_burst_after_the_changes_is_flagged(sample):
    after = copy.deepcopy(sample)
    after["scales"]["1"]["load"]["burst"]["correct"] = False

    section = _section(report.render(after, sample), SECTION)

    assert _row(section, "Enrolment burst")[5].endswith("(**rules broken**)")


def test_sql_ms_falls_back_to_the_single_run_when_the_best_was_not_measured(sample):
    before = _set_figures(sample, BEFORE)
    old = before["scales"]["1"]["queries"]["catalogue"]
    del old["sql_best_ms"]
    old["sql_ms"] = 40.0

    section = _section(report.render(_set_figures(sample, AFTER), before), SECTION)

    assert _row(section, "Catalogue, no filter")[3] == "40.0 → 2.0 (-95 %)"


def test_a_scenario_the_baseline_lacks_shows_a_dash(sample):
    before = copy.deepcopy(sample)
    del before["scales"]["1"]["load"]["pages"]["hr_staff"]
    del before["scales"]["1"]["queries"]["hr_staff"]

    section = _section(report.render(sample, before), SECTION)

    cells = _row(section, "HR staff table, a middle page")
    assert cells[1].startswith("– → ")
    assert cells[5].startswith("– → ")
    assert "%" not in cells[5]


def test_the_sentence_names_the_baseline_run(sample):
    before = copy.deepcopy(sample)
    before["started_at"] = "2026-11-01T08:00:00+00:00"
    before["machine"]["commit"] = "abc1234"
    before["machine"]["load_average"] = [1.0, 2.5, 3.25]
    after = copy.deepcopy(sample)
    after["machine"]["commit"] = "def5678 + changes"
    after["baseline"] = {"path": "bench/results/before.json", "started_at": before["started_at"]}

    section = _section(report.render(after, before), SECTION)

    assert (
        "Before: the run started at 2026-11-01T08:00:00+00:00 (commit `abc1234`; load average "
        "1.0, 2.5, 3.25 at its start), read from `bench/results/before.json`. After: this run "
        "(commit `def5678 + changes`; load average " in section
    )
    # The sample was made before commits were recorded.
    assert "(commit not recorded; load average" in _section(report.render(sample, sample), SECTION)


def test_a_baseline_loaded_at_another_largest_scale_is_not_compared(sample):
    before = copy.deepcopy(sample)
    del before["scales"]["1"]["load"]  # its largest load scale is now 0.1

    assert report.largest_scale(before) == "0.1"
    assert SECTION not in report.render(sample, before)


# ---------------------------------------------------------------------------------------------
# The commit measured, and the pass with proposed indexes


def test_the_machine_line_names_the_commit_when_recorded(sample):
    assert "code at commit" not in report.render(sample)
    recorded = copy.deepcopy(sample)
    recorded["machine"]["commit"] = "abc1234 + changes"

    text = report.render(recorded)

    machine_line = next(line for line in text.splitlines() if line.startswith("Machine: "))
    assert "; code at commit `abc1234 + changes`; load average" in machine_line
    assert "- Code: commit `abc1234 + changes`" in text


def test_no_index_section_without_an_index_pass(sample):
    assert "## With the proposed indexes" in report.render(sample)
    skipped = copy.deepcopy(sample)
    del skipped["scales"]["1"]["with_indexes"]

    assert "## With the proposed indexes" not in report.render(skipped)


def test_index_statements_of_a_comments_only_file_are_none():
    sql = "-- Indexes to try by hand.\n--\n-- Tried and not proposed:\n--   users (company_id)\n\n"

    assert report.index_statements(sql) == []
    assert report.index_names(sql) == []


def test_index_statements_leave_comments_out():
    sql = (
        "-- Catalogue: one probe per course.\n"
        "CREATE INDEX IF NOT EXISTS ix_bench_a\n    ON classes (course_id, status);\n\n"
        "-- CREATE INDEX IF NOT EXISTS ix_bench_commented ON users (name);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_bench_b ON users (name);\n"
    )

    assert report.index_statements(sql) == [
        "CREATE INDEX IF NOT EXISTS ix_bench_a\n    ON classes (course_id, status)",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_bench_b ON users (name)",
    ]
    assert report.index_names(sql) == ["ix_bench_a", "ix_bench_b"]


# ---------------------------------------------------------------------------------------------
# Choosing and reading the baseline


def test_the_default_baseline_is_used_only_when_it_exists(tmp_path):
    default, output = tmp_path / "before.json", tmp_path / "latest.json"

    assert report.choose_baseline(None, default, output) is None
    default.write_text("{}")
    assert report.choose_baseline(None, default, output) == default


def test_an_empty_baseline_setting_means_none(tmp_path):
    default = tmp_path / "before.json"
    default.write_text("{}")

    assert report.choose_baseline("", default, tmp_path / "latest.json") is None
    assert report.choose_baseline("  ", default, tmp_path / "latest.json") is None


def test_a_baseline_setting_names_the_file(tmp_path):
    default = tmp_path / "before.json"
    default.write_text("{}")

    chosen = report.choose_baseline(" runs/old.json ", default, tmp_path / "latest.json")

    assert chosen == Path("runs/old.json")


def test_the_default_baseline_is_not_the_json_the_run_writes(tmp_path):
    default = tmp_path / "before.json"
    default.write_text("{}")

    assert report.choose_baseline(None, default, tmp_path / "before.json") is None


def test_read_baseline_refuses_what_is_not_a_run(tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"name": "not a run"}')

    with pytest.raises(ValueError, match="does not hold the results"):
        report.read_baseline(other)
    with pytest.raises(OSError):
        report.read_baseline(tmp_path / "missing.json")
    assert report.read_baseline(SAMPLE)["started_at"]


# ---------------------------------------------------------------------------------------------
# The commit


def _git(repo: Path, *args: str) -> str:
    git = shutil.which("git")
    assert git is not None
    return subprocess.run(  # noqa: S603 - a fixed command on a scratch repository
        [git, "-c", "user.name=Bench", "-c", "user.email=bench@skillsup.test",
         "-c", "commit.gpgsign=false", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_names_head_and_local_changes(tmp_path):
    _git(tmp_path, "init", "--quiet")
    (tmp_path / "app.py").write_text("x = 1\n")
    _git(tmp_path, "add", "app.py")
    _git(tmp_path, "commit", "--quiet", "-m", "first")
    head = _git(tmp_path, "rev-parse", "--short", "HEAD")

    assert report.git_commit(tmp_path) == head
    # Results written by earlier runs are not changes to the code measured.
    (tmp_path / "bench" / "results").mkdir(parents=True)
    (tmp_path / "bench" / "results" / "latest.json").write_text("{}")
    assert report.git_commit(tmp_path) == head
    (tmp_path / "app.py").write_text("x = 2\n")
    assert report.git_commit(tmp_path) == f"{head} + changes"
    assert re.fullmatch(r"[0-9a-f]{4,} \+ changes", report.git_commit(tmp_path) or "")


def test_git_commit_is_none_outside_a_repository(tmp_path, monkeypatch):
    # Git must not find a repository above the scratch folder either.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))

    assert report.git_commit(tmp_path) is None


def test_git_commit_is_none_without_git(tmp_path, monkeypatch):
    monkeypatch.setattr(report.shutil, "which", lambda name: None)

    assert report.git_commit(tmp_path) is None


# ---------------------------------------------------------------------------------------------
# The burst's pace


def test_the_burst_is_shown_next_to_plaintext_just_before_it(sample):
    results = copy.deepcopy(sample)
    burst = results["scales"]["1"]["load"]["burst"]
    burst.update(requests=500, seconds=4.0, reference=2500.0)
    section = _section(report.render(results), "## Enrolment burst")
    assert _row(section, "plaintext just before")[1] == "2,500 requests/s"
    # 500 answers in 4 s is 125 a second, 0.050 of plaintext; 1.5 s would need 333, 0.133.
    assert _row(section, "requests answered per second (ratio to plaintext)")[1:] == [
        "125 (0.050)",
        "333 in 1.5 s (0.133 of this plaintext)",
    ]
    assert _row(section, "all answered in")[2] == "< 1.5 s: **no**"


def test_each_page_is_held_to_its_cpu_target(sample):
    results = copy.deepcopy(sample)
    queries = results["scales"]["1"]["queries"]
    queries["catalogue"]["request_cpu_ms"] = 5.9
    queries["course"]["request_cpu_ms"] = 6.1
    queries["hr_dashboard"]["request_cpu_ms"] = 11.5
    section = _section(report.render(results), "## SQL queries per page")
    assert _row(section, "Catalogue, no filter")[-1] == "≤ 6: yes"
    assert _row(section, "Course page (as a learner)")[-1] == "≤ 6: **no**"
    assert _row(section, "HR dashboard")[-1] == "≤ 12: yes"
    assert _row(section, "Reference: plaintext")[-1] == ""


def test_a_burst_measured_without_a_reference_has_no_pace_rows(sample):
    results = copy.deepcopy(sample)
    results["scales"]["1"]["load"]["burst"].pop("reference", None)
    section = _section(report.render(results), "## Enrolment burst")
    assert "plaintext just before" not in section
