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


class ASGIBodyLimit:
    """Reads each HTTP request's body in full, within bounds, before Django (or the
    in-flight limit) sees the request.

    Django's ASGI handler reads a whole body before any middleware runs, and a
    chunked body has no Content-Length for ``BodySizeLimitMiddleware`` to check.
    Here, before a byte of the body is read:

    - a declared length over ``MAX_REQUEST_BODY_BYTES`` is answered 413;
    - a request that carries no credential (no ``Authorization`` header, no
      session cookie) may send at most ``ANON_MAX_REQUEST_BODY_BYTES``: anonymous
      requests can only sign in, and a sign-in form is small. Whether a credential
      is valid is Django's business, after the body;
    - the bodies one process holds are at most ``HTTP_BODY_BUFFER_MAX_BYTES``
      (a declared length is reserved at once): one that would pass that is
      answered 503 with ``Retry-After``. Small bodies (up to the anonymous limit)
      may use a second such budget, so large uploads never starve them.

    Then the body must arrive within ``HTTP_BODY_READ_TIMEOUT`` seconds (408
    otherwise), and a body that grows past its limit is cut off there (413). Every
    refusal closes the connection. The slow-body attack (many connections that
    declare 8 MB, send nearly all of it and stall) costs at most the budget, for
    at most the timeout; the proxy in front (README, "Deployment") limits it
    further per client.
    """

    def __init__(self, app):
        self.app = app
        self.buffered = 0  # bytes held by the bodies being read or served

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.MAX_REQUEST_BODY_BYTES
        small = settings.ANON_MAX_REQUEST_BODY_BYTES
        headers = scope.get("headers") or []
        declared_header = dict(headers).get(b"content-length", b"")
        declared = int(declared_header) if declared_header.isdigit() else None
        if declared is not None and declared > limit:
            return await _refuse(send, 413, _too_large(f"{declared} bytes", limit))
        if not _has_credentials(headers):
            limit = min(limit, small)
            if declared is not None and declared > limit:
                return await _refuse(
                    send, 413, _too_large(f"{declared} bytes", limit, anonymous=True)
                )
        reserved = 0

        def reserve(size: int) -> bool:
            nonlocal reserved
            budget = settings.HTTP_BODY_BUFFER_MAX_BYTES
            ceiling = 2 * budget if reserved + size <= small else budget
            if self.buffered + size > ceiling:
                return False
            self.buffered += size
            reserved += size
            return True

        try:
            if declared and not reserve(declared):
                return await _refuse(send, 503, _busy(), retry_after=1)
            messages = await self._read_body(scope, receive, send, limit, reserve)
            if messages is None:
                return

            async def replay():
                return messages.pop(0) if messages else await receive()

            await self.app(scope, replay, send)
        finally:
            self.buffered -= reserved

    async def _read_body(self, scope, receive, send, limit, reserve):
        """The body's messages, or ``None`` when a refusal has been sent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.HTTP_BODY_READ_TIMEOUT
        timeout = settings.HTTP_BODY_READ_TIMEOUT
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        counted = int(declared) if declared.isdigit() else 0
        messages: list[dict] = []
        received = 0
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                return await _refuse(
                    send, 408, f"request body not received within {timeout:g} s"
                )
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client went away; Django sees it
            received += len(message.get("body", b""))
            if received > limit:
                return await _refuse(
                    send, 413, _too_large(f"more than {limit} bytes", limit)
                )
            if received > counted:
                if not reserve(received - counted):
                    return await _refuse(send, 503, _busy(), retry_after=1)
                counted = received
            if not message.get("more_body"):
                return messages


def _has_credentials(headers) -> bool:
    cookie_name = settings.SESSION_COOKIE_NAME.encode()
    for name, value in headers:
        if name == b"authorization":
            return True
        if name == b"cookie" and cookie_name + b"=" in value:
            return True
    return False


def _too_large(size: str, limit: int, *, anonymous: bool = False) -> str:
    detail = f"request body too large: {size}, limit {limit}"
    return detail + (" without credentials (sign in first)" if anonymous else "")


def _busy() -> str:
    return "the server holds too many request bodies at once; retry shortly"


async def _refuse(send, status: int, detail: str, retry_after: int | None = None):
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ASGIConcurrencyLimit:
    """At most ``HTTP_MAX_IN_FLIGHT`` HTTP requests inside Django at once per process;
    the others wait their turn on the event loop, in arrival order.

    Django runs each request's sync code in a thread of its own. Past its capacity a
    process that lets every request in runs hundreds of threads that fight over the
    GIL and the database pool, and answers fewer requests per second, not as many
    (the bench's 200/s latency run). Waiting on the loop costs almost nothing, so
    overload queues in front of the work instead of inside it. ``ASGIBodyLimit``,
    outside this, has read the body before a slot is taken, so a slow upload cannot
    hold one. WebSockets are not counted. ``0`` turns the limit off.
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
        async with semaphore:
            await self.app(scope, receive, send)
