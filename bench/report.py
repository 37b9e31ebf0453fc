"""The benchmark's results as a readable Markdown report, and the small helpers of ``make bench``
that need neither the database nor the load tools (so that tests can import them).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

FINDINGS = Path(__file__).resolve().parent / "findings.md"
RATIO_TARGET = 0.15
P95_TARGET_MS = 100.0
EXPORT_TARGET_MS = 2000.0
BURST_TARGET_S = 1.5
#: A fresh page's CPU per request in process at the largest scale, in ms; the HR dashboard
#: works out its figures.
CPU_TARGET_MS = 6.0
CPU_TARGETS_MS = {"hr_dashboard": 12.0}
RUSH_P95_TARGET_MS = 300.0
RUSH_STEPS = {
    "catalogue": "Catalogue",
    "search": "Search",
    "course": "Course page",
    "enrol": "Enrol (POST)",
    "my_learning": "My learning",
}
RUSH_CHECKS = {
    "capacity": "no class over capacity (seats_taken = confirmed ≤ seats)",
    "quota": "no company's seat quota exceeded",
    "first_come_first_served": "waitlists first come, first served",
    "one_place_each": "no learner with two active enrolments in a class",
}
REFERENCE_KEYS = ("plaintext", "plaintext_end")


# ---------------------------------------------------------------------------------------------
# What a run reads and records besides its measurements


def index_statements(sql: str) -> list[str]:
    """The statements of a file such as bench/proposed_indexes.sql, comment lines left out:
    ``[]`` for a file of comments only."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [statement.strip() for statement in "\n".join(lines).split(";") if statement.strip()]


def index_names(sql: str) -> list[str]:
    """The names of the indexes that the statements of ``sql`` create."""
    return re.findall(
        r"CREATE INDEX (?:CONCURRENTLY )?IF NOT EXISTS (\w+)", "\n".join(index_statements(sql))
    )


def choose_baseline(value: str | None, default: Path, output_json: Path) -> Path | None:
    """The earlier run to compare with, from ``BENCH_BASELINE``: its path when set; when unset,
    ``default`` if that file exists and is not the JSON this run is about to write; when set
    empty, none."""
    if value is None:
        if default.is_file() and default.resolve() != output_json.resolve():
            return default
        return None
    value = value.strip()
    return Path(value) if value else None


def read_baseline(path: Path) -> dict[str, Any]:
    """An earlier run's JSON. Raises OSError if it cannot be read and ValueError if it is not
    the results of ``make bench``."""
    results = json.loads(path.read_text())
    if not isinstance(results, dict) or not {"started_at", "scales"} <= results.keys():
        raise ValueError(f"{path} does not hold the results of make bench")
    return results


