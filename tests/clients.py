"""A WebSocket client that behaves as the dashboard does: reconnect, resume, dedupe.

Used by the fault tests and the soak script. It remembers the highest ``meta.seq``
it processed, reconnects on its own with backoff and jitter, resumes with
``since=<that seq>``, and drops anything it already has.
"""

import asyncio
import json
import random

import websockets


class ResumingClient:
    def __init__(self, ws_url: str, token: str, query: str = "") -> None:
        self.ws_url = ws_url
        self.token = token
        self.query = query
        self.last_seq: int | None = None
        self.events: list[dict] = []
        self.duplicates = 0
        self.reconnects = 0
        self.resets = 0
        self._task: asyncio.Task | None = None
        self._connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def connected(self, timeout: float = 10) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _url(self) -> str:
        params = [p for p in (self.query,) if p]
        if self.last_seq is not None:
            params.append(f"since={self.last_seq}")
        return f"{self.ws_url}/ws/events/" + ("?" + "&".join(params) if params else "")

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                async with websockets.connect(
                    self._url(),
                    additional_headers={"Authorization": f"Token {self.token}"},
                    open_timeout=5,
                    max_size=None,
                ) as ws:
                    delay = 0.1
                    async for text in ws:
                        self._handle(json.loads(text))
            except asyncio.CancelledError:
                raise
            except (OSError, websockets.exceptions.WebSocketException):
                pass
            self._connected.clear()
            self.reconnects += 1
            await asyncio.sleep(delay + random.uniform(0, delay))  # noqa: S311
            delay = min(delay * 2, 2.0)

    def _handle(self, frame: dict) -> None:
        control = frame.get("control")
        if control is not None:
            if control in ("subscribed", "reset") and self.last_seq is None:
                self.last_seq = frame["last_seq"]
            if control == "reset":
                self.resets += 1
                self.last_seq = frame["last_seq"]
            self._connected.set()
            return
        seq = frame["meta"]["seq"]
        if self.last_seq is not None and seq <= self.last_seq:
            self.duplicates += 1
            return
        self.last_seq = seq
        self.events.append(frame)

    async def wait_for(self, count: int, timeout: float = 20) -> list[dict]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.events) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"got {len(self.events)} of {count} events")
            await asyncio.sleep(0.05)
        return self.events
