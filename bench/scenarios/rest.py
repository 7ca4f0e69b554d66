"""Scenario 3: REST requests per second under ``wrk``, against a plain Django view.

``wrk`` (one thread, a few keep-alive connections) drives, on the same server: log
append (one line per POST), mission create, and mission list (a page of 50 out of
a few hundred). The baseline is ``/bench/plain``: a ``JsonResponse`` behind the same
middleware, without DRF or the database. The runs alternate with the baseline's, in
rounds; each is divided by the mean of the baseline runs either side of it, and the
median over the rounds is the ratio, which evens out drift on a shared machine.
"""

import os
import re
import statistics
import subprocess

from bench.clients import HarnessError
from bench.config import WRK_DIR
from bench.scenarios import Context, create_mission
from bench.servers import ensure_wrk

TARGET = 0.5
REQUESTS_PER_SECOND = re.compile(r"Requests/sec:\s+([\d.]+)")
RESULT = re.compile(r"BENCH_RESULT requests=(\d+) errors_status=(\d+)")
LATENCY = re.compile(r"Latency\s+([\d.]+)(us|ms|s)")
SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+)")
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
SCRIPTS = {
    "plain": ("plain.lua", "/bench/plain"),
    "mission_list": ("mission_list.lua", "/api/missions?page_size=50"),
    "log_append": ("log_append.lua", "/api/missions/{mission}/log"),
    "mission_create": ("mission_create.lua", "/api/missions"),
}
ENDPOINTS = ("mission_list", "log_append", "mission_create")


def wrk(ctx: Context, script: str, path: str, seconds: int, mission_id: str) -> dict:
    env = {
        **os.environ,
        "BENCH_TOKEN": ctx.token,
        "BENCH_MISSION": mission_id,
        "BENCH_WRK_DIR": str(WRK_DIR),
    }
    command = [
        ensure_wrk(),
        "-t1",
        f"-c{ctx.plan.wrk_connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_DIR / script),
        ctx.server.url + path,
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 60
    )
    rps = REQUESTS_PER_SECOND.search(done.stdout)
    result = RESULT.search(done.stdout)
    if done.returncode != 0 or not rps or not result:
        raise HarnessError(f"wrk {script} failed:\n{done.stdout}\n{done.stderr}")
    requests, bad_status = int(result.group(1)), int(result.group(2))
    if requests and bad_status > requests * 0.01:
        raise HarnessError(
            f"wrk {script}: {bad_status} of {requests} responses were not 2xx; "
            f"is the token or the throttle wrong?\n{ctx.server.output()[-1500:]}"
        )
    latency = LATENCY.search(done.stdout)
    socket_errors = SOCKET_ERRORS.search(done.stdout)
    return {
        "requests_per_second": float(rps.group(1)),
        "requests": requests,
        "non_2xx": bad_status,
        "mean_latency_ms": round(float(latency.group(1)) * UNIT_MS[latency.group(2)], 2)
        if latency
        else None,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def run(ctx: Context) -> dict:
    plan = ctx.plan
    with ctx.api() as api:
        mission_id = create_mission(api, "wrk log target")
        for i in range(plan.list_seed_missions):
            api.post("/api/missions", json={"name": f"seed {i}"}).raise_for_status()

    def measure(name: str) -> dict:
        script, path = SCRIPTS[name]
        return wrk(
            ctx, script, path.format(mission=mission_id), plan.wrk_seconds, mission_id
        )

    if plan.wrk_warmup_seconds:
        for script, path in SCRIPTS.values():
            wrk(
                ctx,
                script,
                path.format(mission=mission_id),
                plan.wrk_warmup_seconds,
                mission_id,
            )
    # Rounds of (plain, list, append, create), closed by a last plain: each figure is
    # compared with the plain runs either side of it, then the rounds' median taken.
    plain = [measure("plain")]
    runs: dict[str, list[dict]] = {name: [] for name in ENDPOINTS}
    for _ in range(plan.rest_rounds):
        for name in ENDPOINTS:
            runs[name].append(measure(name))
        plain.append(measure("plain"))
    plain_rps = [p["requests_per_second"] for p in plain]
    rows = {}
    for name in ENDPOINTS:
        ratios = [
            r["requests_per_second"] / ((plain_rps[i] + plain_rps[i + 1]) / 2)
            for i, r in enumerate(runs[name])
        ]
        value = statistics.median(ratios)
        rows[name] = {
            "requests_per_second": round(
                statistics.median(r["requests_per_second"] for r in runs[name]), 1
            ),
            "baseline_requests_per_second": round(statistics.median(plain_rps), 1),
            "ratio": round(value, 3),
            "round_ratios": [round(x, 3) for x in ratios],
            "mean_latency_ms": statistics.median(
                r["mean_latency_ms"] or 0 for r in runs[name]
            ),
            "non_2xx": sum(r["non_2xx"] for r in runs[name]),
            "socket_errors": sum(r["socket_errors"] for r in runs[name]),
            "target": TARGET if name == "log_append" else None,
            "met": value >= TARGET if name == "log_append" else None,
        }
    return {
        "connections": plan.wrk_connections,
        "seconds": plan.wrk_seconds,
        "rounds": plan.rest_rounds,
        "baseline": {"plain_runs": plain},
        "endpoints": rows,
    }
