"""Many WebSocket sockets, held by ``bench.wsclient`` processes the harness drives."""

import json
import queue
import subprocess
import sys
import threading
import time
from collections import Counter

from bench.config import ROOT


class HarnessError(RuntimeError):
    """The harness itself failed (not a slow result): the run exits non-zero."""


class _Worker:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.wsclient", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def _read_err(self) -> None:
        for line in self.process.stderr:
            self.stderr.append(line)
            del self.stderr[:-20]

    def send(self, obj: dict) -> None:
        self.process.stdin.write(json.dumps(obj) + "\n")
        self.process.stdin.flush()

    def expect(self, key: str, deadline: float) -> dict:
        while True:
            remaining = deadline - time.monotonic()
            try:
                message = self.lines.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                raise HarnessError(
                    f"client process gave no {key!r} in time; stderr: "
                    + "".join(self.stderr)[-1000:]
                ) from None
            if message is None:
                raise HarnessError(
                    f"client process exited before {key!r}; stderr: "
                    + "".join(self.stderr)[-1000:]
                )
            if key in message:
                return message


class SocketClients:
    """``total`` sockets to ``url``, spread over ``procs`` client processes."""

    def __init__(
        self,
        url: str,
        total: int,
        *,
        procs: int,
        token: str = "",
        compression: str = "deflate",
        concurrency: int = 32,
    ) -> None:
        self.url = url
        self.total = total
        self.sizes = [total // procs + (i < total % procs) for i in range(procs)]
        self.token = token
        self.compression = compression
        self.concurrency = concurrency
        self.workers: list[_Worker] = []

    def open(self, timeout: float = 120.0) -> None:
        for size in self.sizes:
            if size == 0:
                continue
            args = [
                "--url",
                self.url,
                "--count",
                str(size),
                "--concurrency",
                str(self.concurrency),
                "--compression",
                self.compression,
            ]
            if self.token:
                args += ["--token", self.token]
            self.workers.append(_Worker(args, env=None))
        deadline = time.monotonic() + timeout
        ready, errors = 0, []
        for worker in self.workers:
            message = worker.expect("ready", deadline)
            ready += message["ready"]
            errors += message["errors"]
        if ready != self.total:
            raise HarnessError(
                f"opened {ready} of {self.total} sockets to {self.url}: {errors[:3]}"
            )

    def start_collecting(self, expect: int, timeout: float) -> None:
        for worker in self.workers:
            worker.send({"cmd": "collect", "expect": expect, "timeout": timeout})
        deadline = time.monotonic() + 30
        for worker in self.workers:
            worker.expect("collecting", deadline)

    def results(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        parts = [worker.expect("result", deadline)["result"] for worker in self.workers]
        digests: Counter = Counter()
        for part in parts:
            digests.update(dict(part["digests"]))
        with_events = [p for p in parts if p["received"]]
        return {
            "sockets": sum(p["sockets"] for p in parts),
            "received": sum(p["received"] for p in parts),
            "complete": sum(p["complete"] for p in parts),
            "not_growing": sum(p["not_growing"] for p in parts),
            "closed": sum(p["closed"] for p in parts),
            "client_cpu_seconds": round(sum(p["cpu_seconds"] for p in parts), 3),
            "digests": dict(digests),
            "first_at": min((p["first_at"] for p in with_events), default=0.0),
            "last_at": max((p["last_at"] for p in parts), default=0.0),
        }

    def close(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                try:
                    worker.send({"cmd": "close"})
                except (BrokenPipeError, OSError):
                    pass
        for worker in self.workers:
            try:
                worker.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
        self.workers = []

    def __enter__(self) -> "SocketClients":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
