"""The results: a table on stdout, JSON in ``bench/results/``, a PNG chart."""

import json
import os
import platform
import shutil
from datetime import datetime
from pathlib import Path


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    import uvicorn

    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "uvicorn": uvicorn.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _fmt(value, unit: str = "", digits: int = 0) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:,.{digits}f}"
    else:
        text = f"{value:,}"
    return f"{text}{unit}"


def _met(flag) -> str:
    return "—" if flag is None else ("yes" if flag else "NO")


def table_rows(scenarios: dict) -> list[dict]:
    """One row per figure: scenario, measure, value, baseline, ratio, target, met."""
    rows: list[dict] = []

    def add(scenario, measure, value, baseline, ratio, target, met) -> None:
        rows.append(
            {
                "scenario": scenario,
                "measure": measure,
                "value": value,
                "baseline": baseline,
                "ratio": ratio,
                "target": target,
                "met": met,
            }
        )

    def failed(name: str, title: str) -> bool:
        result = scenarios.get(name)
        if result is None:
            return True
        if "error" in result:
            add(title, "ERROR", result["error"][:60], "—", "—", "—", False)
            return True
        return False

    if not failed("fanout", "1 fan-out"):
        for run in scenarios["fanout"]["runs"]:
            app, base = run["app"], run["baseline"]
            add(
                f"1 fan-out, {run['subscribers']:,} subscribers",
                f"events/s delivered ({run['events']:,} events x "
                f"{run['subscribers']:,} sockets, all delivered: "
                f"{'yes' if run['all_delivered'] else 'NO'})",
                _fmt(app["events_per_second"]),
                _fmt(base["events_per_second"]) + " (raw ASGI)",
                _fmt(run["ratio"], digits=2),
                ">= 0.5",
                _met(run["met"]),
            )
            add(
                f"1 fan-out, {run['subscribers']:,} subscribers",
                "events per server CPU-second (server cost per event)",
                _fmt(run["app_events_per_cpu_second"]),
                _fmt(run["baseline_events_per_cpu_second"]) + " (raw ASGI)",
                _fmt(run["cpu_ratio"], digits=2),
                "(>= 0.5)",
                _met(run["cpu_met"]),
            )
    if not failed("latency", "2 end-to-end"):
        for run in scenarios["latency"]["runs"]:
            app, base = run["app"], run["baseline"]
            add(
                f"2 end-to-end, {run['rate']}/s",
                f"p50/p95/p99 ms POST -> socket ({app['delivered']:,}/"
                f"{app['requests']:,} delivered, {app['lost']} lost; answered "
                f"{_fmt(app.get('answered_per_second'))}/s"
                + (
                    f", {app['failed_requests']} requests failed"
                    if app.get("failed_requests")
                    else ""
                )
                + ")",
                f"{_fmt(app['p50'], digits=1)} / {_fmt(app['p95'], digits=1)} / "
                f"{_fmt(app['p99'], digits=1)}",
                f"{_fmt(base['p50'], digits=2)} / {_fmt(base['p95'], digits=2)} / "
                f"{_fmt(base['p99'], digits=2)} (Redis)",
                _fmt(run["ratio_p99"], "x p99", 1),
                "p99 <= 50 ms" if run["target_p99_ms"] else "—",
                _met(run["met"]),
            )
    if not failed("rest", "3 REST"):
        for name, row in scenarios["rest"]["endpoints"].items():
            add(
                f"3 REST {name.replace('_', ' ')}",
                f"requests/s (wrk, {scenarios['rest']['connections']} connections)",
                _fmt(row["requests_per_second"]),
                _fmt(row["baseline_requests_per_second"]) + " (plain view)",
                _fmt(row["ratio"], digits=2),
                f">= {row['target']}" if row["target"] else "—",
                _met(row["met"]),
            )
        peer = scenarios["rest"].get("peer")
        if peer:
            add(
                "3 REST log append vs peer",
                f"requests/s (wrk, {scenarios['rest']['connections']} connections)",
                _fmt(peer["app_requests_per_second"]),
                _fmt(peer["requests_per_second"]) + " (peer: asyncpg + Redis)",
                _fmt(peer["ratio"], digits=2),
                f">= {peer['target']}",
                _met(peer["met"]),
            )
    if not failed("bulk", "4 bulk"):
        bulk = scenarios["bulk"]
        add(
            f"4 bulk {bulk['lines']:,} lines",
            "lines/s, each with its event "
            f"(all landed: {'yes' if bulk['all_delivered'] else 'NO'})",
            _fmt(bulk["app"]["lines_per_second"]),
            _fmt(bulk["baseline"]["lines_per_second"]) + " (COPY)",
            _fmt(bulk["ratio"], digits=3),
            ">= 0.25",
            _met(bulk["met"]),
        )
    if not failed("idle", "5 idle"):
        for run in scenarios["idle"]["runs"]:
            add(
                f"5 idle, {run['sockets']:,} sockets",
                "server RSS per connection",
                _fmt(run["kb_per_connection"], " KB", 1),
                _fmt(run["rss_none_kb"] / 1024, " MB RSS with none", 1),
                _fmt(run["rss_ratio"], "x RSS", 2),
                "<= 50 KB",
                _met(run["met"]),
            )
    if not failed("queries", "6 queries"):
        sizes = scenarios["queries"]["page_sizes"]
        for row in scenarios["queries"]["endpoints"]:
            counts = " / ".join(str(row["queries"][str(s)]) for s in sizes)
            add(
                f"6 queries {row['endpoint']}",
                f"queries at page {' / '.join(map(str, sizes))}",
                counts,
                "—",
                "—",
                "equal",
                _met(row["equal"] and row["full_pages"]),
            )
    if not failed("writers", "7 writers"):
        w = scenarios["writers"]
        delivered = "yes" if w["delivered_in_order"] else "NO"
        add(
            f"7 writers, {w['threads']} threads, 1 process",
            f"events/s stored, emit() in a transaction, no HTTP (all delivered "
            f"in seq order once: {delivered})",
            _fmt(w["one_process_events_per_second"]),
            _fmt(w["raw_events_per_second"]) + " (psycopg INSERT+COMMIT)",
            _fmt(w["ratio_to_raw"], digits=2),
            ">= 1,500/s",
            _met(w["one_process_events_per_second"] >= 1500),
        )
        add(
            f"7 writers, {w['threads']} threads, 2 processes",
            "events/s stored, both processes together",
            _fmt(w["two_processes_events_per_second"]),
            _fmt(w["one_process_events_per_second"]) + " (1 process)",
            _fmt(w["scaling"], "x", 2),
            ">= 1.6x",
            _met((w["scaling"] or 0) >= 1.6),
        )
        if w["held_scaling"] is not None:
            add(
                f"7 writers, {w['threads']} threads, each transaction "
                f"{w['held_ms']:g} ms longer",
                "events/s, 2 processes against 1 (the old lock capped both at "
                f"{1000 / w['held_ms']:,.0f}/s; emulated here: "
                f"{_fmt(w['old_lock_held_two_processes_events_per_second'])}/s)",
                _fmt(w["held_two_processes_events_per_second"]),
                _fmt(w["held_one_process_events_per_second"]) + " (1 process)",
                _fmt(w["held_scaling"], "x", 2),
                ">= 1.6x",
                _met((w["held_scaling"] or 0) >= 1.6),
            )
    if not failed("telemetry", "8 telemetry"):
        for step in scenarios["telemetry"]["steps"]:
            dash = step["dashboard_ms"]
            add(
                f"8 telemetry, {step['robots']} robots at {step['rate']:g} Hz",
                f"p50/p99 ms report -> dashboard; {step['acked']:,}/"
                f"{step['expected']:,} acked, stored = acked: "
                f"{'yes' if step['stored_equals_acked'] else 'NO'}, "
                f"{step['errors']} errors, {step['seconds']:g} s",
                f"{_fmt(dash['p50'], digits=1)} / {_fmt(dash['p99'], digits=1)}",
                f"ack p99 {_fmt(step['ack_ms']['p99'], digits=1)} ms",
                "—",
                "p99 <= 250 ms",
                _met(step["sustained"]),
            )
    return rows