def git_commit(root: Path) -> str | None:
    """The commit of the measured tree (``abc1234``, with ``+ changes`` when files differ from
    it), or None without git or outside a repository. Earlier results do not count as changes:
    every run rewrites them."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        head = subprocess.run(  # noqa: S603 - a fixed command
            [git, "rev-parse", "--short", "HEAD"],
            cwd=root, capture_output=True, text=True, check=True, timeout=30,
        ).stdout.strip()  # fmt: skip
        # --no-optional-locks: others may be using the repository at the same time.
        changes = subprocess.run(  # noqa: S603 - a fixed command
            [git, "--no-optional-locks", "status", "--porcelain", "--", ".",
             ":(exclude)bench/results"],
            cwd=root, capture_output=True, text=True, check=True, timeout=30,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    if not head:
        return None
    return f"{head} + changes" if changes else head


# ---------------------------------------------------------------------------------------------
# The report


def _ok(passed: bool) -> str:
    return "yes" if passed else "**no**"


def _reference(pages: dict[str, Any]) -> float:
    """The plaintext throughput: the mean of the runs at the start and at the end."""
    values = [pages[key]["throughput"] for key in REFERENCE_KEYS if key in pages]
    return sum(values) / len(values) if values else 0.0


def _ratio(result: dict[str, Any], pages: dict[str, Any]) -> float:
    """A page's throughput against the plaintext measured just before it (or the pass's)."""
    reference = result.get("extra", {}).get("reference") or _reference(pages)
    return result["throughput"] / reference if reference else 0.0


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _change(before: float, after: float, floor: float = 0.5) -> str:
    """The relative change, left out below ``floor`` where it would be noise."""
    if before < floor or before <= 0:
        return ""
    return f" ({round((after / before - 1) * 100):+d} %)"


def _before_after(
    before: float | None,
    after: float | None,
    fmt: Callable[[float], str] = _ms,
    *,
    unit: str = "",
    floor: float | None = 0.5,
) -> str:
    """``before → after`` with the relative change (none when ``floor`` is None); a dash
    for a figure that one of the runs lacks."""
    if before is None and after is None:
        return ""
    cell = f"{'–' if before is None else fmt(before)} → {'–' if after is None else fmt(after)}"
    cell += unit
    if floor is not None and before is not None and after is not None:
        cell += _change(before, after, floor)
    return cell


def _largest(results: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    loaded = [(float(k), k, v) for k, v in results.get("scales", {}).items() if "load" in v]
    if not loaded:
        return None
    _, key, value = max(loaded)
    return key, value


def largest_scale(results: dict[str, Any]) -> str | None:
    """The largest scale the run load tested (as the key of ``results["scales"]``)."""
    largest = _largest(results)
    return largest[0] if largest else None


def _query_cell(results: dict[str, Any], key: str) -> str:
    counts = [
        str(scale["queries"][key]["queries"])
        for scale in results["scales"].values()
        if key in scale.get("queries", {})
    ]
    return " / ".join(counts)


def _page_rows(
    results: dict[str, Any], pages: dict[str, Any], scale: dict[str, Any]
) -> list[list[str]]:
    overall = _reference(pages)
    rows = []
    for key, result in pages.items():
        if key in REFERENCE_KEYS:
            continue
        reference = result.get("extra", {}).get("reference") or overall
        ratio = _ratio(result, pages)
        is_page = scale["scenarios"].get(key, {}).get("kind") == "page"
        met = ratio >= RATIO_TARGET and result["p95_ms"] < P95_TARGET_MS
        flawless = result["not_200"] == 0 and result["errors"] == 0
        rows.append(
            [
                scale["scenarios"].get(key, {}).get("title", key),
                f"{result['throughput']:,.1f}",
                f"{reference:,.0f}",
                f"**{ratio:.3f}**",
                _ms(result["p50_ms"]),
                _ms(result["p95_ms"]),
                _ms(result["p99_ms"]),
                _query_cell(results, key),
                (_ok(met) if is_page else "(reference)") + ("" if flawless else " (errors!)"),
            ]
        )
    return rows


def _export_rows(exports: dict[str, Any], scale: dict[str, Any]) -> list[list[str]]:
    rows = []
    for key, result in exports.items():
        extra = result["extra"]
        rows.append(
            [
                scale["scenarios"][key]["title"],
                f"{extra.get('rows', 0):,}",
                f"{extra['bytes'] / 1024:,.0f} kB",
                _ms(result["p50_ms"]),
                _ms(result["p95_ms"]),
                _ms(result["max_ms"]),
                f"{result['throughput']:.2f}",
                f"{extra['rss_before_mb']} / {extra['rss_peak_mb']} / {extra['rss_after_mb']}",
                _ok(result["max_ms"] < EXPORT_TARGET_MS and result["not_200"] == 0),
            ]
        )
    return rows


def _burst_lines(burst: dict[str, Any]) -> list[str]:
    statuses = ", ".join(f"{count} × HTTP {status}" for status, count in burst["statuses"].items())
    latencies = f"{_ms(burst['p50_ms'])} / {_ms(burst['p95_ms'])} / {_ms(burst['max_ms'])} ms"
    return [
        f"{burst['requests']} learners (each with their own signed-in session) POST "
        f'"enrol" at the same moment for class `{burst["class"]}` with '
        f"{burst['capacity']} seats.",
        "",
        *_table(
            ["measure", "value", "target"],
            [
                [
                    "all answered in",
                    f"{burst['seconds']} s",
                    f"< {BURST_TARGET_S:g} s: " + _ok(burst["seconds"] < BURST_TARGET_S),
                ],
                ["answers", statuses or "none", "all 302 (redirect with a message)"],
                ["connection errors", str(burst["transport_errors"]), "0"],
                ["confirmed", str(burst["confirmed"]), str(burst["capacity"])],
                [
                    "waitlisted (distinct learners)",
                    f"{burst['waitlisted']} ({burst['distinct_waitlisted']})",
                    str(burst["requests"] - burst["capacity"]),
                ],
                ["other statuses", str(burst["other_statuses"] or "none"), "none"],
                ["seats_taken", str(burst["seats_taken"]), str(burst["capacity"])],
                ["latency p50 / p95 / max", latencies, ""],
                *_burst_pace(burst),
                ["rules held", _ok(burst["correct"]), "yes"],
            ],
        ),
    ]


def _burst_pace(burst: dict[str, Any]) -> list[list[str]]:
    """The burst's pace next to plaintext's just before it (runs before it was measured have
    no such row): like a page's ratio, it moves less with the machine's load than the time."""
    reference = burst.get("reference")
    if not reference or not burst["seconds"]:
        return []
    pace = burst["requests"] / burst["seconds"]
    return [
        ["plaintext just before", f"{reference:,.0f} requests/s", "(reference)"],
        [
            "requests answered per second (ratio to plaintext)",
            f"{pace:,.0f} ({pace / reference:.3f})",
            f"{burst['requests'] / BURST_TARGET_S:,.0f} in {BURST_TARGET_S:g} s "
            f"({burst['requests'] / BURST_TARGET_S / reference:.3f} of this plaintext)",
        ],
    ]


def _server_text(settings: dict[str, Any]) -> str:
    """The pages' server as a run recorded it (runs before the settings had names: sync)."""
    if settings.get("server_label"):
        return f"gunicorn {settings['server_label']}"
    return f"gunicorn with {settings.get('workers', '?')} sync workers"


