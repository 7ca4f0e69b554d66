"""The per-process hub: every event arrives once per server process, then fans out.

Each server process (each event loop) has one ``EventHub``. It holds one channel in
the channel layer's events group, so an event costs one channel-layer message per
process, however many sockets it has; the event is JSON-encoded once by ``emit()``
and the same text goes to every matching socket.

The hub delivers in ``seq`` order and remembers the last ``seq`` it handled. Because
``seq`` commits in order (see ``publish.py``), a live message whose ``seq`` jumps past
that position proves the skipped ones are final: the hub reads them from the log
before going on. A poll of the log every ``EVENTS_POLL_INTERVAL`` seconds catches a
lost last message and covers a channel-layer outage entirely. So a connected socket
never silently misses an event: at worst it gets it a poll interval late.
"""

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, connection

from brain import metrics
from brain.events import publish, revocation, selectors, sequencer
from brain.events.wire import GROUP, MESSAGE_TYPE, WireEvent

logger = logging.getLogger(__name__)

GROUP_REFRESH_SECONDS = 10.0
JOIN_WAIT_SECONDS = 1.0


def _db_call(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        # Back to the pool: worker threads outlive any request.
        connection.close()


async def run_db(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run an ORM read in a worker thread, with a healthy connection."""
    return await sync_to_async(_db_call, thread_sensitive=False)(fn, *args, **kwargs)


class Subscriber(Protocol):
    def accepts(self, event: WireEvent) -> bool: ...

    def deliver(self, event: WireEvent) -> None: ...


class EventHub:
    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.last_seq = 0
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self._started = False
        self._start_lock = asyncio.Lock()
        self._stopping: set[asyncio.Task] = set()
        self._sequences_stragglers = connection.vendor == "postgresql"
        self.stats = {"live": 0, "live_only": 0, "healed": 0, "duplicates": 0}
        # Events that arrived ahead of a missing seq, by seq.
        self._held: dict[int, WireEvent] = {}
        self._gap_task: asyncio.Task | None = None
        self._joined = asyncio.Event()

    # Life cycle ---------------------------------------------------------

    async def add(self, subscriber: Subscriber) -> int:
        """Register a subscriber; return the ``seq`` it is current up to."""
        await self._ensure_started()
        self.subscribers.add(subscriber)
        return self.last_seq

    def remove(self, subscriber: Subscriber) -> None:
        """Forget a subscriber at once; stop the hub in its own task when idle.

        The stop runs apart from the caller, so a cancelled disconnect handler can
        neither leave a dead socket registered nor a half-stopped hub.
        """
        self.subscribers.discard(subscriber)
        if not self.subscribers and self._started:
            task = asyncio.create_task(self._stop())
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    def _running(self) -> bool:
        return self._started and all(not task.done() for task in self._tasks)

    async def _ensure_started(self) -> None:
        async with self._start_lock:
            if self._running():
                return
            for task in self._tasks:
                task.cancel()
            self._tasks = []
            self.last_seq = await run_db(selectors.log_head)
            metrics.HUB_POSITION.set(self.last_seq)
            self._joined.clear()
            if self.layer is not None:
                # The channel is made inside the loop, which retries: a hub must
                # start (and serve sockets from the log) while Redis is down.
                self._tasks.append(asyncio.create_task(self._receive_loop()))
            self._tasks.append(asyncio.create_task(self._poll_loop()))
            self._started = True
            if self.layer is not None:
                # Live delivery from the first event on, when the layer answers;
                # the log poll covers the start either way.
                try:
                    await asyncio.wait_for(self._joined.wait(), JOIN_WAIT_SECONDS)
                except TimeoutError:
                    pass

    async def _stop(self) -> None:
        async with self._start_lock:
            if not self._started or self.subscribers:
                return
            # Marked stopped before any await: a later add() starts afresh.
            self._started = False
            metrics.HUB_POSITION.set(-1)
            tasks, self._tasks = self._tasks, []
            if self._gap_task is not None:
                tasks.append(self._gap_task)
                self._gap_task = None
            self._held.clear()
            channel, self.channel = self.channel, None
            for task in tasks:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.layer is not None and channel is not None:
            try:
                await self.layer.group_discard(GROUP, channel)
            except Exception as exc:  # noqa: BLE001 - the layer may be down
                logger.debug("group_discard failed: %r", exc)

    # Receiving ---------------------------------------------------------

    async def _receive_loop(self) -> None:
        channel = None
        joined_at = None
        backoff = 0.1
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        while not me.cancelling():
            try:
                if channel is None:
                    channel = await self.layer.new_channel(prefix="events-hub.")
                    self.channel = channel
                if joined_at is None or loop.time() - joined_at > GROUP_REFRESH_SECONDS:
                    # Re-joining is idempotent and keeps the membership alive
                    # whatever the layer forgets (a Redis restart, group expiry).
                    await self.layer.group_add(GROUP, channel)
                    joined_at = loop.time()
                    self._joined.set()
                message = await self.layer.receive(channel)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep the loop alive
                if me.cancelling():
                    # A library turned the cancellation into an error.
                    raise asyncio.CancelledError from exc
                logger.warning("channel layer receive failed: %r", exc)
                joined_at = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            if message.get("type") == MESSAGE_TYPE:
                events = [WireEvent.from_message(item) for item in message["events"]]
                await self.handle_live(events)

    async def handle_live(self, events: list[WireEvent]) -> None:
        async with self._lock:
            for event in events:
                if event.seq is None:
                    # Live-only: to whoever is subscribed now, in no order.
                    self._dispatch(event)
                    self.stats["live_only"] += 1
                elif event.seq <= self.last_seq:
                    self.stats["duplicates"] += 1
                else:
                    self._held[event.seq] = event
            self._release_held()
            if self._held and self._gap_task is None:
                # Writers publish after their own commits, so messages can arrive
                # out of order: wait briefly for the missing ones before reading
                # the log. The gap is final either way (seq is dense and committed).
                self._gap_task = asyncio.create_task(self._fill_gap())

    def _release_held(self) -> None:
        """Dispatch held events that are next in order; drop those already passed."""
        while self._held:
            lowest = min(self._held)
            if lowest <= self.last_seq:
                del self._held[lowest]
            elif lowest == self.last_seq + 1:
                self._dispatch(self._held.pop(lowest))
                self.stats["live"] += 1
            else:
                return

    async def _fill_gap(self) -> None:
        try:
            await asyncio.sleep(settings.EVENTS_REORDER_WAIT)
            async with self._lock:
                if self._held:
                    await self._catch_up(upto=min(self._held) - 1)
                    self._release_held()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the poll heals it
            logger.warning("gap fill failed: %r", exc)
        finally:
            self._gap_task = None
            if self._held and self._started:
                self._gap_task = asyncio.create_task(self._fill_gap())

    async def _poll_loop(self) -> None:
        loop = asyncio.get_running_loop()
        checked_at = loop.time()
        while True:
            await asyncio.sleep(settings.EVENTS_POLL_INTERVAL)
            try:
                if self._sequences_stragglers:
                    await run_db(sequencer.sequence_stragglers)
                async with self._lock:
                    await self._catch_up(upto=None)
                    self._release_held()
                if loop.time() - checked_at >= settings.EVENTS_AUTH_RECHECK_SECONDS:
                    checked_at = loop.time()
                    await self._revoke_stale_credentials()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database may be down
                logger.warning("event log poll failed: %r", exc)

    async def _revoke_stale_credentials(self) -> None:
        held = {
            sub: sub.credential
            for sub in tuple(self.subscribers)
            if getattr(sub, "credential", None)
        }
        if not held:
            return
        valid = await run_db(revocation.valid_credentials, set(held.values()))
        for subscriber, credential in held.items():
            if credential not in valid:
                subscriber.revoke()

    async def _catch_up(self, *, upto: int | None) -> None:
        """Dispatch what the log holds after ``last_seq`` (up to ``upto``)."""
        while True:
            events = await run_db(selectors.wire_events_after, self.last_seq, upto=upto)
            for event in events:
                self._dispatch(event)
                self.stats["healed"] += 1
            if events:
                metrics.HUB_HEALED.inc(len(events))
            if len(events) < settings.EVENTS_PAGE_LIMIT:
                break
        if upto is not None and upto > self.last_seq:
            self.last_seq = upto

    def _dispatch(self, event: WireEvent) -> None:
        # No await here: a subscriber added between two events sees a clean cut.
        if event.seq is not None:  # a live-only event has no place in the log
            self.last_seq = event.seq
            metrics.HUB_POSITION.set(event.seq)
        sent = 0
        for subscriber in tuple(self.subscribers):
            if subscriber.accepts(event):
                subscriber.deliver(event)
                sent += 1
        if sent:
            metrics.EVENTS_DELIVERED.inc(sent)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventHub]" = (
    weakref.WeakKeyDictionary()
)


def get_hub() -> EventHub:
    """The hub of the running event loop, i.e. of this server process."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = EventHub()
        # Events this process commits are published from the sockets' loop.
        publish.set_home_loop(loop)
    return hub
