"""Django over ASGI with one thread hop per request.

Django's ``ASGIHandler`` runs a project's sync middleware and views through
``asgiref``: the sync middleware chain is adapted into the async handler and back
(``sync_to_async`` at the top, ``async_to_sync`` around the async core, then
``sync_to_async`` for the view), each request gets a new thread
(``ThreadSensitiveContext``), and the ``request_started``/``request_finished``
signals are two more trips. Every middleware and view here is sync, so that is pure
cost: a third of a log append's CPU (issue 15's profile; A/B in bench/README.md).

``OneHopASGIHandler`` keeps Django's reading of the body, its request object and
its response sending on the event loop, and runs everything sync of a request in
**one** call on a fixed pool of worker threads: ``request_started``, the whole
middleware chain and the view (Django's sync ``get_response``, exactly what WSGI
runs), and, for an ordinary response, ``response.close()`` (``request_finished``:
the database connection goes back to the pool from the thread that took it). A
streaming response is sent and closed as Django does (its iterator may be async).
Each worker thread keeps its own context from request to request, as a WSGI
server's threads do (Django's per-thread state: cache clients, the URLconf); the
event context (``brain.events.context``) is set and reset by its middleware.

``HTTP_THREADS`` worker threads per process (default: ``HTTP_MAX_IN_FLIGHT``, the
requests let in at once, so an admitted request never waits for a thread).
"""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import close_old_connections
from django.http import FileResponse
from django.urls import set_script_prefix


class OneHopASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        BaseHandler.__init__(self)
        # The sync chain, as under WSGI: no adapter between middleware and view.
        self.load_middleware(is_async=False)
        self.executor = ThreadPoolExecutor(
            max_workers=settings.HTTP_THREADS, thread_name_prefix="brain-http"
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP here, not {scope['type']}")
        # A streaming response's iterator runs as Django runs it: sync code it
        # calls shares one thread per request.
        async with ThreadSensitiveContext():
            await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            set_script_prefix(get_script_prefix(scope))
            request, error_response = self.create_request(scope, body_file)
            if request is None:
                await self.send_response(error_response, send)
                await sync_to_async(error_response.close)()
                return
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(
                self.executor, self._respond, loop, scope, request
            )
            if response.streaming:
                await self._stream(response, receive, send)
            else:
                await self.send_response(response, send)
        finally:
            body_file.close()

    def _respond(self, loop, scope, request):
        """Everything sync of one request, in one worker thread."""
        # ``async_to_sync`` in a view runs on the server's loop, as under Django's
        # handler (asgiref looks for the loop where ``sync_to_async`` leaves it).
        local = SyncToAsync.threadlocal
        if getattr(local, "main_event_loop", None) is not loop:
            local.main_event_loop = loop
            local.main_event_loop_pid = os.getpid()
        # The thread's own context, as under WSGI: what Django keeps per thread
        # (the cache clients, the URLconf) lives as long as the thread.
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        response = self.get_response(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if response.streaming:
            # Closed once sent; meanwhile this thread's connection goes back now.
            close_old_connections()
        else:
            response.close()
        return response

    async def _stream(self, response, receive, send):
        """Send a streaming response, stopping if the client goes away."""
        sending = asyncio.create_task(self.send_response(response, send))
        listening = asyncio.create_task(self.listen_for_disconnect(receive))
        try:
            await asyncio.wait(
                [sending, listening], return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in (listening, sending):
                if not task.done():
                    task.cancel()
            _, sent = await asyncio.gather(listening, sending, return_exceptions=True)
            await sync_to_async(response.close)()
        if isinstance(sent, Exception) and not isinstance(sent, RequestAborted):
            raise sent  # the response's iterator failed: Django logs it
