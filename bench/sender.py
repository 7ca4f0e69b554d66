"""An open-loop HTTP/1.1 sender whose cost per request is constant.

Run by the harness (``bench/scenarios/latency.py``) in a process of its own, so its
CPU is not the server's and is measured on its own. Request ``i`` is due at
``start + i / rate`` whatever happened to the others: a scheduler puts it on a queue
at that time, and ``connections`` keep-alive connections (plain asyncio streams)
take requests off the queue, write each one's pre-built bytes and read its answer.
No pool, no per-request objects beyond the answer's bytes; a server that falls
behind makes the queue grow, and that time counts as latency, since every figure is
taken from the request's *scheduled* time.

It prints one JSON line at the end: per request its scheduled, written and answered
times (``time.monotonic()``, the same clock in every process of the machine) and
status, plus the process's CPU seconds while sending.
"""

import argparse
import asyncio
import json
import sys
import time
from urllib.parse import urlparse

# A connection idle this long is reopened before use: uvicorn closes idle
# keep-alive connections after 5 s, and a request written into a closing
# connection would be lost without an answer.
IDLE_REOPEN_SECONDS = 3.5


def build_request(host: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """One response: status, whether the server closes the connection, body."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = close = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            close = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
        return status, close, body
    body = await reader.readexactly(length) if length else b""
    return status, close, body


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used_at = 0.0
        self.opened = 0

    async def open(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.used_at = time.monotonic()
        self.opened += 1

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def request(self, data: bytes) -> tuple[int, bytes]:
        if self.writer is None or time.monotonic() - self.used_at > IDLE_REOPEN_SECONDS:
            await self.open()
        self.writer.write(data)
        status, close, body = await read_response(self.reader)
        self.used_at = time.monotonic()
        if close:
            self.close()
        return status, body


async def send_all(args: argparse.Namespace, requests: list[bytes]) -> dict:
    parsed = urlparse(args.url)
    host, port = parsed.hostname, parsed.port or 80
    count = len(requests)
    written = [0.0] * count
    answered = [0.0] * count
    statuses = [0] * count
    errors: list[str] = []
    refusals: list[str] = []
    due: asyncio.Queue = asyncio.Queue()
    connections = [Connection(host, port) for _ in range(args.connections)]
    await asyncio.gather(*(c.open() for c in connections))
    # Warm each connection (and the server) with one request before the clock runs.
    if args.warm_path:
        warm = build_request(f"{host}:{port}", args.warm_path, {}, b"").replace(
            b"POST ", b"GET ", 1
        )
        await asyncio.gather(*(c.request(warm) for c in connections))

    async def work(connection: Connection) -> None:
        while (i := await due.get()) is not None:
            written[i] = time.monotonic()
            try:
                status, body = await connection.request(requests[i])
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                connection.close()
                errors.append(f"{i}: {exc!r}"[:200])
                continue
            answered[i] = time.monotonic()
            statuses[i] = status
            if status >= 300 and len(refusals) < 5:
                refusals.append(f"{status} {body[:200]!r}")

    workers = [asyncio.ensure_future(work(c)) for c in connections]
    start = max(args.start_at, time.monotonic() + 0.05)
    scheduled = [start + i / args.rate for i in range(count)]
    cpu0 = time.process_time()
    wall0 = time.monotonic()
    for i, at in enumerate(scheduled):
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait(i)
    for _ in workers:
        due.put_nowait(None)
    await asyncio.gather(*workers)
    cpu = time.process_time() - cpu0
    wall = time.monotonic() - wall0
    for connection in connections:
        connection.close()
    return {
        "requests": count,
        "rate": args.rate,
        "connections": args.connections,
        "reconnects": sum(c.opened for c in connections) - len(connections),
        "cpu_seconds": round(cpu, 4),
        "wall_seconds": round(wall, 3),
        "cpu_ms_per_request": round(cpu * 1000 / count, 4) if count else None,
        "scheduled": scheduled,
        "written": written,
        "answered": answered,
        "statuses": statuses,
        "errors": errors[:20],
        "error_count": len(errors),
        "refusals": refusals,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="http://host:port")
    parser.add_argument("--path", required=True, help="with {i} for the request")
    parser.add_argument("--body", required=True, help="JSON, with {i} (str.format)")
    parser.add_argument("--token", default="")
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--start-at", type=float, default=0.0, help="monotonic")
    parser.add_argument("--warm-path", default="")
    args = parser.parse_args()
    host = urlparse(args.url).netloc
    headers = {"Content-Type": "application/json"}
    if args.token:
        headers["Authorization"] = f"Token {args.token}"
    requests = [
        build_request(
            host,
            args.path.replace("{i}", str(i)),
            headers,
            args.body.replace("{i}", str(i)).encode(),
        )
        for i in range(args.count)
    ]
    try:
        import uvloop

        result = uvloop.run(send_all(args, requests))
    except ImportError:
        result = asyncio.run(send_all(args, requests))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
