"""The scenarios of issues 9 and 15; each returns a JSON-able dict with its rows."""

from dataclasses import dataclass, field

import httpx

from bench.config import Plan
from bench.servers import Server, db_connect


@dataclass
class Context:
    plan: Plan
    token: str
    server: Server
    baseline: Server
    uvicorn_args: tuple[str, ...]
    # The peer baseline of issue 15 (bench/peer_app.py), beside the app.
    peer: Server | None = None
    notes: list[str] = field(default_factory=list)

    def api(self, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(
            base_url=self.server.url,
            headers={"Authorization": f"Token {self.token}"},
            timeout=timeout,
        )


def create_mission(api: httpx.Client, name: str) -> str:
    response = api.post("/api/missions", json={"name": name})
    response.raise_for_status()
    return response.json()["id"]


def log_lines(prefix: str, count: int) -> list[dict]:
    return [
        {"message": f"{prefix} line {i:06d}", "level": "info", "data": {"i": i}}
        for i in range(count)
    ]


def head_seq() -> int:
    with db_connect() as conn:
        return conn.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM events_eventlog"
        ).fetchone()[0]


def log_event_seqs(mission_id: str, after: int) -> list[int]:
    """The ``mission.log_appended`` seqs of a mission past ``after``, in order."""
    with db_connect() as conn:
        rows = conn.execute(
            "SELECT seq FROM events_eventlog WHERE seq > %s "
            "AND subjects @> ARRAY[%s]::text[] "
            "AND type = 'mission.log_appended' ORDER BY seq",
            [after, f"mission_{mission_id}"],
        ).fetchall()
    return [row[0] for row in rows]


def ratio(value: float | None, baseline: float | None) -> float | None:
    if not value or not baseline:
        return None
    return value / baseline
