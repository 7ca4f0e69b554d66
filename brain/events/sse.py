"""``GET /api/events/stream``: the socket's events as Server-Sent Events.

The same filters (``types``, ``subject``), permissions, resume (``since``, or the
``Last-Event-ID`` header a browser's ``EventSource`` sends when it reconnects) and
``reset`` rule as ``/ws/events/``; each event's ``id:`` is its ``seq`` and its
``event:`` its type. A comment line every ``EVENTS_SSE_KEEPALIVE_SECONDS`` keeps
proxies from closing an idle stream. ``?format=cloudevents`` sends CloudEvents.

It is a Channels HTTP consumer, routed before Django's HTTP stack (``brain/asgi.py``),
so a stream that stays open for hours holds none of the request slots of
``HTTP_MAX_IN_FLIGHT``; like a socket it is one subscriber of the process's hub,
with a bounded queue, so memory stays flat however long it runs.
"""

import asyncio
import json
import logging
from collections import deque
from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddlewareStack
from channels.exceptions import StopConsumer
from channels.generic.http import AsyncHttpConsumer
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from brain import metrics
from brain.access.machines import confined_subject
from brain.events import cloudevent, revocation, selectors
from brain.events.auth import _header, _user_for_token
from brain.events.consumers import _check_since, _parse_since
from brain.events.cursor import HubCursor
from brain.events.filters import EventFilter, FilterError
from brain.events.hub import get_hub, run_db
from brain.events.registry import readable_types
from brain.events.wire import WireEvent

logger = logging.getLogger(__name__)

# A chunk written to the server at once (several events per write under load).
CHUNK_BYTES = 64 * 1024
_COMPACT = (",", ":")


def _frame(text: str, *, event: str | None = None, id: int | None = None) -> str:
    """One SSE message; ``text`` is one line of JSON (it holds no newline)."""
    head = ""
    if id is not None:
        head += f"id: {id}\n"
    if event is not None:
        head += f"event: {event}\n"
    return f"{head}data: {text}\n\n"


def _control(name: str, *, id: int | None = None, **fields) -> str:
    text = json.dumps({"control": name, **fields}, separators=_COMPACT)
    return _frame(text, event=name, id=id)