def _rush_target_met(run: dict[str, Any]) -> bool:
    return run["errors"] == 0 and all(
        step["p95_ms"] < RUSH_P95_TARGET_MS for step in run["steps"].values() if step["requests"]
    )


def _rush_lines(rush: dict[str, Any]) -> list[str]:
    """The rush: each step under the first server setting, the rules checked afterwards, and
    every server setting side by side."""
    runs = rush.get("runs") or []
    if not runs:
        return []
    first = runs[0]
    reference = first.get("reference") or 0
    # The server's time per plaintext answer at full load, in ms: the yardstick a step's
    # median is measured in, so that a busier machine moves both alike.
    plaintext_ms = 1000 / reference if reference else 0
    step_rows = []
    for key, title in RUSH_STEPS.items():
        step = first["steps"].get(key)
        if step is None:
            continue
        step_rows.append(
            [
                title,
                str(step["requests"]),
                str(step["errors"]),
                _ms(step["p50_ms"]),
                _ms(step["p95_ms"]),
                _ms(step["p99_ms"]),
                _ms(step["max_ms"]),
                f"{step['p50_ms'] / plaintext_ms:,.0f}" if plaintext_ms else "",
                _ok(step["p95_ms"] < RUSH_P95_TARGET_MS and step["errors"] == 0),
            ]
        )
    check_rows = [
        [title, _ok(first["checks"][key]["held"]), first["checks"][key].get("detail") or ""]
        for key, title in RUSH_CHECKS.items()
        if key in first["checks"]
    ]
    outcome = ", ".join(f"{count} {status}" for status, count in first["enrolments"].items())
    comparison = []
    for run in runs:
        comparison.append(
            [
                run["label"],
                *(
                    _ms(run["steps"][key]["p95_ms"]) if key in run["steps"] else ""
                    for key in RUSH_STEPS
                ),
                str(run["errors"]),
                f"{run['connections']:,}",
                _ms(run["server_cpu_ms_per_request"]),
                (
                    f"{run['machine_busy'] * 100:.0f} %"
                    if run.get("machine_busy") is not None
                    else ""
                )
                + (f" (load {_load(run['load_average'])})" if run.get("load_average") else ""),
                f"{run['reference']:,.0f}",
                _ok(_rush_target_met(run)),
                _ok(all(check["held"] for check in run["checks"].values())),
            ]
        )
    notes = first.get("notes", {})
    return [
        "## The enrolment-opening rush",
        "",
        f"{rush['learners']:,} different learners, each with their own signed-in session, arrive "
        f"over {rush['seconds']:g} s (seeded uniform arrival times), and each goes through the "
        "catalogue, a search for a word of their course's title, the course page, enrol (the "
        "POST of the course page's form for the class they chose, with its CSRF token) and My "
        "learning, pausing 0.5 to 2 s (seeded) between steps. Each learner keeps one connection "
        "open between steps, as a browser does, and opens a new one when the server has closed "
        "it. Latency: from sending the request (connecting first if needed) to the last byte of "
        f"the answer. Target: p95 under {RUSH_P95_TARGET_MS:g} ms at every step, no error (a "
        "transport error, a 5xx, or a status other than 200, and 302 for enrol). "
        + (f"Classes: {notes['classes']}; " if notes.get("classes") else "")
        + (f"learners from {notes['companies']}; " if notes.get("companies") else "")
        + (
            f"seat quotas for the rush's courses: {notes['quotas']}." if notes.get("quotas") else ""
        ),
        "",
        f"### Each step, on {first['label']}",
        "",
        f"All {first['requests']:,} requests answered within {first['seconds']} s of the first "
        f"arrival; {first['errors']} errors; learners who found no enrol button (their "
        "company's quota used up, or every class unavailable to them) and went on to My "
        f"learning: {first['no_enrol_form']}; {first['connections']:,} connections opened. "
        "Plaintext just "
        f"before: {reference:,.0f} requests/s. The last column gives each step's median time "
        "in plaintext answers: how many plaintext answers the server gives, at full load, in "
        "the time a learner waits for the step's median (it moves less with the machine's "
        "load than the time does).",
        "",
        *_table(
            [
                "step",
                "requests",
                "errors",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "p50 in plaintext answers",
                f"p95 < {RUSH_P95_TARGET_MS:g} ms",
            ],
            step_rows,
        ),
        "",
        "### The rules afterwards",
        "",
        "Checked in the database after the rush, in its classes and quotas. The order of "
        "the requests is the order in which each class took them (enrolment ids, given under "
        f"the class's lock). Enrolments: {outcome or 'none'}.",
        "",
        *_table(["rule", "held", "detail"], check_rows),
        "",
        "### Server settings compared",
        "",
        "The same rush (fresh classes and quotas each time) against gunicorn with each setting "
        "in turn (`BENCH_RUSH_SERVERS`). p95 per step in ms; CPU: the gunicorn processes' "
        "processor time per request; machine busy: the share of both cores in use during the "
        "rush, everyone's work included (and the load average as it began): compare settings "
        "measured on a machine about as busy.",
        "",
        *_table(
            [
                "server",
                *(f"p95 {title}" for title in RUSH_STEPS.values()),
                "errors",
                "connections",
                "server CPU ms per request",
                "machine busy",
                "plaintext req/s just before",
                "target met",
                "rules held",
            ],
            comparison,
        ),
        "",
    ]


