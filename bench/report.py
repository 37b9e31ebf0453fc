"""The benchmark's results as a readable Markdown report."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

FINDINGS = Path(__file__).resolve().parent / "findings.md"
RATIO_TARGET = 0.15
P95_TARGET_MS = 100.0
EXPORT_TARGET_MS = 2000.0
BURST_TARGET_S = 3.0


def _ok(passed: bool) -> str:
    return "yes" if passed else "**no**"


def _reference(pages: dict[str, Any]) -> float:
    """The plaintext throughput: the mean of the runs at the start and at the end."""
    values = [pages[key]["throughput"] for key in ("plaintext", "plaintext_end") if key in pages]
    return sum(values) / len(values) if values else 0.0


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _largest(results: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    loaded = [(float(k), k, v) for k, v in results["scales"].items() if "load" in v]
    if not loaded:
        return None
    _, key, value = max(loaded)
    return key, value


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
        if key in ("plaintext", "plaintext_end"):
            continue
        reference = result.get("extra", {}).get("reference") or overall
        ratio = result["throughput"] / reference if reference else 0.0
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
                ["rules held", _ok(burst["correct"]), "yes"],
            ],
        ),
    ]


def _comparison(scale: dict[str, Any]) -> list[str]:
    before, after = scale["load"], scale["with_indexes"]["load"]
    sql = scale["with_indexes"]["sql"]
    rows = []
    ref_before, ref_after = _reference(before["pages"]), _reference(after["pages"])

    def sql_cell(key: str) -> str:
        if key not in sql:
            return ""
        without, with_ = sql[key]["without"], sql[key]["with"]
        change = f" ({(with_ / without - 1) * 100:+.0f} %)" if without >= 0.5 else ""
        return f"{without} → {with_}{change}"

    for key, result in before["pages"].items():
        if key not in after["pages"] or key in ("plaintext", "plaintext_end"):
            continue
        new = after["pages"][key]
        base_before = result.get("extra", {}).get("reference") or ref_before
        base_after = new.get("extra", {}).get("reference") or ref_after
        ratio_before = result["throughput"] / base_before if base_before else 0
        ratio_after = new["throughput"] / base_after if base_after else 0
        rows.append(
            [
                scale["scenarios"].get(key, {}).get("title", key),
                sql_cell(key),
                f"{ratio_before:.3f} → {ratio_after:.3f}",
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


def render(results: dict[str, Any]) -> str:
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
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB; load "
        f"average {machine['load_average']} at the start and "
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
            f"{settings['warmup']:g} s of warm-up; gunicorn with {settings['workers']} sync "
            f"workers. Each page's ratio is against the plaintext reference measured for "
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
        ]
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
    for key, title in ((k, v["title"]) for k, v in first["scenarios"].items()):
        found = [results["scales"][s]["queries"].get(key, {}) for s in scale_keys]
        counts = [q.get("queries") or 0 for q in found]
        grows = any(later > earlier for earlier, later in pairwise(counts))
        query_rows.append(
            [
                title,
                *(str(c) for c in counts),
                "**yes**" if grows else "no",
                *(f"{q.get('sql_best_ms', 0)}" for q in found),
                *(f"{q.get('request_cpu_ms', 0)}" for q in found),
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
        "counted), which other work on the machine hardly moves.",
        "",
        *_table(
            [
                "scenario",
                *(f"queries at {s}" for s in scale_keys),
                "grows",
                *(f"SQL ms at {s}" for s in scale_keys),
                *(f"CPU ms at {s}" for s in scale_keys),
            ],
            query_rows,
        ),
        "",
        "## The data",
        "",
        "Generated by `flask seed-bench --scale N` (skillsup/benchdata.py): bulk `COPY` into "
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
        f"- Python {machine['python']}; "
        + ", ".join(f"{name} {version}" for name, version in machine["versions"].items()),
        "- PostgreSQL "
        + ", ".join(f"{name} = {value}" for name, value in machine["postgres"].items()),
        f"- Load tool: {machine['wrk']} for pages; httpx for exports and the burst",
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