def _layout(results: dict) -> str:
    args = results.get("uvicorn_args") or []
    workers = "1 process"
    if "--workers" in args:
        workers = f"{args[args.index('--workers') + 1]} workers"
    return workers


def targets_rows(results: dict) -> list[dict]:
    """The targets of issue 15 (rows 1-7), each from figures of this run."""
    scenarios = results["scenarios"]
    rows: list[dict] = []

    def add(number, measure, value, baseline, ratio, target, met) -> None:
        rows.append(
            {
                "row": number,
                "measure": measure,
                "value": value,
                "baseline": baseline,
                "ratio": ratio,
                "target": target,
                "met": met,
            }
        )

    def missing(name: str) -> str | None:
        result = scenarios.get(name)
        if result is None:
            return "not run"
        if "error" in result:
            return "ERROR"
        return None

    rest = scenarios.get("rest") or {}
    endpoints = rest.get("endpoints", {})
    for number, name, measure, target in (
        ("1", "log_append", "log append / plain Django view", 0.5),
        ("3", "mission_create", "mission create / plain view", 0.4),
        ("3", "robot_state", "robot state report / plain view", 0.4),
        ("4", "mission_list", "mission list (50) / plain view", 0.4),
    ):
        row = endpoints.get(name)
        if missing("rest") or not row:
            add(number, measure, missing("rest") or "—", "—", "—", f">= {target}", "—")
            if number == "1":
                add(
                    "2",
                    "log append / peer baseline",
                    missing("rest") or "—",
                    "—",
                    "—",
                    ">= 0.3",
                    "—",
                )
            continue
        add(
            number,
            measure,
            f"{_fmt(row['requests_per_second'])} req/s",
            f"{_fmt(row['baseline_requests_per_second'])} req/s (plain view)",
            _fmt(row["ratio"], digits=2),
            f">= {target}",
            _met(row["ratio"] >= target),
        )
        if number == "1":
            peer = rest.get("peer")
            if peer:
                add(
                    "2",
                    "log append / peer baseline (raw ASGI + asyncpg + redis)",
                    f"{_fmt(peer['app_requests_per_second'])} req/s",
                    f"{_fmt(peer['requests_per_second'])} req/s (peer; "
                    f"{_fmt(peer['peer_to_plain'], 'x', 2)} the plain view)",
                    _fmt(peer["ratio"], digits=2),
                    ">= 0.3",
                    _met(peer["met"]),
                )
            else:
                add(
                    "2",
                    "log append / peer baseline",
                    "not run",
                    "—",
                    "—",
                    ">= 0.3",
                    "—",
                )
    rows.sort(key=lambda r: r["row"])
    latency = scenarios.get("latency") or {}
    run = next((r for r in latency.get("runs", []) if r["rate"] == 200), None)
    if missing("latency") or run is None:
        add(
            "5",
            "p99 POST -> socket at 200/s",
            missing("latency") or "not run",
            "—",
            "—",
            "<= 50 ms, none lost",
            "—",
        )
    else:
        app, base = run["app"], run["baseline"]
        add(
            "5",
            f"p99 POST -> socket at 200/s offered ({_layout(results)}; "
            f"{app['delivered']:,}/{app['requests']:,} delivered, {app['lost']} "
            f"lost; answered {_fmt(app.get('answered_per_second'))}/s)",
            f"{_fmt(app['p99'], ' ms', 1)}",
            f"{_fmt(base['p99'], ' ms', 2)} (Redis PUBLISH)",
            _fmt(run["ratio_p99"], "x", 1),
            "<= 50 ms, none lost",
            _met(app["p99"] is not None and app["p99"] <= 50 and app["lost"] == 0),
        )
    telemetry = scenarios.get("telemetry") or {}
    if missing("telemetry"):
        add(
            "6",
            "robots at 10 Hz, all stored, p99 <= 250 ms",
            missing("telemetry"),
            "—",
            "—",
            ">= 100 robots",
            "—",
        )
    else:
        steps = telemetry["steps"]
        tried = ", ".join(
            f"{s['robots']}{'' if s['sustained'] else ' (no)'}" for s in steps
        )
        add(
            "6",
            f"robots at {steps[0]['rate']:g} Hz sustained {steps[0]['seconds']:g} s, "
            f"every report stored, p99 report -> dashboard <= 250 ms (steps: {tried})",
            f"{telemetry['max_sustained_robots']} robots",
            "—",
            "—",
            ">= 100 robots",
            _met(telemetry["met"]),
        )
    bulk = scenarios.get("bulk") or {}
    if missing("bulk"):
        add("7", "bulk 10,000 lines / COPY", missing("bulk"), "—", "—", ">= 0.25", "—")
    else:
        add(
            "7",
            f"bulk {bulk['lines']:,} lines / PostgreSQL COPY (all landed: "
            f"{'yes' if bulk['all_delivered'] else 'NO'})",
            f"{_fmt(bulk['app']['lines_per_second'])} lines/s",
            f"{_fmt(bulk['baseline']['lines_per_second'])} lines/s (COPY)",
            _fmt(bulk["ratio"], digits=3),
            ">= 0.25",
            _met(bulk["met"]),
        )
    return rows


