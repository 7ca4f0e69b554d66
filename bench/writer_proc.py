"""One concurrent-writer process of the ``writers`` scenario; run by the harness.

``python -m bench.writer_proc --threads 8 --seconds 5 --start-at T`` sets Django up on
the bench database, waits until ``time.time()`` reaches ``T`` (so two processes start
together), then runs ``--threads`` threads, each in a loop
``with transaction.atomic(): emit(...)``, for ``--seconds``. It prints one JSON line:
``{"events": n, "seconds": s, "errors": k}``. No HTTP: this measures the event core.

``--hold-ms M`` has each transaction also spend ``M`` ms in the database after its
emit (``SELECT pg_sleep``): the rest of a real transaction, which the old design's
lock (taken at the insert, held to COMMIT) serialized across every process.

``--global-lock`` is the design this core replaced, emulated: every transaction takes
one transaction-level advisory lock before its insert and holds it to its COMMIT, as
each emitting transaction did, so writers of every process queue on it.

``--raw`` runs the baseline instead: the same loop with plain psycopg, one INSERT of
an event-sized row into a scratch table and a COMMIT per transaction, which is what a
durable single-event transaction costs this PostgreSQL with no Django in the way.
"""

import argparse
import json
import os
import sys
import threading
import time
import uuid
from functools import partial

SCRATCH = "bench_raw_events"


# Not the numbering's key: the emulated old lock must not queue the numbering.
OLD_LOCK_KEY = 0x6F6C_645F_6C6B


def _django_loop(
    stop_at: float,
    counts: list[int],
    index: int,
    errors: list,
    *,
    hold_ms: float,
    global_lock: bool,
) -> None:
    from django.db import connection, transaction

    from brain.events import emit

    mission_id = str(uuid.uuid4())
    n = 0
    try:
        while time.time() < stop_at:
            with transaction.atomic():
                if global_lock:
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT pg_advisory_xact_lock(%s)", [OLD_LOCK_KEY]
                        )
                emit(
                    "mission.log_appended",
                    {
                        "mission_id": mission_id,
                        "log_level": "info",
                        "message": f"writer {index} line {n}",
                        "appended_at": time.time(),
                    },
                )
                if hold_ms:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_sleep(%s)", [hold_ms / 1000])
            n += 1
    except Exception as exc:  # the count so far still stands
        errors.append(repr(exc))
    finally:
        counts[index] = n
        connection.close()


def _raw_loop(stop_at: float, counts: list[int], index: int, errors: list) -> None:
    import psycopg
    from psycopg.types.json import Jsonb

    n = 0
    try:
        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            while time.time() < stop_at:
                conn.execute(
                    f"INSERT INTO {SCRATCH} (event_id, type, payload) "  # noqa: S608
                    "VALUES (%s, %s, %s)",
                    [
                        uuid.uuid4(),
                        "mission.log_appended",
                        Jsonb({"message": f"writer {index} line {n}"}),
                    ],
                )
                conn.commit()
                n += 1
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        counts[index] = n


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--hold-ms", type=float, default=0.0)
    parser.add_argument("--global-lock", action="store_true")
    parser.add_argument("--raw", action="store_true")
    args = parser.parse_args()
    if args.raw and (args.hold_ms or args.global_lock):
        parser.error("--raw takes neither --hold-ms nor --global-lock")
    loop = _raw_loop
    if not args.raw:
        import django

        django.setup()
        loop = partial(_django_loop, hold_ms=args.hold_ms, global_lock=args.global_lock)
    # Set up before the start time, so both processes begin writing together.
    print(json.dumps({"ready": True}), flush=True)
    delay = args.start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    stop_at = time.time() + args.seconds
    counts = [0] * args.threads
    errors: list[str] = []
    started = time.perf_counter()
    threads = [
        threading.Thread(
            target=loop,
            args=(stop_at, counts, i, errors),
        )
        for i in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {"events": sum(counts), "seconds": round(seconds, 3), "errors": errors[:5]}
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
