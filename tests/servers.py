"""Real server processes and real WebSocket clients for the tests."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import websockets

from bench import config
from bench.servers import Server, free_port

ROOT = Path(__file__).resolve().parent.parent


class ServerProcess(Server):
    """``uvicorn brain.asgi:application`` in a subprocess, with ``bin/run``'s flags.

    The launcher is the bench's (one way to start a server for both); a test passes
    its port so that a killed server can come back where its clients were.
    """

    def __init__(self, *, port: int, env: dict[str, str]) -> None:
        super().__init__(env=env, port=port, args=config.TEST_UVICORN_ARGS)


def ws_headers(*, token: str | None = None, cookie: str | None = None) -> dict:
    headers = {}
    if token:
        headers["Authorization"] = f"Token {token}"
    if cookie:
        headers["Cookie"] = cookie
    return headers


async def ws_connect(
    server: ServerProcess,
    query: str = "",
    *,
    token: str | None = None,
    cookie: str | None = None,
    origin: str | None = None,
    path: str = "/ws/events/",
):
    url = f"{server.ws_url}{path}" + (f"?{query}" if query else "")
    return await websockets.connect(
        url,
        additional_headers=ws_headers(token=token, cookie=cookie),
        origin=origin,
        open_timeout=5,
        max_size=None,
    )


async def next_frame(ws, timeout: float = 5.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def collect_events(ws, count: int, timeout: float = 10.0) -> list[dict]:
    """Read frames until ``count`` envelopes arrived, skipping control frames."""
    events: list[dict] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(events) < count:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise AssertionError(f"got {len(events)} of {count} events: {events}")
        frame = await next_frame(ws, remaining)
        if "control" not in frame:
            events.append(frame)
    return events


async def quiet(ws, seconds: float = 0.5) -> list[dict]:
    """Frames that arrive within ``seconds`` (to prove nothing more comes)."""
    frames = []
    try:
        while True:
            frames.append(await next_frame(ws, seconds))
    except TimeoutError:
        return frames


class RedisProcess:
    """A private ``redis-server`` that a test may stop and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=5)


@contextlib.contextmanager
def bin_run(env: dict[str, str], folder: Path, *, port: int, timeout: float = 180):
    """``bin/run`` as a user starts it, in a session of its own; yields the process,
    its URL and its log once ``/api/health`` answers (any status), and stops it
    (SIGTERM, then SIGKILL) at the end."""
    import httpx

    log = folder / "run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bin/run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                httpx.get(f"{url}/api/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield process, url, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