class EventSourceConsumer(HubCursor, AsyncHttpConsumer):
    """One SSE stream: a subscriber of the process's hub, written by one task."""

    async def http_request(self, message):
        # The body of a GET is ignored; the stream is written by its own task, so
        # this consumer keeps receiving (and sees the client's disconnect).
        if message.get("more_body"):
            return
        self.writer: asyncio.Task | None = None
        self.hub = None
        self.closing = False
        try:
            await self._open()
        except Exception:
            await self._release()
            raise

    async def http_disconnect(self, message):
        await self._release()
        raise StopConsumer()

    async def _release(self) -> None:
        if self.hub is not None:
            self.hub.remove(self)
            metrics.STREAMS_OPEN.labels("sse").dec()
            self.hub = None
        if self.writer is not None and self.writer is not asyncio.current_task():
            self.writer.cancel()

    async def _refuse(self, status: int, detail: str, headers=()) -> None:
        body = json.dumps({"detail": detail}).encode()
        await self.send_response(
            status,
            body,
            headers=[(b"content-type", b"application/json"), *headers],
        )

    async def _open(self) -> None:
        if self.scope["method"] != "GET":
            return await self._refuse(
                405, "method not allowed: GET only", [(b"allow", b"GET")]
            )
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return await self._refuse(
                401,
                "Authentication credentials were not provided.",
                [(b"www-authenticate", b"Token")],
            )
        self.credential = revocation.credential_of(self.scope)
        self.readable = await run_db(readable_types, user)
        # A machine token (an agent's or a robot's own) follows only its subject.
        confined = await run_db(confined_subject, user)
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        last_event_id = _header(self.scope, b"last-event-id")
        try:
            self.filter = EventFilter.parse(
                query.get("types", [None])[0],
                query.get("subject", [None])[0],
                self.readable,
                confined=confined,
            )
            # A browser's reconnect repeats the URL (and its since=) and sends the
            # last id it saw: that one is where to resume.
            since = _parse_since(
                last_event_id.decode("latin1").strip()
                if last_event_id
                else query.get("since", [None])[0]
            )
            # The socket's rule: a cursor past the log's head names no event.
            await _check_since(since)
            output = query.get("format", ["charter"])[0]
            if output not in ("charter", "cloudevents"):
                raise FilterError("format: expected 'charter' or 'cloudevents'")
        except FilterError as exc:
            return await self._refuse(400, str(exc))
        self.cloudevents = output == "cloudevents"
        self.position = 0
        self.catching_up = True
        self.pending: list[WireEvent] = []
        self.outbox: deque[str | None] = deque()
        self.wakeup = asyncio.Event()
        self.queue_limit = settings.EVENTS_SOCKET_QUEUE_LIMIT
        # Registered (its position taken) before the client sees the response.
        self.hub = get_hub()
        head = await self.hub.add(self)
        metrics.STREAMS_OPEN.labels("sse").inc()
        await self.send_headers(
            status=200,
            headers=[
                (b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-cache, no-store"),
                (b"x-accel-buffering", b"no"),
                (b"x-content-type-options", b"nosniff"),
            ],
        )
        # The browser waits this long before it reconnects.
        self._enqueue("retry: 2000\n\n")
        self.writer = asyncio.create_task(self._write_loop())
        await self._subscribe(since, head)

    # Subscribing and resuming: the socket's rules (brain/events/consumers.py) ------

    async def _subscribe(self, since: int | None, head: int) -> None:
        described = self.filter.describe()
        if since is None:
            self._enqueue(_control("subscribed", id=head, last_seq=head, **described))
            return self._finish_catch_up(head)
        if since > head and since <= await run_db(selectors.log_head):
            # It saw events on a process whose hub is ahead of this one's.
            self._enqueue(_control("subscribed", id=since, last_seq=since, **described))
            return self._finish_catch_up(since)
        if await run_db(selectors.needs_reset, since, head):
            metrics.RESETS.labels("sse").inc()
            self._enqueue(
                _control(
                    "reset",
                    id=head,
                    last_seq=head,
                    detail=f"events after seq {since} are no longer in the log; "
                    "refetch state, then continue from last_seq",
                )
            )
            return self._finish_catch_up(head)
        self._enqueue(
            _control("subscribed", id=since, last_seq=head, replaying=True, **described)
        )
        position = since
        while True:
            events = await run_db(
                selectors.wire_events_after,
                position,
                upto=head,
                event_filter=self.filter,
            )
            for event in events:
                self._enqueue(self._event_text(event))
                position = event.seq
            if len(events) < settings.EVENTS_PAGE_LIMIT:
                break
            while self.outbox and not self.closing:
                await asyncio.sleep(0.005)
        self._finish_catch_up(head)
        self._enqueue(_control("caught_up", last_seq=head))

    # Hub interface ----------------------------------------------------------------

    def deliver(self, event: WireEvent) -> None:
        self._pass(event)

    def revoke(self) -> None:
        """The token or session is gone: stop sending events and end the stream."""
        self._close_with(_control("error", detail="credentials revoked"))

    # Writing ----------------------------------------------------------------------

    def _event_text(self, event: WireEvent) -> str:
        text = cloudevent.encode(event.text) if self.cloudevents else event.text
        return _frame(text, event=event.type, id=event.seq)

    def _close_with(self, notice: str) -> None:
        """Drop what is queued, send ``notice``, end the response."""
        if self.closing:
            return
        if self.hub is not None:
            self.hub.remove(self)
        metrics.QUEUE_DROPS.labels("sse").inc(len(self.outbox))
        self.outbox.clear()
        self.outbox.append(notice)
        self.outbox.append(None)
        self.closing = True
        self.wakeup.set()

    def _enqueue(self, text: str) -> None:
        if self.closing:
            return
        if len(self.outbox) >= self.queue_limit:
            metrics.SLOW_CLOSES.labels("sse").inc()
            self._close_with(
                _control(
                    "error", detail="too slow: reconnect with Last-Event-ID or since"
                )
            )
            return
        self.outbox.append(text)
        self.wakeup.set()

    async def _write_loop(self) -> None:
        keepalive = settings.EVENTS_SSE_KEEPALIVE_SECONDS
        try:
            while True:
                try:
                    await asyncio.wait_for(self.wakeup.wait(), keepalive)
                except TimeoutError:
                    # A comment line: ignored by clients, keeps proxies from
                    # closing an idle connection.
                    await self.send_body(b": keepalive\n\n", more_body=True)
                    continue
                self.wakeup.clear()
                while self.outbox:
                    chunk: list[str] = []
                    size = 0
                    while self.outbox and size < CHUNK_BYTES:
                        text = self.outbox.popleft()
                        if text is None:  # the end, after a notice
                            await self.send_body(
                                "".join(chunk).encode(), more_body=False
                            )
                            return
                        chunk.append(text)
                        size += len(text)
                    await self.send_body("".join(chunk).encode(), more_body=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the client went away
            logger.debug("event stream writer stopped: %r", exc)


class EventSourceAuthMiddleware:
    """Who may open the stream: ``Authorization: Token <key>``, or a session cookie
    (a browser's ``EventSource``) with no ``Origin`` or one of ``ALLOWED_HOSTS``."""

    def __init__(self, inner):
        self.inner = inner
        self.session_stack = AuthMiddlewareStack(inner)
        self.origins = AllowedHostsOriginValidator(inner)

    async def __call__(self, scope, receive, send):
        authorization = _header(scope, b"authorization")
        if authorization is not None:
            scheme, _, key = authorization.decode("latin1").partition(" ")
            user = AnonymousUser()
            if scheme.lower() == "token" and key.strip():
                user = await _user_for_token(key.strip())
            scope = {**scope, "user": user, "auth_method": "token", "token": key}
            return await self.inner(scope, receive, send)
        origin = _header(scope, b"origin")
        if origin is not None:
            try:
                parsed = urlparse(origin.decode("latin1"))
            except ValueError:
                parsed = None
            if parsed is None or not self.origins.valid_origin(parsed):
                scope = {**scope, "user": AnonymousUser()}
                return await self.inner(scope, receive, send)
        scope = {**scope, "auth_method": "session"}
        return await self.session_stack(scope, receive, send)


STREAM_PATH = "/api/events/stream"


def with_event_stream(app):
    """``app`` with ``GET /api/events/stream`` taken out before it: the stream does
    not go through Django's HTTP stack or its request slots."""
    stream = EventSourceAuthMiddleware(EventSourceConsumer.as_asgi())

    async def route(scope, receive, send):
        if scope["type"] == "http" and scope["path"].rstrip("/") == STREAM_PATH:
            return await stream(scope, receive, send)
        return await app(scope, receive, send)

    return route