def _cpu_target(key: str, kind: str | None, cpu_ms: float | None) -> str:
    """Whether a page's CPU per request meets its target; blank for references and exports."""
    if kind != "page" or cpu_ms is None:
        return ""
    target = CPU_TARGETS_MS.get(key, CPU_TARGET_MS)
    return f"≤ {target:g}: " + _ok(cpu_ms <= target)


def _comparison(scale: dict[str, Any]) -> list[str]:
    before, after = scale["load"], scale["with_indexes"]["load"]
    sql = scale["with_indexes"]["sql"]
    rows = []

    def sql_cell(key: str) -> str:
        if key not in sql:
            return ""
        return _before_after(sql[key]["without"], sql[key]["with"], str)

    for key, result in before["pages"].items():
        if key not in after["pages"] or key in REFERENCE_KEYS:
            continue
        new = after["pages"][key]
        rows.append(
            [
                scale["scenarios"].get(key, {}).get("title", key),
                sql_cell(key),
                f"{_ratio(result, before['pages']):.3f} → {_ratio(new, after['pages']):.3f}",
                f"{_ms(result['p95_ms'])} → {_ms(new['p95_ms'])}",
            ]
        )
    for key, result in before["exports"].items():
        new = after["exports"].get(key)
        if new:
            rows.append(
                [
                    scale["scenarios"][key]["title"],
                    sql_cell(key),
                    f"{result['throughput']:.2f} → {new['throughput']:.2f} downloads/s",
                    f"{_ms(result['p95_ms'])} → {_ms(new['p95_ms'])}",
                ]
            )
    return _table(
        [
            "scenario",
            "SQL ms per request: without → with",
            "ratio to plaintext: without → with",
            "p95 ms: without → with",
        ],
        rows,
    )