def format_targets(rows: list[dict]) -> str:
    headers = ["#", "measure", "value", "baseline", "ratio", "target", "met?"]
    keys = ["row", "measure", "value", "baseline", "ratio", "target", "met"]
    return _aligned(headers, [[str(row[k]) for k in keys] for row in rows])


def _aligned(headers: list[str], cells: list[list[str]]) -> str:
    widths = [
        max(len(headers[i]), *(len(c[i]) for c in cells)) if cells else len(headers[i])
        for i in range(len(headers))
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for c in cells:
        lines.append("  ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)))
    return "\n".join(lines)


def format_table(rows: list[dict]) -> str:
    headers = ["scenario", "measure", "value", "baseline", "ratio", "target", "met?"]
    keys = ["scenario", "measure", "value", "baseline", "ratio", "target", "met"]
    return _aligned(headers, [[str(row[k]) for k in keys] for row in rows])


def markdown_table(rows: list[dict]) -> str:
    out = ["| scenario | measure | value | baseline | ratio | target | met? |"]
    out.append("|---|---|---|---|---|---|---|")
    for row in rows:
        out.append(
            "| "
            + " | ".join(
                str(row[k])
                for k in (
                    "scenario",
                    "measure",
                    "value",
                    "baseline",
                    "ratio",
                    "target",
                    "met",
                )
            )
            + " |"
        )
    return "\n".join(out)


def markdown_targets(rows: list[dict]) -> str:
    keys = ("row", "measure", "value", "baseline", "ratio", "target", "met")
    out = ["| # | measure | value | baseline | ratio | target | met? |"]
    out.append("|---|---|---|---|---|---|---|")
    for row in rows:
        out.append("| " + " | ".join(str(row[k]) for k in keys) + " |")
    return "\n".join(out)


def write_json(results: dict, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = directory / f"{stamp}.json"
    text = json.dumps(results, indent=1, default=str)
    path.write_text(text)
    shutil.copyfile(path, directory / "latest.json")
    return path


def draw_chart(results: dict, path: Path) -> None:
    """Latency distribution and throughput per scenario, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = results["scenarios"]
    fig, axes = plt.subplots(3, 3, figsize=(17, 14))
    fig.suptitle(
        f"BRAiN bench ({results['mode']}, {results['finished_at'][:16]}): "
        f"{results['machine']['nproc']} x {results['machine']['cpu_model']}, "
        "ratios against baselines in the same run",
        fontsize=11,
    )
    _latency_panel(axes[0][0], scenarios.get("latency"))
    _fanout_panel(axes[0][1], scenarios.get("fanout"))
    _rest_panel(axes[0][2], scenarios.get("rest"))
    _bulk_panel(axes[1][0], scenarios.get("bulk"))
    _idle_panel(axes[1][1], scenarios.get("idle"))
    _queries_panel(axes[1][2], scenarios.get("queries"))
    _telemetry_panel(axes[2][0], scenarios.get("telemetry"))
    axes[2][1].set_axis_off()
    axes[2][2].set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _missing(ax, title: str, result) -> bool:
    ax.set_title(title, fontsize=10)
    if not result or "error" in result:
        ax.text(0.5, 0.5, "not run" if not result else "error", ha="center")
        ax.set_axis_off()
        return True
    return False


def _bars(ax, labels, series: dict, ylabel: str) -> None:
    import numpy as np

    x = np.arange(len(labels))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        bars = ax.bar(x + i * width - 0.4 + width / 2, values, width, label=name)
        ax.bar_label(bars, fmt="{:,.0f}", fontsize=7)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)


def _latency_panel(ax, result) -> None:
    if _missing(ax, "2 end-to-end latency (CDF)", result):
        return
    import numpy as np

    for run in result["runs"]:
        for who, label, style in (
            ("app", "POST -> socket", "-"),
            ("baseline", "Redis PUBLISH", ":"),
        ):
            samples = np.sort(np.array(run[who]["samples_ms"]))
            if len(samples) == 0:
                continue
            y = np.arange(1, len(samples) + 1) / len(samples)
            ax.plot(samples, y, style, label=f"{label} @ {run['rate']}/s")
    ax.axvline(50, color="red", linewidth=0.8, label="target p99 50 ms")
    ax.axhline(0.99, color="grey", linewidth=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("ms")
    ax.set_ylabel("fraction of events")
    ax.legend(fontsize=7)


def _telemetry_panel(ax, result) -> None:
    if _missing(ax, "8 telemetry: report -> dashboard latency (CDF)", result):
        return
    import numpy as np

    for step in result["steps"]:
        samples = np.sort(np.array(step["dashboard_samples_ms"]))
        if len(samples) == 0:
            continue
        y = np.arange(1, len(samples) + 1) / len(samples)
        ax.plot(samples, y, label=f"{step['robots']} robots")
    ax.axvline(250, color="red", linewidth=0.8, label="target p99 250 ms")
    ax.axhline(0.99, color="grey", linewidth=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("ms")
    ax.set_ylabel("fraction of events")
    ax.legend(fontsize=7)


def _fanout_panel(ax, result) -> None:
    if _missing(ax, "1 fan-out: events delivered per second", result):
        return
    labels = [f"{r['subscribers']} subs" for r in result["runs"]]
    _bars(
        ax,
        labels,
        {
            "app": [r["app"]["events_per_second"] or 0 for r in result["runs"]],
            "raw ASGI baseline": [
                r["baseline"]["events_per_second"] or 0 for r in result["runs"]
            ],
        },
        "events/s",
    )


def _rest_panel(ax, result) -> None:
    if _missing(ax, "3 REST requests per second (wrk)", result):
        return
    names = list(result["endpoints"])
    base = result["endpoints"][names[0]]["baseline_requests_per_second"]
    labels = ["plain view", *[n.replace("_", " ") for n in names]]
    values = [base, *[result["endpoints"][n]["requests_per_second"] for n in names]]
    if result.get("peer"):
        labels.append("peer append")
        values.append(result["peer"]["requests_per_second"])
    _bars(ax, labels, {"requests/s": values}, "requests/s")
    ax.tick_params(axis="x", labelrotation=20)


def _bulk_panel(ax, result) -> None:
    if _missing(ax, "4 bulk ingestion: lines per second", result):
        return
    _bars(
        ax,
        [f"{result['lines']:,} lines"],
        {
            "POST .../log (rows + events)": [result["app"]["lines_per_second"]],
            "COPY (rows only)": [result["baseline"]["lines_per_second"]],
        },
        "lines/s",
    )


def _idle_panel(ax, result) -> None:
    if _missing(ax, "5 idle sockets: server RSS per connection", result):
        return
    _bars(
        ax,
        [f"{r['sockets']:,} sockets" for r in result["runs"]],
        {"KB per connection": [r["kb_per_connection"] for r in result["runs"]]},
        "KB",
    )
    ax.axhline(50, color="red", linewidth=0.8, label="target 50 KB")
    ax.legend(fontsize=8)


def _queries_panel(ax, result) -> None:
    if _missing(ax, "6 queries per request by page size", result):
        return
    rows = result["endpoints"]
    labels = [
        r["endpoint"].replace("/api/", "").replace("{", "").replace("}", "")
        for r in rows
    ]
    _bars(
        ax,
        labels,
        {
            f"page {size}": [r["queries"][str(size)] for r in rows]
            for size in result["page_sizes"]
        },
        "queries",
    )
    ax.tick_params(axis="x", labelrotation=35)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")


if __name__ == "__main__":
    import sys

    source = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json")
    data = json.loads(source.read_text())
    print(markdown_table(data["table"]))
    if data.get("targets"):
        print()
        print(markdown_targets(data["targets"]))
