"""The peer baseline (issue 15, row 2): the smallest honest async endpoint doing the
durable write of ``POST /api/missions/{id}/log``.

A raw ASGI app + asyncpg + redis.asyncio, no framework. Per request it does what the
app's one-line append must: authenticate the token (one query on
``authtoken_token``), check the body's shape (``message`` a non-empty string,
``level`` one of the app's, ``data`` an object), then in one transaction INSERT the
log row (its foreign key to ``missions_mission`` checked at COMMIT, as Django's is)
and INSERT the event row with its envelope, COMMIT, and only then PUBLISH the
envelope to Redis; it answers 201 with the entry. The rows go to scratch tables made
``LIKE`` the app's (every column, default, index and check; the foreign key added),
so the app's own log and its numbering are left alone. The event row takes its
``seq`` from a sequence in the INSERT: numbered, in one statement.

Run: ``uvicorn bench.peer_app:app`` with ``DATABASE_URL`` and ``REDIS_URL`` set;
the harness makes the tables first (``prepare_tables``).
"""

import asyncio
import json
import os
import uuid
from datetime import UTC, datetime

LOG_TABLE = "bench_peer_missionlog"
EVENT_TABLE = "bench_peer_eventlog"
CHANNEL = "brain-bench:peer"
LEVELS = {"debug", "info", "warning", "error"}
POOL_SIZE = 10

_state: dict = {}
_lock = asyncio.Lock()


def prepare_tables(dsn: str) -> None:
    """Fresh scratch tables shaped as the app's (run by the harness, psycopg)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for table, like in (
            (LOG_TABLE, "missions_missionlog"),
            (EVENT_TABLE, "events_eventlog"),
        ):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} (LIKE {like} INCLUDING ALL)")
        conn.execute(
            f"ALTER TABLE {LOG_TABLE} ADD FOREIGN KEY (mission_id) "
            "REFERENCES missions_mission (id) DEFERRABLE INITIALLY DEFERRED"
        )
        conn.execute(f"DROP SEQUENCE IF EXISTS {EVENT_TABLE}_seq")
        conn.execute(f"CREATE SEQUENCE {EVENT_TABLE}_seq")


async def _resources():
    """The process's pool and Redis client, made on first use (no lifespan)."""
    if not _state:
        async with _lock:
            if not _state:
                import asyncpg
                import redis.asyncio as aioredis

                pool = await asyncpg.create_pool(
                    os.environ["DATABASE_URL"], min_size=1, max_size=POOL_SIZE
                )
                redis = aioredis.Redis.from_url(os.environ["REDIS_URL"])
                # Both at once: a request that skips the lock reads a full state.
                _state.update(pool=pool, redis=redis)
    return _state["pool"], _state["redis"]


async def _read_body(receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _respond(send, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _token(scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            return key.strip() if scheme.lower() == "token" else None
    return None


def _entry(body: bytes) -> dict | str:
    try:
        data = json.loads(body)
    except ValueError:
        return "body: not JSON"
    if not isinstance(data, dict):
        return "body: expected an object"
    message, level = data.get("message"), data.get("level", "info")
    extra = data.get("data", {})
    if not isinstance(message, str) or not message:
        return "message: a non-empty string is required"
    if level not in LEVELS:
        return "level: unknown"
    if not isinstance(extra, dict):
        return "data: expected an object"
    return {"message": message, "level": level, "data": extra}


async def _log_append(scope, receive, send, mission_id: str) -> None:
    body = await _read_body(receive)
    key = _token(scope)
    if not key:
        return await _respond(send, 401, {"detail": "token required"})
    entry = _entry(body)
    if isinstance(entry, str):
        return await _respond(send, 400, {"detail": entry})
    try:
        mission = uuid.UUID(mission_id)
    except ValueError:
        return await _respond(send, 404, {"detail": "no such mission"})
    pool, redis = await _resources()
    now = datetime.now(UTC)
    data_text = json.dumps(entry["data"])
    async with pool.acquire() as conn:
        try:
            async with conn.transaction():
                user = await conn.fetchval(
                    "SELECT user_id FROM authtoken_token WHERE key = $1", key
                )
                if user is None:
                    return await _respond(send, 401, {"detail": "invalid token"})
                log_id = await conn.fetchval(
                    f"INSERT INTO {LOG_TABLE} "
                    "(mission_id, timestamp, level, message, data) "
                    "VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id",
                    mission,
                    now,
                    entry["level"],
                    entry["message"],
                    data_text,
                )
                payload = {
                    "mission_id": mission_id,
                    "log_id": log_id,
                    "timestamp": now.isoformat(),
                    "level": entry["level"],
                    "message": entry["message"],
                    "data": entry["data"],
                }
                event_id = uuid.uuid4()
                payload_text = json.dumps(payload)
                seq = await conn.fetchval(
                    f"INSERT INTO {EVENT_TABLE} (seq, event_id, type, source, "
                    "target, occurred_at, payload, meta, subjects) VALUES "
                    f"(nextval('{EVENT_TABLE}_seq'), $1, 'mission.log_appended', "
                    "'mission_service', $2, $3, $4::jsonb, $5::jsonb, $6) "
                    "RETURNING seq",
                    event_id,
                    f"mission_{mission_id}",
                    now,
                    payload_text,
                    json.dumps({"actor": user}),
                    [f"mission_{mission_id}"],
                )
        except Exception as exc:
            if type(exc).__name__ == "ForeignKeyViolationError":
                return await _respond(send, 404, {"detail": "no such mission"})
            raise
    envelope = (
        f'{{"id":"{event_id}","type":"mission.log_appended","seq":{seq},'
        f'"source":"mission_service","time":"{now.isoformat()}",'
        f'"payload":{payload_text}}}'
    )
    await redis.publish(CHANNEL, envelope)
    await _respond(
        send,
        201,
        {"id": log_id, "mission_id": mission_id, **entry, "timestamp": now.isoformat()},
    )


async def _http(scope, receive, send) -> None:
    path, method = scope["path"], scope["method"]
    parts = path.strip("/").split("/")
    if (
        method == "POST"
        and len(parts) == 4
        and parts[:2] == ["api", "missions"]
        and parts[3] == "log"
    ):
        return await _log_append(scope, receive, send, parts[2])
    if path == "/health":
        await _read_body(receive)
        return await _respond(send, 200, {"status": "ok"})
    return await _respond(send, 404, {"detail": "not found"})


async def app(scope, receive, send) -> None:
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
