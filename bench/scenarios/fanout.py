"""Scenario 1: one producer, N WebSocket subscribers; events delivered per second.

The app: N sockets on ``/ws/events/`` filtered to one mission's log lines; one
producer posts E log lines (batches of 100 per request); every socket must get all E
events, in ``seq`` order, each once. Time runs from the first POST to the last event
on the last socket. The baseline: ``bench/baseline_app.py`` on the same uvicorn
flags, N sockets, the very same E frames (read back from the log and encoded as the
app encodes them), fired at once. App and baseline alternate ``fanout_repeats``
times; the ratio is the median of the rounds' ratios.

Two figures: events delivered per second (wall clock; on a 2-core machine the
client processes compete for the CPU and cap both sides alike), and events per
second of *server* CPU, which the clients cannot cap.
"""

import json
import statistics
import time

import httpx

from bench.clients import HarnessError, SocketClients
from bench.scenarios import Context, create_mission, head_seq, log_lines, ratio
from bench.servers import db_connect
from bench.wsclient import digest_of

TARGET = 0.5
BATCH = 100


def _frames(mission_id: str, after: int) -> tuple[list[int], list[str]]:
    """The mission's log events past ``after``: seqs and their exact wire text."""
    with db_connect() as conn:
        rows = conn.execute(
            "SELECT seq, event_id, type, source, target, occurred_at, payload, meta "
            "FROM events_eventlog WHERE seq > %s "
            "AND subjects @> ARRAY[%s]::text[] "
            "AND type = 'mission.log_appended' ORDER BY seq",
            [after, f"mission_{mission_id}"],
        ).fetchall()
    seqs, texts = [], []
    for seq, event_id, type_, source, target, occurred_at, payload, meta in rows:
        envelope = {
            "id": str(event_id),
            "type": type_,
            "source": source,
            "target": target,
            "timestamp": occurred_at.timestamp(),
            "payload": payload,
            "meta": {**meta, "seq": seq},
        }
        seqs.append(seq)
        texts.append(json.dumps(envelope, separators=(",", ":"), default=str))
    return seqs, texts


def _check(result: dict, sockets: int, seqs: list[int]) -> dict:
    expected = sockets * len(seqs)
    good = result["digests"].get(digest_of(seqs), 0)
    return {
        "expected": expected,
        "received": result["received"],
        "lost": max(expected - result["received"], 0),
        "duplicates": result["not_growing"],
        "sockets_complete_and_in_order": good,
        "all_delivered": good == sockets and result["received"] == expected,
    }


def _timing(result: dict, started: float) -> dict:
    elapsed = result["last_at"] - started
    return {
        "seconds": round(elapsed, 4),
        "client_cpu_seconds": result["client_cpu_seconds"],
        "events_per_second": round(result["received"] / elapsed, 1)
        if elapsed > 0
        else None,
    }


def _per_cpu(side: dict) -> float | None:
    """Events delivered per second of server CPU: throughput the clients can't cap."""
    if not side["server_cpu_seconds"]:
        return None
    return round(side["received"] / side["server_cpu_seconds"], 1)


def _app_round(ctx: Context, sockets: int, events: int) -> tuple[dict, list, list]:
    procs = ctx.plan.fanout_client_procs
    timeout = 30 + sockets * events / 2000
    with ctx.api() as api:
        mission_id = create_mission(api, f"fan-out {sockets}")
        query = f"types=mission.log_appended&subject=mission_{mission_id}"
        with SocketClients(
            f"{ctx.server.ws_url}/ws/events/?{query}",
            sockets,
            procs=procs,
            token=ctx.token,
        ) as clients:
            clients.open()
            after = head_seq()
            clients.start_collecting(events, timeout)
            cpu0 = ctx.server.cpu_seconds()
            started = time.monotonic()
            lines = log_lines("fan-out", events)
            for i in range(0, events, BATCH):
                response = api.post(
                    f"/api/missions/{mission_id}/log", json=lines[i : i + BATCH]
                )
                if response.status_code != 201:
                    raise HarnessError(f"log append: {response.status_code}")
            result = clients.results(timeout + 30)
            cpu = ctx.server.cpu_seconds() - cpu0
    seqs, texts = _frames(mission_id, after)
    if len(seqs) != events:
        raise HarnessError(f"{len(seqs)} of {events} events in the log")
    app = {**_check(result, sockets, seqs), **_timing(result, started)}
    app["server_cpu_seconds"] = round(cpu, 3)
    return app, seqs, texts