def _sql_ms(found: dict[str, Any]) -> float | None:
    """A request's SQL time: the best of five runs where the run measured it."""
    return found.get("sql_best_ms", found.get("sql_ms"))


def _run_details(results: dict[str, Any]) -> str:
    """The commit and the machine's load of a run, as recorded (earlier runs lack the commit)."""
    machine = results.get("machine", {})
    commit, load = machine.get("commit"), machine.get("load_average")
    return (f"commit `{commit}`" if commit else "commit not recorded") + (
        f"; load average {_load(load)} at its start" if load else ""
    )


def _load(load_average: list[float]) -> str:
    return ", ".join(str(value) for value in load_average)


def _rush_before_after(
    rush: dict[str, Any] | None, old_rush: dict[str, Any] | None
) -> list[list[str]]:
    """The rush's row of the comparison: its first server setting's slowest p95 and errors,
    a dash for a run without a rush (runs before it had none)."""
    runs = (rush or {}).get("runs") or []
    if not runs:
        return []
    new = runs[0]
    old_runs = (old_rush or {}).get("runs") or []
    old = old_runs[0] if old_runs else None

    def slowest(run: dict[str, Any]) -> float:
        return max(step["p95_ms"] for step in run["steps"].values())

    return [
        [
            f"Enrolment-opening rush ({new['label']})",
            "",
            "",
            "",
            "errors "
            + _before_after(old["errors"] if old else None, new["errors"], str, floor=None),
            "slowest step "
            + _before_after(slowest(old) if old else None, slowest(new), unit=" ms"),
        ]
    ]


