"""The one ASGI application: Django over HTTP, Charter events over WebSocket."""

import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brain.settings")
django_asgi_app = get_asgi_application()

from brain.api.middleware import ASGIBodySizeLimit, ASGIConcurrencyLimit  # noqa: E402
from brain.events.auth import WebSocketAuthMiddleware  # noqa: E402
from brain.events.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": ASGIBodySizeLimit(ASGIConcurrencyLimit(django_asgi_app)),
        "websocket": WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
