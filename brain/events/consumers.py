"""``/ws/events/``: Charter events live, with resume, filters and no silent loss.

Query parameters: ``types`` (comma-separated patterns, ``*`` wildcard), ``subject``
(``mission_<id>``, ``robot_<id>``, ``agent_<id>``) and ``since`` (a ``seq``). Event
frames are exactly the envelope; control frames carry a ``control`` key. The frames
and close codes are documented in ``brain/events/README.md``.
"""

import asyncio
import json
import logging
import time
from collections import deque
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from brain import metrics
from brain.access.machines import confined_subject
from brain.events import (
    cloudevent,
    revocation,
    selectors,
    socket_actions,
    socket_limits,
)
from brain.events.cursor import HubCursor
from brain.events.filters import EventFilter, FilterError
from brain.events.hub import get_hub, run_db
from brain.events.registry import readable_types
from brain.events.wire import WireEvent
from brain.security import scope_client, security_event

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
SUBSCRIBES_PER_WINDOW = 10
SUBSCRIBE_WINDOW_SECONDS = 10.0

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4408
CLOSE_TOO_MANY_SOCKETS = 4429


def _control(name: str, **fields) -> str:
    return json.dumps({"control": name, **fields}, separators=(",", ":"))


def _parse_since(value) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise FilterError("since: expected a non-negative integer")
    try:
        since = int(value)
    except (TypeError, ValueError):
        raise FilterError("since: expected a non-negative integer") from None
    if since < 0:
        raise FilterError("since: expected a non-negative integer")
    return since


async def _check_since(since: int | None) -> None:
    """A ``since`` past the log's head names no event: refused, saying so (a
    ``since`` older than retention is a ``reset``, see ``_subscribe``)."""
    if since is None:
        return
    head = await run_db(selectors.log_head)
    if since > head:
        raise FilterError(
            f"since: {since} is past the log's head ({head}); no event has that seq "
            "yet. Leave since out to start from now."
        )


