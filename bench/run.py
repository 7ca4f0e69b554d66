"""``python -m bench [--quick]``: every scenario, its baseline, the table, the files.

Exit status: 0 whatever the figures; 1 when the harness broke (a scenario raised) or
an event was lost or duplicated. Speed never fails a run.
"""

import argparse
import os
import shlex
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path

from bench import config, peer_app, report
from bench.scenarios import (
    Context,
    bulk,
    fanout,
    idle,
    latency,
    queries,
    rest,
    telemetry,
    writers,
)
from bench.servers import (
    Server,
    ensure_wrk,
    exclusive_run,
    flush_redis,
    prepare_database,
    raise_open_files_limit,
)

SCENARIOS = {
    "fanout": fanout,
    "latency": latency,
    "rest": rest,
    "bulk": bulk,
    "queries": queries,
    "idle": idle,
    "writers": writers,
    "telemetry": telemetry,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="BRAiN Mission Control benchmark suite (issues 9 and 15).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI mode: smaller loads, well under 90 s; never fails on speed",
    )
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated subset of: {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a size of the plan (bench/config.py Plan), e.g. "
        "--set telemetry_steps=10,25 --set telemetry_seconds=10; repeatable",
    )
    parser.add_argument(
        "--uvicorn-args",
        default=None,
        help="flags for every uvicorn the bench starts (default: bin/run's, "
        f"{' '.join(config.UVICORN_ARGS)!r}; --quick: the same in one process)",
    )
    parser.add_argument(
        "--results-dir",
        default=str(config.RESULTS_DIR),
        help="where the JSON and the PNG go (default: bench/results)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with exclusive_run():
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    selected = [s for s in args.only.split(",") if s] or list(SCENARIOS)
    unknown = set(selected) - set(SCENARIOS)
    if unknown:
        print(f"bench: unknown scenario(s): {', '.join(sorted(unknown))}")
        return 2
    try:
        plan = config.plan_with(config.plan_for(args.quick), args.set)
    except ValueError as exc:
        print(f"bench: {exc}")
        return 2
    if args.uvicorn_args is not None:
        uvicorn_args = tuple(shlex.split(args.uvicorn_args))
    elif args.quick:
        # CI checks the harness, not the layout: one process keeps it in budget.
        uvicorn_args = config.single_process(config.UVICORN_ARGS)
    else:
        uvicorn_args = config.UVICORN_ARGS
    started_at = datetime.now().isoformat(timespec="seconds")
    t0 = time.monotonic()
    open_files = raise_open_files_limit()
    machine = report.machine()
    results: dict[str, dict] = {}
    errors: list[str] = []
    servers: list[Server] = []

    def say(text: str) -> None:
        print(f"bench [{time.monotonic() - t0:5.1f}s] {text}", flush=True)

    try:
        if "rest" in selected:
            ensure_wrk()
        say(f"database {config.DATABASE_URL} (recreated), Redis {config.REDIS_URL}")
        token = prepare_database()
        flush_redis()
        server = Server(args=uvicorn_args).start()
        servers.append(server)
        # The fan-out baseline keeps its sockets in memory: one process, whatever
        # --workers says, or /fire would reach another worker's (empty) set.
        baseline = Server(
            "bench.baseline_app:app",
            args=config.single_process(uvicorn_args),
            health="/health",
        ).start()
        servers.append(baseline)
        peer = None
        if "rest" in selected:
            peer_app.prepare_tables(config.DATABASE_URL)
            peer = Server(
                "bench.peer_app:app", args=uvicorn_args, health="/health"
            ).start()
            servers.append(peer)
        ctx = Context(
            plan=plan,
            token=token,
            server=server,
            baseline=baseline,
            uvicorn_args=uvicorn_args,
            peer=peer,
        )
        for name in SCENARIOS:
            if name not in selected:
                continue
            load_at_start = _load()
            say(f"scenario {name} (load average {load_at_start[0]}) ...")
            began = time.monotonic()
            try:
                results[name] = SCENARIOS[name].run(ctx)
            except Exception as exc:
                errors.append(f"{name}: {exc!r}")
                results[name] = {"error": repr(exc)[:2000]}
                traceback.print_exc()
            results[name]["seconds"] = round(time.monotonic() - began, 1)
            results[name]["load_average"] = [load_at_start, _load()]
    except Exception as exc:
        errors.append(f"setup: {exc!r}")
        traceback.print_exc()
    finally:
        for server in servers:
            server.close()

    lost = sum(_count(results, "lost"))
    duplicates = sum(_count(results, "duplicates"))
    rows = report.table_rows(results)
    output = {
        "version": 1,
        "command": "python -m bench" + (" --quick" if args.quick else ""),
        "mode": "quick" if args.quick else "full",
        "started_at": started_at,
        "finished_at": datetime.now().isoformat(timespec="seconds"),
        "duration_seconds": round(time.monotonic() - t0, 1),
        "machine": {**machine, "load_average_end": report.machine()["load_average"]},
        "uvicorn_args": list(uvicorn_args),
        "open_files_limit": open_files,
        "selected": selected,
        "lost_events": lost,
        "duplicate_events": duplicates,
        "errors": errors,
        "ok": not errors and lost == 0 and duplicates == 0,
        "table": rows,
        "targets": [],
        "scenarios": results,
    }
    output["targets"] = report.targets_rows(output)
    directory = Path(args.results_dir)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        report.draw_chart(output, directory / "latest.png")
    except Exception as exc:
        errors.append(f"chart: {exc!r}")
        output["ok"] = False
        traceback.print_exc()
    path = report.write_json(output, directory)
    print()
    print(report.format_table(rows))
    print()
    load = output["machine"]
    print(
        "Targets of issue 15, each ratio against a baseline of this run (load "
        f"average at start {load['load_average']}, at end {load['load_average_end']}):"
    )
    print(report.format_targets(output["targets"]))
    print()
    print(
        f"bench: {output['mode']} run in {output['duration_seconds']} s; "
        f"lost events {lost}, duplicates {duplicates}; results {path} "
        f"(and latest.json, latest.png)"
    )
    if errors:
        print("bench: harness errors:\n  " + "\n  ".join(errors))
    return 0 if output["ok"] else 1


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _count(results: dict, key: str):
    """Every scenario that checks events reports its ``lost`` and ``duplicates``."""
    for result in results.values():
        value = result.get(key)
        if isinstance(value, int):
            yield value


if __name__ == "__main__":
    sys.exit(main())
