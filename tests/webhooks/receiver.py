"""A real HTTP server that receives webhooks: it records every request and answers
what the test scripted."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: bytes = b"ok"


class Receiver:
    """``Receiver()`` serves on 127.0.0.1; ``answers`` maps a path to the answers it
    gives in turn (then ``default``); ``received`` is every request, in order."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: dict[str, list[Answer]] = {}
        self.default: dict[str, Answer] = {}
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                answer = receiver._answer_for(self.path)
                if answer.delay:
                    time.sleep(answer.delay)
                with receiver.changed:
                    receiver.received.append(
                        Received(
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            at=time.monotonic(),
                            status=answer.status,
                        )
                    )
                    receiver.changed.notify_all()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def _answer_for(self, path: str) -> Answer:
        with self.changed:
            queue = self.answers.get(path)
            if queue:
                return queue.pop(0)
            return self.default.get(path, Answer())

    def at(self, path: str = "/hook") -> list[Received]:
        with self.changed:
            return [r for r in self.received if r.path == path]

    def wait_for(self, predicate, timeout: float = 30.0, path: str = "/hook"):
        """Wait until ``predicate(requests to path)`` holds; return those requests."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                got = [r for r in self.received if r.path == path]
                if predicate(got):
                    return got
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out: {len(got)} requests to {path}: "
                        f"{[(r.status, r.headers.get('webhook-id')) for r in got]}"
                    )
                self.changed.wait(remaining)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
