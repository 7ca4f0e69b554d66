"""What every stream the hub feeds keeps (the socket and SSE): its filter, its
position in the log, and the events held while it catches up from the log.

A subclass sets ``filter``, ``position``, ``catching_up`` and ``pending`` and
defines ``_event_text(event)`` (the event as its wire frame) and ``_enqueue(text)``.
"""

from brain.events.wire import WireEvent


class HubCursor:
    def accepts(self, event: WireEvent) -> bool:
        return self.filter.matches(event.type, event.subjects)

    def _pass(self, event: WireEvent) -> None:
        """Send an event the hub delivers, once, in ``seq`` order: held while
        catching up, dropped when at or below the position. Live-only events have
        no place in the log, so no position to keep."""
        if self.catching_up:
            self.pending.append(event)
            return
        if event.seq is not None:
            if event.seq <= self.position:
                return
            self.position = event.seq
        self._enqueue(self._event_text(event))

    def _finish_catch_up(self, head: int) -> None:
        self.position = head
        self.catching_up = False
        pending, self.pending = self.pending, []
        for event in pending:
            self.deliver(event)
