"""Reading a Server-Sent Events stream the way ``curl -N`` prints it."""

import json
import selectors
import subprocess
import time
from dataclasses import dataclass


@dataclass
class Message:
    id: str | None
    event: str | None
    data: str
    comments: int = 0

    @property
    def json(self) -> dict:
        return json.loads(self.data)


class Curl:
    """``curl -N`` on the stream, in a subprocess; ``messages`` as parsed so far."""

    def __init__(self, url: str, *headers: str) -> None:
        args = ["curl", "-sS", "-N", "--max-time", "60", url]
        for header in headers:
            args += ["-H", header]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE)
        self.messages: list[Message] = []
        self.comments: list[str] = []
        self._buffer = b""
        self._fields: dict[str, str] = {}
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.process.stdout, selectors.EVENT_READ)

    def _feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        while b"\n" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\n", 1)
            line = raw.decode()
            if line == "":
                if "data" in self._fields:
                    self.messages.append(
                        Message(
                            id=self._fields.get("id"),
                            event=self._fields.get("event"),
                            data=self._fields["data"],
                        )
                    )
                self._fields = {}
            elif line.startswith(":"):
                self.comments.append(line)
            else:
                name, _, value = line.partition(":")
                self._fields[name] = value.removeprefix(" ")

    def read_until(self, predicate, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out with {[(m.id, m.event) for m in self.messages]}"
                )
            if self._selector.select(remaining):
                chunk = self.process.stdout.read1(65536)
                if not chunk:
                    raise AssertionError("the stream ended")
                self._feed(chunk)
        return self.messages

    def events(self) -> list[Message]:
        """Event messages (not control ones)."""
        return [m for m in self.messages if "control" not in m.json]

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self._selector.close()
