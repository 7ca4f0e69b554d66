"""Scenario 3: REST requests per second under ``wrk``, against a plain Django view
and, for the log append, against the peer baseline.

``wrk`` (one thread, a few keep-alive connections) drives, on the same server: log
append (one line per POST), mission create, mission list (a page of 50 out of a
few hundred) and a robot's state report (one report, 12 motors). The baseline is
``/bench/plain``: a ``JsonResponse`` behind the same middleware, without DRF or the
database. The runs alternate with the baseline's, in rounds; each is divided by the
mean of the baseline runs either side of it, and the median over the rounds is the
ratio, which evens out drift on a shared machine.

The peer baseline (issue 15, row 2; ``bench/peer_app.py``, on the same uvicorn
flags beside the app) gets the very same log-append script in each round, right
after the app's; the ratio is the median of the rounds' app / peer.
"""

import os
import re
import statistics
import subprocess

from bench.clients import HarnessError
from bench.config import WRK_DIR
from bench.scenarios import Context, create_mission
from bench.servers import ensure_wrk

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
    "robot_state": ("robot_state.lua", "/api/hardware/robots/{robot}/state"),
}
ENDPOINTS = ("mission_list", "log_append", "mission_create", "robot_state")
TARGETS = {
    "log_append": 0.5,
    "mission_create": 0.4,
    "robot_state": 0.4,
    "mission_list": 0.4,
}
PEER_TARGET = 0.3
BENCH_ROBOT = "bench-wrk-robot"


def wrk(
    ctx: Context,
    script: str,
    path: str,
    seconds: int,
    mission_id: str,
    *,
    base_url: str | None = None,
) -> dict:
    env = {
        **os.environ,
        "BENCH_TOKEN": ctx.token,
        "BENCH_MISSION": mission_id,
        "BENCH_ROBOT": BENCH_ROBOT,
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
        (base_url or ctx.server.url) + path,
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
        response = api.post(
            "/api/hardware/robots",
            json={"robot_id": BENCH_ROBOT, "name": "wrk", "model": "unitree_go2"},
        )
        if response.status_code not in (201, 409):
            raise HarnessError(f"robot register: {response.status_code}")

    def measure(name: str) -> dict:
        script, path = SCRIPTS[name]
        path = path.format(mission=mission_id, robot=BENCH_ROBOT)
        return wrk(ctx, script, path, plan.wrk_seconds, mission_id)

    def measure_peer(seconds: int) -> dict:
        script, path = SCRIPTS["log_append"]
        return wrk(
            ctx,
            script,
            path.format(mission=mission_id),
            seconds,
            mission_id,
            base_url=ctx.peer.url,
        )

    if plan.wrk_warmup_seconds:
        for script, path in SCRIPTS.values():
            wrk(
                ctx,
                script,
                path.format(mission=mission_id, robot=BENCH_ROBOT),
                plan.wrk_warmup_seconds,
                mission_id,
            )
        if ctx.peer:
            measure_peer(plan.wrk_warmup_seconds)
    # Rounds of (plain, list, append, peer append, create, state), closed by a last
    # plain: each figure is compared with the plain runs either side of it, then
    # the rounds' median taken; the append also with the peer run right after it.
    plain = [measure("plain")]
    runs: dict[str, list[dict]] = {name: [] for name in ENDPOINTS}
    peer_runs: list[dict] = []
    for _ in range(plan.rest_rounds):
        for name in ENDPOINTS:
            runs[name].append(measure(name))
            if name == "log_append" and ctx.peer:
                peer_runs.append(measure_peer(plan.wrk_seconds))
        plain.append(measure("plain"))
    plain_rps = [p["requests_per_second"] for p in plain]
    rows = {}
    for name in ENDPOINTS:
        ratios = [
            r["requests_per_second"] / ((plain_rps[i] + plain_rps[i + 1]) / 2)
            for i, r in enumerate(runs[name])
        ]
        value = statistics.median(ratios)
        target = TARGETS.get(name)
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
            "target": target,
            "met": value >= target if target else None,
        }
    peer = None
    if peer_runs:
        peer_ratios = [
            app["requests_per_second"] / p["requests_per_second"]
            for app, p in zip(runs["log_append"], peer_runs, strict=True)
        ]
        value = statistics.median(peer_ratios)
        peer = {
            "requests_per_second": round(
                statistics.median(p["requests_per_second"] for p in peer_runs), 1
            ),
            "app_requests_per_second": rows["log_append"]["requests_per_second"],
            "ratio": round(value, 3),
            "round_ratios": [round(x, 3) for x in peer_ratios],
            "peer_to_plain": round(
                statistics.median(p["requests_per_second"] for p in peer_runs)
                / statistics.median(plain_rps),
                3,
            ),
            "target": PEER_TARGET,
            "met": value >= PEER_TARGET,
            "runs": peer_runs,
        }
    return {
        "connections": plan.wrk_connections,
        "seconds": plan.wrk_seconds,
        "rounds": plan.rest_rounds,
        "baseline": {"plain_runs": plain},
        "endpoints": rows,
        "peer": peer,
    }