def _baseline_lines(results: dict[str, Any], baseline: dict[str, Any], scale_key: str) -> list[str]:
    """The largest scale of this run against the same scale of an earlier one."""
    scale = results["scales"][scale_key]
    old_scale = baseline["scales"][scale_key]
    load, old_load = scale["load"], old_scale["load"]
    pages, old_pages = load["pages"], old_load["pages"]
    queries, old_queries = scale.get("queries", {}), old_scale.get("queries", {})

    def title(key: str) -> str:
        return scale["scenarios"].get(key, {}).get("title", key)

    def in_process(key: str) -> list[str]:
        new, old = queries.get(key, {}), old_queries.get(key, {})
        return [
            _before_after(old.get("queries"), new.get("queries"), str, floor=None),
            _before_after(old.get("request_cpu_ms"), new.get("request_cpu_ms")),
            _before_after(_sql_ms(old), _sql_ms(new)),
        ]

    rows = []
    for key, result in pages.items():
        if key in REFERENCE_KEYS:
            continue
        old = old_pages.get(key)
        rows.append(
            [
                title(key),
                *in_process(key),
                _before_after(
                    _ratio(old, old_pages) if old else None,
                    _ratio(result, pages),
                    lambda value: f"{value:.3f}",
                    floor=0,
                ),
                _before_after(old["p95_ms"] if old else None, result["p95_ms"]),
            ]
        )
    for key, result in load.get("exports", {}).items():
        old = old_load.get("exports", {}).get(key)
        rows.append(
            [
                title(key),
                *in_process(key),
                "p50 "
                + _before_after(old["p50_ms"] if old else None, result["p50_ms"], unit=" ms"),
                "peak RSS "
                + _before_after(
                    old["extra"]["rss_peak_mb"] if old else None,
                    result["extra"]["rss_peak_mb"],
                    str,
                    unit=" MB",
                    floor=None,
                ),
            ]
        )
    burst, old_burst = load.get("burst"), old_load.get("burst")
    if burst:
        rows.append(
            [
                "Enrolment burst",
                "",
                "",
                "",
                "all answered in "
                + _before_after(
                    old_burst["seconds"] if old_burst else None, burst["seconds"], str, unit=" s"
                ),
                f"{burst['confirmed']} confirmed / {burst['waitlisted']} waitlisted"
                + ("" if burst["correct"] else " (**rules broken**)"),
            ]
        )
    rows += _rush_before_after(scale.get("rush"), old_scale.get("rush"))
    recorded = results.get("baseline") or {}
    return [
        "## Before and after the changes",
        "",
        f"Before: the run started at {baseline.get('started_at', '?')} ({_run_details(baseline)})"
        + (f", read from `{recorded['path']}`" if recorded.get("path") else "")
        + f". After: this run ({_run_details(results)}). "
        f"Both at scale {scale_key}. The queries and the CPU and SQL ms are measured in process "
        "and hardly move with the machine's load; the figures under load (ratio, p95, the "
        "exports' and the burst's times) move with it. For the exports the last two columns "
        "give the median download time and the largest worker's peak memory; for the burst, "
        "the time until every learner had an answer and the outcome after the changes.",
        "",
        *_table(
            [
                "scenario",
                "queries per page: before → after",
                "CPU ms per request (in process): before → after",
                "SQL ms: before → after",
                "ratio to plaintext: before → after",
                "p95 ms: before → after",
            ],
            rows,
        ),
        "",
    ]