def _baseline_round(ctx: Context, sockets: int, seqs: list, texts: list) -> dict:
    base = ctx.baseline
    timeout = 30 + sockets * len(seqs) / 2000
    with httpx.Client(base_url=base.url, timeout=60) as http:
        http.post("/prepare", content=json.dumps(texts)).raise_for_status()
        with SocketClients(
            f"{base.ws_url}/ws", sockets, procs=ctx.plan.fanout_client_procs
        ) as clients:
            clients.open()
            clients.start_collecting(len(seqs), timeout)
            cpu0 = base.cpu_seconds()
            started = time.monotonic()
            http.post("/fire").raise_for_status()
            result = clients.results(timeout + 30)
            cpu = base.cpu_seconds() - cpu0
    baseline = {**_check(result, sockets, seqs), **_timing(result, started)}
    baseline["server_cpu_seconds"] = round(cpu, 3)
    return baseline


def _summary(rounds: list[dict]) -> dict:
    return {
        "events_per_second": statistics.median(
            r["events_per_second"] or 0 for r in rounds
        ),
        "server_cpu_seconds": statistics.median(
            r["server_cpu_seconds"] for r in rounds
        ),
        "expected": sum(r["expected"] for r in rounds),
        "received": sum(r["received"] for r in rounds),
        "lost": sum(r["lost"] for r in rounds),
        "duplicates": sum(r["duplicates"] for r in rounds),
        "all_delivered": all(r["all_delivered"] for r in rounds),
        "rounds": rounds,
    }


def run_one(ctx: Context, sockets: int, events: int) -> dict:
    """App then baseline, ``fanout_repeats`` times; each figure is a median."""
    app_rounds, base_rounds, ratios, cpu_ratios = [], [], [], []
    for _ in range(ctx.plan.fanout_repeats):
        app, seqs, texts = _app_round(ctx, sockets, events)
        baseline = _baseline_round(ctx, sockets, seqs, texts)
        app_rounds.append(app)
        base_rounds.append(baseline)
        ratios.append(ratio(app["events_per_second"], baseline["events_per_second"]))
        cpu_ratios.append(ratio(_per_cpu(app), _per_cpu(baseline)))
    app, baseline = _summary(app_rounds), _summary(base_rounds)
    value = statistics.median(r or 0 for r in ratios)
    cpu_value = statistics.median(r or 0 for r in cpu_ratios)
    return {
        "subscribers": sockets,
        "events": events,
        "repeats": len(ratios),
        "frame_bytes": round(sum(map(len, texts)) / len(texts)),
        "app": app,
        "baseline": baseline,
        "ratio": round(value, 3),
        "round_ratios": [round(r or 0, 3) for r in ratios],
        "target": TARGET,
        "met": value >= TARGET,
        "app_events_per_cpu_second": _per_cpu(
            {
                "received": events * sockets,
                "server_cpu_seconds": app["server_cpu_seconds"],
            }
        ),
        "baseline_events_per_cpu_second": _per_cpu(
            {
                "received": events * sockets,
                "server_cpu_seconds": baseline["server_cpu_seconds"],
            }
        ),
        "cpu_ratio": round(cpu_value, 3),
        "round_cpu_ratios": [round(r or 0, 3) for r in cpu_ratios],
        "cpu_met": cpu_value >= TARGET,
        "lost": app["lost"] + baseline["lost"],
        "duplicates": app["duplicates"] + baseline["duplicates"],
        "all_delivered": app["all_delivered"] and baseline["all_delivered"],
    }


def run(ctx: Context) -> dict:
    runs = [run_one(ctx, n, e) for n, e in sorted(ctx.plan.fanout.items())]
    return {
        "runs": runs,
        "lost": sum(r["lost"] for r in runs),
        "duplicates": sum(r["duplicates"] for r in runs),
        "all_delivered": all(r["all_delivered"] for r in runs),
    }
