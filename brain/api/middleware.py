import asyncio
import json
import weakref

from django.conf import settings
from django.http import JsonResponse


class BodySizeLimitMiddleware:
    """Refuse a request whose declared body is over the limit with 413, unread."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "invalid Content-Length header"}, status=400)
        limit = settings.MAX_REQUEST_BODY_BYTES
        if length > limit:
            return JsonResponse(
                {"detail": f"request body too large: {length} bytes, limit {limit}"},
                status=413,
            )
        return self.get_response(request)


class RefuseNulInUrlMiddleware:
    """Refuse a URL whose path or query holds a NUL character with 400.

    PostgreSQL cannot store or compare text with a NUL in it, so an id or a filter
    value holding one would fail in the database as a server error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return JsonResponse(
                {"detail": "the URL contains a NUL character (%00)"}, status=400
            )
        return self.get_response(request)


class ASGIBodySizeLimit:
    """The same limit for the ASGI server, before Django reads a byte of the body.

    Django's ASGI handler reads the whole body before any middleware runs, and a
    chunked body has no Content-Length for ``BodySizeLimitMiddleware`` to check:
    such a body would be read to its end, however large. Here a declared length
    over the limit is answered 413 at once, and a body that grows past the limit
    is cut off there and answered 413.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.MAX_REQUEST_BODY_BYTES
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await self._refuse(send, f"{int(declared)} bytes, limit {limit}")
        received = 0
        cut_off = False
        started = False

        async def limited_receive():
            nonlocal received, cut_off
            message = await receive()
            if message["type"] == "http.request" and not cut_off:
                received += len(message.get("body", b""))
                if received > limit:
                    cut_off = True
                    # Django stops reading and answers nothing; 413 follows below.
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, watched_send)
        if cut_off and not started:
            await self._refuse(send, f"more than {limit} bytes, limit {limit}")

    @staticmethod
    async def _refuse(send, size: str) -> None:
        body = json.dumps({"detail": f"request body too large: {size}"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class ASGIConcurrencyLimit:
    """At most ``HTTP_MAX_IN_FLIGHT`` HTTP requests inside Django at once per process;
    the others wait their turn on the event loop, in arrival order.

    Django runs each request's sync code in a thread of its own. Past its capacity a
    process that lets every request in runs hundreds of threads that fight over the
    GIL and the database pool, and answers fewer requests per second, not as many
    (the bench's 200/s latency run). Waiting on the loop costs almost nothing, so
    overload queues in front of the work instead of inside it. The body is read
    before a slot is taken, so a slow upload cannot hold one. WebSockets are not
    counted. ``0`` turns the limit off.
    """

    def __init__(self, app):
        self.app = app
        self.limit = settings.HTTP_MAX_IN_FLIGHT
        # One semaphore per event loop: a process serves from one loop, tests from
        # a new loop each.
        self._semaphores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.limit:
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        early: list[dict] = []
        while True:
            message = await receive()
            early.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay():
            return early.pop(0) if early else await receive()

        async with semaphore:
            await self.app(scope, replay, send)