def render(results: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    """The report of ``results``; with ``baseline`` (an earlier run's results loaded at the
    same largest scale) also a comparison of the two at that scale."""
    machine = results["machine"]
    settings = results["settings"]
    lines = [
        "# SkillsUp portal: benchmark results",
        "",
        f"Measured on {results['started_at']} by `make bench` (`python -m bench.run`, "
        f"{results['seconds']} s in all). "
        "The machine is shared with other work, so absolute times vary from run to run: every "
        "figure stands next to a bare reference measured in the same run, and the **ratio to "
        "the plaintext reference** is the headline.",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB"
        + (f"; code at commit `{machine['commit']}`" if machine.get("commit") else "")
        + f"; load average {machine['load_average']} at the start and "
        f"{machine.get('load_average_end', '?')} at the end. Under such load a light request "
        "(plaintext) keeps more of its share of the processors than a heavy one, so the ratios "
        "of heavy pages come out lower than on an idle machine; the CPU time per request in "
        "the table of SQL queries below is the steadier measure of a page's own cost. How to "
        "run it and what each figure means: [bench/README.md](../README.md).",
        "",
    ]
    largest = _largest(results)
    if largest is not None:
        scale_key, scale = largest
        load = scale["load"]
        pages = load["pages"]
        lines += [
            f"## Pages at scale {scale_key}",
            "",
            f"{settings['connections']} concurrent users (wrk, keep-alive connections, "
            f"{settings['threads']} threads) for {settings['duration']:g} s per page after "
            f"{settings['warmup']:g} s of warm-up; {_server_text(settings)}. "
            f"Each page's ratio is against the plaintext reference measured for "
            f"{settings['reference_seconds']:g} s just before it (the machine is shared and its "
            f"load drifts: plaintext gave {pages['plaintext']['throughput']:,.0f} requests/s at "
            f"the start of the pass and {pages['plaintext_end']['throughput']:,.0f} at the end). "
            f"Targets: a ratio of at least {RATIO_TARGET} and p95 under {P95_TARGET_MS:g} ms. "
            "Latencies in ms; queries per page at each scale measured (see below).",
            "",
            *_table(
                [
                    "scenario",
                    "req/s",
                    "plaintext req/s just before",
                    "ratio to plaintext",
                    "p50",
                    "p95",
                    "p99",
                    "queries per page (" + " / ".join(results["scales"]) + ")",
                    "target met",
                ],
                _page_rows(results, pages, scale),
            ),
            "",
            "Who asks for what: " + "; ".join(f"{k}: {v}" for k, v in scale["notes"].items()) + ".",
            "",
            "## Exports",
            "",
            f"{settings['export_requests']} downloads of each, {settings['export_concurrency']} at "
            "a time, each read to the end. Memory: the largest gunicorn worker's resident size "
            "(MB) before the downloads, at its peak during them (sampled every 50 ms) and after.",
            "",
            *_table(
                [
                    "export",
                    "rows",
                    "size",
                    "p50 ms",
                    "p95 ms",
                    "slowest ms",
                    "downloads/s",
                    "worker RSS MB before / peak / after",
                    "under 2 s",
                ],
                _export_rows(load["exports"], scale),
            ),
            "",
            "## Enrolment burst",
            "",
            *_burst_lines(load["burst"]),
            "",
            *_rush_lines(scale.get("rush") or {}),
        ]
        if baseline is not None and largest_scale(baseline) == scale_key:
            lines += _baseline_lines(results, baseline, scale_key)
        if "with_indexes_error" in scale:
            lines += [
                "## With the proposed indexes",
                "",
                f"The pass failed: `{scale['with_indexes_error']}`.",
                "",
            ]
        if "with_indexes" in scale:
            lines += [
                "## With the proposed indexes",
                "",
                "The indexes of [bench/proposed_indexes.sql](../proposed_indexes.sql) created by "
                f"hand on the bench database (in {scale['with_indexes']['build_seconds']} s, "
                "then `VACUUM ANALYZE`) and dropped again. SQL ms: every SELECT of one request "
                "run five times and the fastest run of each added up, in three rounds "
                "alternating without and with the indexes, the best round of each side: the "
                "steadiest figure here, though the large aggregates (HR dashboard, exports) still "
                "move by about ±20 % on a busy machine; the load figures beside it move with the "
                "machine's load far more. "
                "Ratios are against the plaintext reference measured just before each page.",
                "",
                *_comparison(scale),
                "",
            ]
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().strip(), ""]
    for scale_key, scale in results["scales"].items():
        if "load" in scale and largest is not None and scale_key != largest[0]:
            pages = scale["load"]["pages"]
            lines += [
                f"## Pages at scale {scale_key}",
                "",
                f"Plaintext reference: {_reference(pages):,.0f} requests/s.",
                "",
                *_table(
                    [
                        "scenario",
                        "req/s",
                        "plaintext req/s",
                        "ratio",
                        "p50",
                        "p95",
                        "p99",
                        "queries",
                        "target met",
                    ],
                    _page_rows(results, pages, scale),
                ),
                "",
                *_table(
                    [
                        "export",
                        "rows",
                        "size",
                        "p50 ms",
                        "p95 ms",
                        "slowest ms",
                        "downloads/s",
                        "worker RSS MB",
                        "under 2 s",
                    ],
                    _export_rows(scale["load"]["exports"], scale),
                ),
                "",
                *_burst_lines(scale["load"]["burst"]),
                "",
            ]
    scale_keys = list(results["scales"])
    query_rows = []
    first = results["scales"][scale_keys[0]]
    for key, scenario in first["scenarios"].items():
        found = [results["scales"][s]["queries"].get(key, {}) for s in scale_keys]
        counts = [q.get("queries") or 0 for q in found]
        grows = any(later > earlier for earlier, later in pairwise(counts))
        query_rows.append(
            [
                scenario["title"],
                *(str(c) for c in counts),
                "**yes**" if grows else "no",
                *(f"{q.get('sql_best_ms', 0)}" for q in found),
                *(f"{q.get('request_cpu_ms', 0)}" for q in found),
                _cpu_target(key, scenario.get("kind"), found[-1].get("request_cpu_ms")),
            ]
        )
    lines += [
        "## SQL queries per page",
        "",
        "Statements sent to the database for one request (the user's session included), "
        "counted with a SQLAlchemy event listener through the Flask test client against the "
        "bench database at each scale. They must not grow with the data. SQL ms: the request's "
        "SELECT statements run again five times each, the fastest run of each added up. "
        "CPU ms: the processor time one whole request takes in the benchmark's own process "
        "(Python: routing, services, ORM, templates; no HTTP, the database's share not "
        "counted), the median of several requests after a warm-up; other work on the machine "
        f"moves it less than the times under load. Target: at most {CPU_TARGET_MS:g} ms per "
        f"page at the largest scale ({CPU_TARGETS_MS['hr_dashboard']:g} ms for the HR "
        "dashboard, which works out its figures here); `python -m bench.profile` shows where "
        "a page's time goes.",
        "",
        *_table(
            [
                "scenario",
                *(f"queries at {s}" for s in scale_keys),
                "grows",
                *(f"SQL ms at {s}" for s in scale_keys),
                *(f"CPU ms at {s}" for s in scale_keys),
                "CPU target met",
            ],
            query_rows,
        ),
        "",
        "## The data",
        "",
        "Generated by `flask seed-bench --scale N` (skillsup/devdata/bench): bulk `COPY` into "
        "PostgreSQL, one transaction, then `VACUUM ANALYZE`. Every generated account's password is "
        "`skillsup-bench`.",
        "",
    ]
    tables = sorted({name for scale in results["scales"].values() for name in scale["rows"]})
    rows = [
        [name, *(f"{results['scales'][s]['rows'].get(name, 0):,}" for s in scale_keys)]
        for name in tables
        if any(results["scales"][s]["rows"].get(name) for s in scale_keys)
    ]
    seeds = []
    for s in scale_keys:
        seed = results["scales"][s]["seed"]
        if "seconds" in seed:
            seeds.append(
                f"scale {s}: {seed['seconds']} s (+ {seed['analyse_seconds']} s VACUUM ANALYZE), "
                f"seed {seed['seed']}, built around {seed['today']}"
            )
        else:
            seeds.append(f"scale {s}: loaded by an earlier run")
    lines += [
        *_table(["table", *(f"rows at scale {s}" for s in scale_keys)], rows),
        "",
        "Time to generate: " + "; ".join(seeds) + ". The load tests add a few rows (audit "
        "entries of the exports, the burst classes and their enrolments).",
        "",
        "## Machine, versions and settings",
        "",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores; memory {machine['memory_gb']} GB; "
        f"{machine['os']}",
        *([f"- Code: commit `{machine['commit']}`"] if machine.get("commit") else []),
        f"- Python {machine['python']}; "
        + ", ".join(f"{name} {version}" for name, version in machine["versions"].items()),
        "- PostgreSQL "
        + ", ".join(f"{name} = {value}" for name, value in machine["postgres"].items()),
        f"- Load tool: {machine['wrk']} for pages; httpx for exports; "
        "plain asyncio sockets for the burst and the rush",
        "- Settings: "
        + ", ".join(
            f"{name} = {value}"
            for name, value in settings.items()
            if name not in {"database_url", "output"}
        ),
        "- The portal runs as in production (`SKILLSUP_ENV=production`, debug off) except that "
        "cookies are not marked Secure, as the loopback has no TLS.",
        "",
    ]
    return "\n".join(lines)
