"""Scenario 4: 10,000 log lines in one ``POST .../log``; lines per second.

Each line must become a ``missions_missionlog`` row and a ``mission.log_appended``
event in ``events_eventlog``: both are counted after every request. The baseline is
PostgreSQL ``COPY`` of the same rows (same columns, same values) into a scratch table
made ``LIKE missions_missionlog INCLUDING ALL`` (its indexes and defaults), committed.
"""

import json
import statistics
import time
from datetime import UTC, datetime

from psycopg.types.json import Jsonb

from bench.clients import HarnessError
from bench.scenarios import Context, create_mission, head_seq, log_lines, ratio
from bench.servers import db_connect

TARGET = 0.25
SCRATCH = "bench_copy_missionlog"


def _count_landed(mission_id: str, after: int, prefix: str) -> tuple[int, int]:
    with db_connect() as conn:
        events = conn.execute(
            # Stored, numbered or not yet (numbering follows the commit).
            "SELECT COUNT(*) FROM events_eventlog WHERE subjects @> ARRAY[%s]::text[] "
            "AND type = 'mission.log_appended' AND payload->>'message' LIKE %s",
            [f"mission_{mission_id}", prefix + " line %"],
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT COUNT(*) FROM missions_missionlog WHERE mission_id = %s "
            "AND message LIKE %s",
            [mission_id, prefix + " line %"],
        ).fetchone()[0]
    return rows, events


def _app_once(ctx: Context, lines: int, n: int) -> dict:
    prefix = f"bulk{n}"
    with ctx.api(timeout=300) as api:
        mission_id = create_mission(api, f"bulk {n}")
        body = json.dumps(log_lines(prefix, lines)).encode()
        after = head_seq()
        started = time.perf_counter()
        response = api.post(
            f"/api/missions/{mission_id}/log",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        seconds = time.perf_counter() - started
    if response.status_code != 201:
        raise HarnessError(f"bulk append: {response.status_code} {response.text[:300]}")
    rows, events = _count_landed(mission_id, after, prefix)
    return {
        "seconds": round(seconds, 4),
        "lines_per_second": round(lines / seconds, 1),
        "request_bytes": len(body),
        "response_bytes": len(response.content),
        "rows": rows,
        "events": events,
        "mission_id": mission_id,
    }


def _copy_once(mission_id: str, lines: int) -> dict:
    now = datetime.now(UTC)
    rows = [
        (mission_id, now, item["level"], item["message"], Jsonb(item["data"]))
        for item in log_lines("copy", lines)
    ]
    with db_connect() as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCRATCH} "
            "(LIKE missions_missionlog INCLUDING ALL)"
        )
        conn.execute(f"TRUNCATE {SCRATCH}")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor().copy(
            f"COPY {SCRATCH} (mission_id, timestamp, level, message, data) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        seconds = time.perf_counter() - started
        copied = conn.execute(f"SELECT COUNT(*) FROM {SCRATCH}").fetchone()[0]
    if copied != lines:
        raise HarnessError(f"COPY wrote {copied} of {lines} rows")
    return {"seconds": round(seconds, 4), "lines_per_second": round(lines / seconds, 1)}


def run(ctx: Context) -> dict:
    lines = ctx.plan.bulk_lines
    app_runs, copy_runs = [], []
    for n in range(ctx.plan.bulk_repeats):
        app = _app_once(ctx, lines, n)
        app_runs.append(app)
        copy_runs.append(_copy_once(app["mission_id"], lines))
    lost = sum(
        max(lines - r["events"], 0) + max(lines - r["rows"], 0) for r in app_runs
    )
    extra = sum(
        max(r["events"] - lines, 0) + max(r["rows"] - lines, 0) for r in app_runs
    )
    app_rate = statistics.median(r["lines_per_second"] for r in app_runs)
    copy_rate = statistics.median(r["lines_per_second"] for r in copy_runs)
    # Each request is compared with the COPY right after it; the median of those.
    value = statistics.median(
        ratio(a["lines_per_second"], c["lines_per_second"]) or 0
        for a, c in zip(app_runs, copy_runs, strict=True)
    )
    return {
        "lines": lines,
        "app": {"lines_per_second": app_rate, "runs": app_runs},
        "baseline": {"lines_per_second": copy_rate, "runs": copy_runs},
        "ratio": round(value, 3) if value else None,
        "target": TARGET,
        "met": bool(value and value >= TARGET),
        "lost": lost,
        "duplicates": extra,
        "all_delivered": lost == 0 and extra == 0,
    }