class EventStreamConsumer(HubCursor, AsyncWebsocketConsumer):
    # No channel per socket: the process's hub holds the only one.
    channel_layer_alias = "__hub_only__"

    async def connect(self):
        # The CloudEvents WebSocket binding: events as CloudEvents (JSON format).
        self.cloudevents = cloudevent.WEBSOCKET_SUBPROTOCOL in self.scope.get(
            "subprotocols", ()
        )
        self.filter = EventFilter()
        self.position = 0
        self.catching_up = True
        self.pending: list[WireEvent] = []
        self.outbox: deque[str | int] = deque()
        self.wakeup = asyncio.Event()
        self.writer: asyncio.Task | None = None
        self.hub = None
        self.subscribe_times: deque[float] = deque()
        self.queue_limit = settings.EVENTS_SOCKET_QUEUE_LIMIT
        self.closing = False
        self.actions: set[asyncio.Task] = set()
        self.slot_of = None
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        if not socket_limits.take(user.pk):
            limit = settings.EVENTS_MAX_SOCKETS_PER_USER
            self._security_event("socket_limit", limit=limit)
            await self.accept()
            await self.send(
                _control(
                    "error",
                    detail=f"too many sockets: at most {limit} per user per server",
                    close=CLOSE_TOO_MANY_SOCKETS,
                )
            )
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.slot_of = user.pk
        self.credential = revocation.credential_of(self.scope)
        self.readable = await run_db(readable_types, user)
        # A machine token (an agent's or a robot's own) follows only its subject.
        self.confined = await run_db(confined_subject, user)
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        try:
            event_filter = EventFilter.parse(
                query.get("types", [None])[0],
                query.get("subject", [None])[0],
                self.readable,
                confined=self.confined,
            )
            since = _parse_since(query.get("since", [None])[0])
            await _check_since(since)
        except FilterError as exc:
            await self.accept()
            await self.send(_control("error", detail=str(exc)))
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        # The socket's start is its handshake: registered with the hub (which takes
        # its position) before the client learns it is connected, so every event
        # committed after the handshake reaches it, on a cold process too.
        self.filter = event_filter
        self.hub = get_hub()
        head = await self.hub.add(self)
        await self.accept()
        metrics.STREAMS_OPEN.labels("websocket").inc()
        self.writer = asyncio.create_task(self._write_loop())
        await self._subscribe(event_filter, since, head)

    async def websocket_connect(self, message):
        try:
            await super().websocket_connect(message)
        except BaseException:
            # A connect that failed (the database down) gets no disconnect: give
            # its place back here, or the user would lose it until a restart.
            self._release_slot()
            raise

    def _release_slot(self) -> None:
        if getattr(self, "slot_of", None) is not None:
            socket_limits.release(self.slot_of)
            self.slot_of = None

    async def disconnect(self, code):
        self._release_slot()
        if self.hub is not None:
            self.hub.remove(self)
            metrics.STREAMS_OPEN.labels("websocket").dec()
        if self.writer is not None:
            self.writer.cancel()
        # Frames still awaiting their answer: what was handed over is stored anyway
        # (the client, not acknowledged, sends it again: at least once).
        for task in list(self.actions):
            task.cancel()

    async def accept(self, subprotocol=None, headers=None):
        if subprotocol is None and self.cloudevents:
            subprotocol = cloudevent.WEBSOCKET_SUBPROTOCOL
        await super().accept(subprotocol, headers)

    def _event_text(self, event: WireEvent) -> str:
        return cloudevent.encode(event.text) if self.cloudevents else event.text

    # Subscribing and resuming ---------------------------------------------------------

    async def _subscribe(
        self, event_filter: EventFilter, since: int | None, head: int | None = None
    ) -> None:
        if head is None:
            self.catching_up = True
            self.pending = []
            self.filter = event_filter
            head = await self.hub.add(self)
        described = event_filter.describe()
        if since is None:
            self._enqueue(_control("subscribed", last_seq=head, **described))
            self._finish_catch_up(head)
            return
        if since > head and since <= await run_db(selectors.log_head):
            # The client saw events on a process whose hub is ahead of this one's
            # (it reconnected elsewhere): nothing is missing, so no reset. It is
            # current up to ``since``; this hub's catch-up delivers only what follows.
            self._enqueue(_control("subscribed", last_seq=since, **described))
            self._finish_catch_up(since)
            return
        if await run_db(selectors.needs_reset, since, head):
            metrics.RESETS.labels("websocket").inc()
            self._enqueue(
                _control(
                    "reset",
                    last_seq=head,
                    detail=f"events after seq {since} are no longer in the log; "
                    "refetch state, then continue from last_seq",
                )
            )
            self._finish_catch_up(head)
            return
        self._enqueue(
            _control("subscribed", last_seq=head, replaying=True, **described)
        )
        position = since
        while True:
            events = await run_db(
                selectors.wire_events_after,
                position,
                upto=head,
                event_filter=event_filter,
            )
            for event in events:
                self._enqueue(self._event_text(event))
                position = event.seq
            if len(events) < settings.EVENTS_PAGE_LIMIT:
                break
            await self._drained()
        self._finish_catch_up(head)
        self._enqueue(_control("caught_up", last_seq=head))

    # Hub interface ---------------------------------------------------------

    def deliver(self, event: WireEvent) -> None:
        if self.writer is not None and self.writer.done():
            # The socket is gone without a clean disconnect.
            self.hub.remove(self)
            return
        self._pass(event)

    def revoke(self) -> None:
        """The token or session is gone: stop sending events and close."""
        self.hub.remove(self)
        self._security_event("socket_revoked", credential=self.credential[0])
        self._close_with(
            _control("error", detail="credentials revoked", close=CLOSE_UNAUTHORIZED),
            CLOSE_UNAUTHORIZED,
        )

    def _close_with(self, notice: str, code: int) -> None:
        """Drop what is queued, send ``notice``, close; queue nothing after it."""
        metrics.QUEUE_DROPS.labels("websocket").inc(len(self.outbox))
        self.outbox.clear()
        self.outbox.append(notice)
        self.outbox.append(code)
        self.closing = True
        self.wakeup.set()

    # Writing ---------------------------------------------------------

    def _enqueue(self, text: str) -> None:
        if self.closing:
            return
        if len(self.outbox) >= self.queue_limit:
            metrics.SLOW_CLOSES.labels("websocket").inc()
            self._security_event("socket_too_slow", queued=len(self.outbox))
            self._close_with(
                _control(
                    "error",
                    detail="too slow: reconnect with since=<your last seq>",
                    close=CLOSE_TOO_SLOW,
                ),
                CLOSE_TOO_SLOW,
            )
            return
        self.outbox.append(text)
        self.wakeup.set()

    async def _write_loop(self) -> None:
        # Frames go straight to the server's ``send``: the consumer's ``send`` only
        # wraps the text in this same message, two calls deep, once per frame.
        send = self.base_send
        try:
            while True:
                await self.wakeup.wait()
                self.wakeup.clear()
                while self.outbox:
                    text = self.outbox.popleft()
                    if isinstance(text, int):  # a close code after a notice
                        await self.close(code=text)
                        return
                    await send({"type": "websocket.send", "text": text})
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the client went away
            logger.debug("socket writer stopped: %r", exc)

    async def _drained(self) -> None:
        while self.outbox:
            await asyncio.sleep(0.005)

    # Client frames ---------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return await self._error("binary frames are not accepted; send JSON text")
        if len(text_data) > MAX_FRAME_BYTES:
            return await self._error(f"frame too large: limit {MAX_FRAME_BYTES} bytes")
        try:
            message = json.loads(text_data)
        except RecursionError:
            return await self._error("frame is nested too deeply")
        except ValueError:
            return await self._error("frame is not valid JSON")
        if not isinstance(message, dict):
            return await self._error("frame must be a JSON object with an action")
        action = message.get("action")
        if action == "ping":
            self._enqueue(_control("pong", last_seq=self.position))
        elif action == "subscribe":
            await self._resubscribe(message)
        elif (handler := socket_actions.action_handler(action)) is not None:
            await self._start_action(handler, message)
        else:
            expected = ", ".join(
                repr(name)
                for name in ("ping", "subscribe", *socket_actions.registered_actions())
            )
            await self._error(f"unknown action {action!r}; expected one of {expected}")

    # App actions (socket_actions): answered as they complete ---------------------

    async def _start_action(self, handler, message: dict) -> None:
        ref = message.get("ref")
        try:
            socket_actions.check_ref(ref)
        except socket_actions.ActionRefused as exc:
            return await self._error(exc.detail)
        limit = settings.EVENTS_SOCKET_ACTIONS_IN_FLIGHT
        if len(self.actions) >= limit:
            self._enqueue(
                _control(
                    "error",
                    ref=ref,
                    detail=f"too many frames awaiting an answer: at most {limit}",
                )
            )
            return
        task = asyncio.create_task(self._run_action(handler, message, ref))
        self.actions.add(task)
        task.add_done_callback(self.actions.discard)

    async def _run_action(self, handler, message: dict, ref) -> None:
        try:
            reply = await handler(self.scope["user"], message)
        except socket_actions.ActionRefused as exc:
            self._enqueue(_control("error", ref=ref, detail=exc.detail, **exc.extra))
        except Exception:
            logger.exception("socket action %r failed", message.get("action"))
            self._enqueue(
                _control("error", ref=ref, detail="internal error; not stored")
            )
        else:
            self._enqueue(_control(reply.pop("control"), ref=ref, **reply))

    async def _resubscribe(self, message: dict) -> None:
        now = time.monotonic()
        while self.subscribe_times and now - self.subscribe_times[0] > (
            SUBSCRIBE_WINDOW_SECONDS
        ):
            self.subscribe_times.popleft()
        if len(self.subscribe_times) >= SUBSCRIBES_PER_WINDOW:
            return await self._error(
                f"too many subscribe messages: at most {SUBSCRIBES_PER_WINDOW} per "
                f"{SUBSCRIBE_WINDOW_SECONDS:.0f} s"
            )
        self.subscribe_times.append(now)
        try:
            event_filter = EventFilter.parse(
                message.get("types"),
                message.get("subject"),
                self.readable,
                confined=self.confined,
            )
            since = _parse_since(message.get("since"))
            await _check_since(since)
        except FilterError as exc:
            return await self._error(str(exc))
        await self._subscribe(event_filter, self.position if since is None else since)

    def _security_event(self, event: str, **details) -> None:
        scope = getattr(self, "scope", None) or {}
        user = scope.get("user")
        security_event(
            event,
            user=user.get_username() if user is not None else None,
            client=scope_client(scope),
            **details,
        )

    async def _error(self, detail: str) -> None:
        self._enqueue(_control("error", detail=detail))
