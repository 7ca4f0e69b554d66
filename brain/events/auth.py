"""Who may open ``/ws/events/``.

A non-browser client sends ``Authorization: Token <key>`` on the handshake and may
omit ``Origin``. A browser signs in with its session cookie, and its ``Origin`` must
be one of ``ALLOWED_HOSTS``, which refuses cross-site WebSocket hijacking. Anyone
else reaches the consumer as an anonymous user and is refused before any event.
"""

from urllib.parse import urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator, WebsocketDenier
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_for_token(key: str):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


def _header(scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value
    return None


class WebSocketAuthMiddleware:
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
        try:
            parsed = urlparse(origin.decode("latin1")) if origin else None
        except ValueError:
            parsed = None
        if parsed is None or not self.origins.valid_origin(parsed):
            return await WebsocketDenier()(scope, receive, send)
        scope = {**scope, "auth_method": "session"}
        return await self.session_stack(scope, receive, send)
