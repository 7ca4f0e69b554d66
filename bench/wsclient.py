"""A WebSocket client process: opens many sockets and counts every event on each.

Run by the harness (``bench/clients.py``), never by hand: it keeps its sockets in a
process of its own, so the client's CPU is not the server's. It talks JSON lines:

- it prints ``{"ready": n, "failed": k, "errors": [...]}`` once its sockets are open
  and each has had its first (control) frame;
- ``{"cmd": "collect", "expect": E, "timeout": T}`` on stdin: every socket reads
  until it has ``E`` event frames (or ``T`` seconds pass); it prints
  ``{"collecting": n}`` at once, then ``{"result": {...}}`` with, per socket, the
  count, a digest of the ``seq`` values in arrival order, any ``seq`` that did not
  grow, and the time (``time.monotonic()``, shared by every process) of the first and
  last event;
- ``{"cmd": "close"}``: closes every socket and exits.
"""

import argparse
import asyncio
import hashlib
import json
import re
import sys
import time
from collections import Counter

import websockets
from websockets.asyncio.client import connect

SEQ = re.compile(r'"seq":(\d+)')
CONTROL = '{"control"'


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Tally:
    """One socket's events: how many, in what order, when."""

    __slots__ = ("count", "digest", "not_growing", "last_seq", "first_at", "last_at")

    def __init__(self) -> None:
        self.count = 0
        self.digest = hashlib.blake2b(digest_size=8)
        self.not_growing = 0
        self.last_seq = -1
        self.first_at = 0.0
        self.last_at = 0.0


async def read_events(ws, expect: int, deadline: float) -> Tally:
    tally = Tally()
    try:
        # One timer for the whole read: a timeout per frame would cost a task each.
        async with asyncio.timeout_at(deadline):
            while tally.count < expect:
                text = await ws.recv()
                if text.startswith(CONTROL):
                    continue
                now = time.monotonic()
                seq = int(SEQ.search(text, text.rfind('"seq":')).group(1))
                if seq <= tally.last_seq:
                    tally.not_growing += 1
                tally.last_seq = seq
                tally.digest.update(seq.to_bytes(8, "little"))
                if tally.count == 0:
                    tally.first_at = now
                tally.last_at = now
                tally.count += 1
    except (TimeoutError, websockets.ConnectionClosed):
        pass
    return tally


async def open_socket(url: str, headers: dict, compression, sem, sockets, errors):
    async with sem:
        try:
            ws = await connect(
                url,
                additional_headers=headers,
                compression=compression,
                max_size=None,
                open_timeout=30,
                close_timeout=2,
            )
            first = await asyncio.wait_for(ws.recv(), 30)
            if not first.startswith(CONTROL):
                raise RuntimeError(f"first frame is not a control frame: {first[:80]}")
            sockets.append(ws)
        except Exception as exc:
            errors.append(repr(exc)[:200])


async def main(args: argparse.Namespace) -> None:
    headers = {"Authorization": f"Token {args.token}"} if args.token else {}
    compression = None if args.compression == "none" else "deflate"
    sem = asyncio.Semaphore(args.concurrency)
    sockets: list = []
    errors: list[str] = []
    await asyncio.gather(
        *(
            open_socket(args.url, headers, compression, sem, sockets, errors)
            for _ in range(args.count)
        )
    )
    emit({"ready": len(sockets), "failed": len(errors), "errors": errors[:5]})
    loop = asyncio.get_running_loop()
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        if command["cmd"] == "collect":
            deadline = loop.time() + float(command["timeout"])
            tasks = [
                asyncio.ensure_future(read_events(ws, int(command["expect"]), deadline))
                for ws in sockets
            ]
            emit({"collecting": len(tasks)})
            cpu0 = time.process_time()
            tallies = await asyncio.gather(*tasks)
            cpu = time.process_time() - cpu0
            emit(
                {
                    "result": {
                        "sockets": len(tallies),
                        "received": sum(t.count for t in tallies),
                        "complete": sum(t.count == command["expect"] for t in tallies),
                        "not_growing": sum(t.not_growing for t in tallies),
                        "digests": Counter(
                            t.digest.hexdigest() for t in tallies
                        ).most_common(),
                        "first_at": min(
                            (t.first_at for t in tallies if t.count), default=0
                        ),
                        "last_at": max((t.last_at for t in tallies), default=0),
                        "closed": sum(ws.close_code is not None for ws in sockets),
                        "cpu_seconds": cpu,
                    }
                }
            )
        elif command["cmd"] == "close":
            break
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    emit({"closed": len(sockets)})


def digest_of(seqs) -> str:
    """What a socket reports after receiving ``seqs`` in this order."""
    digest = hashlib.blake2b(digest_size=8)
    for seq in seqs:
        digest.update(int(seq).to_bytes(8, "little"))
    return digest.hexdigest()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    try:
        import uvloop

        uvloop.run(main(parser.parse_args()))
    except ImportError:
        asyncio.run(main(parser.parse_args()))
