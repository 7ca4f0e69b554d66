"""Scenario 7: concurrent writers of the event core, one process and two; events/s.

Each writer process (``bench/writer_proc.py``) runs ``writer_threads`` threads, each in
a loop ``with transaction.atomic(): emit("mission.log_appended", ...)``: no HTTP, so
the figure is the event core's write ceiling. One process runs alone, then two run
at the same time (started together); rounds alternate. A socket on the bench server,
subscribed to that type, must then have received every event the writers stored, in
``seq`` order, once (it resumes with ``since`` if the server closes it as too slow).

The baseline, in the same run: the same threads with plain psycopg, one INSERT of an
event-sized row into a scratch table and a COMMIT per transaction: what a durable
single-row transaction costs this PostgreSQL with nothing else in the way.

Targets (the event core v2 issue): >= 1,500 events/s from one process, >= 1.6x that
from two. (The >= 8x of the old design is read against its figure in
``bench/README.md``, both as a fraction of the psycopg baseline of their own run.)

On a 2-core machine one writer process and its PostgreSQL already use both cores, so
a second process has no CPU to add (``bench/README.md`` works it out). The *held*
runs measure what the old design could not do at any core count: the same 8 threads,
each transaction also spending ``HELD_MS`` in the database after its emit (the rest
of a real transaction). The old lock, taken at the insert and held to COMMIT, capped
every process together at 1000 / ``HELD_MS`` transactions a second; now a second
process adds its share. The held runs are repeated with that lock emulated (one
global advisory lock taken before the insert, held to COMMIT: ``--global-lock``), two
processes, to show the cap in the same run.
"""

import asyncio
import json
import re
import statistics
import subprocess
import sys
import threading
import time

import websockets
from websockets.asyncio.client import connect

from bench import config
from bench.clients import HarnessError
from bench.scenarios import Context, head_seq, ratio
from bench.servers import db_connect
from bench.writer_proc import SCRATCH

TARGET_EVENTS_PER_SECOND = 1500
TARGET_SCALING = 1.6
TYPE = "mission.log_appended"
HELD_MS = 10.0
SEQ = re.compile(r'"seq":(\d+)')


