"""The one ASGI application: Django over HTTP, Charter events over WebSocket."""

import os

import django
from channels.routing import ProtocolTypeRouter, URLRouter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brain.settings")
django.setup(set_prefix=False)

from brain.http import OneHopASGIHandler  # noqa: E402

django_asgi_app = OneHopASGIHandler()

from django.conf import settings  # noqa: E402
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware  # noqa: E402

from brain.api.middleware import ASGIBodyLimit, ASGIConcurrencyLimit  # noqa: E402
from brain.events.auth import WebSocketAuthMiddleware  # noqa: E402
from brain.events.routing import websocket_urlpatterns  # noqa: E402
from brain.events.sse import with_event_stream  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": with_event_stream(ASGIBodyLimit(ASGIConcurrencyLimit(django_asgi_app))),
        "websocket": WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
if settings.TRUSTED_PROXIES:
    # The client's address and scheme from ``X-Forwarded-For``/``-Proto``, only on
    # connections from these addresses; the server itself trusts no header
    # (``--no-proxy-headers``), so every other client is its connection's address.
    application = ProxyHeadersMiddleware(
        application, trusted_hosts=settings.TRUSTED_PROXIES
    )
