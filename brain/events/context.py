"""Who caused an event and which request it belongs to, for ``meta``."""

import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

from brain.events import sequencer

_request = ContextVar("brain_events_request", default=None)
_actor = ContextVar("brain_events_actor", default=None)
_correlation_id = ContextVar("brain_events_correlation_id", default=None)

REQUEST_ID_HEADER = "X-Request-ID"


def current_actor() -> str | None:
    """The explicit actor if one is set, else the signed-in user of the request."""
    actor = _actor.get()
    if actor is not None:
        return actor
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        return user.get_username()
    return None


def current_correlation_id() -> str:
    return _correlation_id.get() or str(uuid.uuid4())


@contextmanager
def event_context(*, actor: str | None = None, correlation_id: str | None = None):
    """Set the actor and correlation id for events emitted outside a request."""
    tokens = [
        _actor.set(actor),
        _correlation_id.set(correlation_id or str(uuid.uuid4())),
    ]
    try:
        yield
    finally:
        _correlation_id.reset(tokens[1])
        _actor.reset(tokens[0])


def _clean_request_id(value: str | None) -> str | None:
    if value and len(value) <= 100 and value.isprintable():
        return value
    return None


class EventContextMiddleware:
    """Ties the events of one request together and names the user who caused them.

    It also answers a write only once its events are numbered (at most
    ``EVENTS_NUMBERING_WAIT_SECONDS``): a client that got its 201 finds its events
    in ``GET /api/events`` and may resume from their ``seq``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        correlation_id = _clean_request_id(
            request.headers.get(REQUEST_ID_HEADER)
        ) or str(uuid.uuid4())
        request_token = _request.set(request)
        correlation_token = _correlation_id.set(correlation_id)
        sequencer.watch_numbering()
        try:
            response = self.get_response(request)
        finally:
            sequencer.wait_for_numbering(settings.EVENTS_NUMBERING_WAIT_SECONDS)
            _correlation_id.reset(correlation_token)
            _request.reset(request_token)
        response[REQUEST_ID_HEADER] = correlation_id
        return response
