"""Scenario 3: REST requests per second under ``wrk``, against a plain Django view.

``wrk`` (one thread, a few keep-alive connections) drives, on the same server: log
append (one line per POST), mission create, and mission list (a page of 50 out of
a few hundred). The baseline is ``/bench/plain``: a ``JsonResponse`` behind the same
middleware, without DRF or the database; it is measured before and after the three,
and their mean is used, which evens out drift on a shared machine.
"""

import os
import re
import subprocess

from bench.clients import HarnessError
from bench.config import WRK_DIR
from bench.scenarios import Context, create_mission, ratio
from bench.servers import ensure_wrk

TARGET = 0.5
REQUESTS_PER_SECOND = re.compile(r"Requests/sec:\s+([\d.]+)")
RESULT = re.compile(r"BENCH_RESULT requests=(\d+) errors_status=(\d+)")
LATENCY = re.compile(r"Latency\s+([\d.]+)(us|ms|s)")
SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+)")
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


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

    def measure(script: str, path: str) -> dict:
        if plan.wrk_warmup_seconds:
            wrk(ctx, script, path, plan.wrk_warmup_seconds, mission_id)
        return wrk(ctx, script, path, plan.wrk_seconds, mission_id)

    plain_before = measure("plain.lua", "/bench/plain")
    endpoints = {
        "mission_list": measure("mission_list.lua", "/api/missions?page_size=50"),
        "log_append": measure("log_append.lua", f"/api/missions/{mission_id}/log"),
        "mission_create": measure("mission_create.lua", "/api/missions"),
    }
    plain_after = measure("plain.lua", "/bench/plain")
    baseline = (
        plain_before["requests_per_second"] + plain_after["requests_per_second"]
    ) / 2
    rows = {}
    for name, result in endpoints.items():
        value = ratio(result["requests_per_second"], baseline)
        rows[name] = {
            **result,
            "baseline_requests_per_second": round(baseline, 1),
            "ratio": round(value, 3) if value else None,
            "target": TARGET if name == "log_append" else None,
            "met": bool(value and value >= TARGET) if name == "log_append" else None,
        }
    return {
        "connections": plan.wrk_connections,
        "seconds": plan.wrk_seconds,
        "baseline": {"before": plain_before, "after": plain_after},
        "endpoints": rows,
    }