def _run_writers(
    processes: int,
    threads: int,
    seconds: float,
    raw: bool,
    delay: float = 3.0,
    hold_ms: float = 0.0,
    global_lock: bool = False,
) -> dict:
    # Time for every process to import Django, so that two start together.
    start_at = time.time() + delay
    command = [
        sys.executable,
        "-m",
        "bench.writer_proc",
        "--threads",
        str(threads),
        "--seconds",
        str(seconds),
        "--start-at",
        str(start_at),
        "--hold-ms",
        str(hold_ms),
    ]
    command += ["--raw"] if raw else []
    command += ["--global-lock"] if global_lock else []
    procs = [
        subprocess.Popen(
            command,
            cwd=config.ROOT,
            env=config.server_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 120)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise HarnessError(f"writer process failed: {err[-2000:]}")
        result = json.loads(lines[-1])
        if result["errors"]:
            raise HarnessError(f"writer errors: {result['errors']}")
        results.append(result)
    events = sum(r["events"] for r in results)
    wall = max(r["seconds"] for r in results)
    return {
        "processes": processes,
        "threads": threads,
        "events": events,
        "seconds": wall,
        "events_per_second": round(events / wall, 1),
    }


class Subscriber:
    """A socket on the bench server that records every ``seq`` of ``TYPE``."""

    def __init__(self, ctx: Context) -> None:
        self.url = f"{ctx.server.ws_url}/ws/events/?types={TYPE}"
        self.headers = {"Authorization": f"Token {ctx.token}"}
        self.seqs: list[int] = []
        self.reconnects = 0
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Subscriber":
        self.thread.start()
        if not self.ready.wait(30):
            raise HarnessError(f"writers: the subscriber did not open: {self.error}")
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._read())
        except Exception as exc:
            self.error = repr(exc)

    async def _read(self) -> None:
        since = None
        while not self.stop.is_set():
            url = self.url if since is None else f"{self.url}&since={since}"
            try:
                async with connect(
                    url, additional_headers=self.headers, max_size=None
                ) as ws:
                    while not self.stop.is_set():
                        try:
                            text = await asyncio.wait_for(ws.recv(), 0.5)
                        except TimeoutError:
                            continue
                        if text.startswith('{"control"'):
                            self.ready.set()
                            continue
                        seq = int(SEQ.findall(text)[-1])
                        self.seqs.append(seq)
                        since = seq
            except websockets.ConnectionClosed:
                self.reconnects += 1
                if since is None:
                    since = 0

    def wait_for(self, last: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.seqs and self.seqs[-1] >= last:
                return
            time.sleep(0.1)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


def _logged_seqs(after: int, upto: int) -> list[int]:
    with db_connect() as conn:
        rows = conn.execute(
            "SELECT seq FROM events_eventlog WHERE seq > %s AND seq <= %s "
            "AND type = %s ORDER BY seq",
            [after, upto, TYPE],
        ).fetchall()
    return [row[0] for row in rows]


def _prepare_scratch() -> None:
    with db_connect() as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCRATCH} (id bigserial PRIMARY KEY, "
            "event_id uuid NOT NULL UNIQUE, type varchar(100) NOT NULL, "
            "payload jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(f"TRUNCATE {SCRATCH}")
        conn.commit()


def run(ctx: Context) -> dict:
    plan = ctx.plan
    threads, seconds = plan.writer_threads, plan.writer_seconds
    _prepare_scratch()
    subscriber = Subscriber(ctx).start()
    try:
        first = head_seq()
        rounds = []
        for _ in range(plan.writer_rounds):
            delay = plan.writer_start_delay
            one = _run_writers(1, threads, seconds, raw=False, delay=delay)
            two = _run_writers(2, threads, seconds, raw=False, delay=delay)
            raw = _run_writers(1, threads, seconds, raw=True, delay=delay)
            # Transactions that do more than emit: does a second process add its
            # share, or do writers serialize across processes? (Not in quick mode.)
            held_one = held_two = old_held = {"events_per_second": None}
            if plan.writer_held:
                held_one = _run_writers(1, threads, seconds, False, delay, HELD_MS)
                held_two = _run_writers(2, threads, seconds, False, delay, HELD_MS)
                old_held = _run_writers(
                    2, threads, seconds, False, delay, HELD_MS, True
                )
            rounds.append(
                {
                    "one": one,
                    "two": two,
                    "raw": raw,
                    "held_one": held_one,
                    "held_two": held_two,
                    "old_held": old_held,
                }
            )
        last = head_seq()
        subscriber.wait_for(last, timeout=120)
    finally:
        subscriber.close()
    logged = _logged_seqs(first, last)
    received = [s for s in subscriber.seqs if first < s <= last]
    delivered_in_order = received == logged
    duplicates = len(received) - len(set(received))
    lost = len(set(logged) - set(received))
    one = statistics.median(r["one"]["events_per_second"] for r in rounds)
    two = statistics.median(r["two"]["events_per_second"] for r in rounds)
    raw = statistics.median(r["raw"]["events_per_second"] for r in rounds)
    scaling = ratio(two, one)
    held_one = held_two = old_held = None
    if plan.writer_held:
        held_one = statistics.median(r["held_one"]["events_per_second"] for r in rounds)
        held_two = statistics.median(r["held_two"]["events_per_second"] for r in rounds)
        old_held = statistics.median(r["old_held"]["events_per_second"] for r in rounds)
    return {
        "threads": threads,
        "seconds_per_run": seconds,
        "rounds": rounds,
        "one_process_events_per_second": one,
        "two_processes_events_per_second": two,
        "raw_events_per_second": raw,
        "ratio_to_raw": ratio(one, raw),
        "scaling": scaling,
        "held_ms": HELD_MS,
        "held_one_process_events_per_second": held_one,
        "held_two_processes_events_per_second": held_two,
        "held_scaling": ratio(held_two, held_one),
        "old_lock_held_two_processes_events_per_second": old_held,
        "events_logged": len(logged),
        "events_received": len(received),
        "delivered_in_order": delivered_in_order,
        "reconnects": subscriber.reconnects,
        "lost": lost,
        "duplicates": duplicates,
        "met": one >= TARGET_EVENTS_PER_SECOND
        and (scaling or 0) >= TARGET_SCALING
        and delivered_in_order,
    }
