"""Who may open ``/ws/events/``.

A non-browser client sends ``Authorization: Token <key>`` on the handshake and may
omit ``Origin``. A browser signs in with its session cookie, and its ``Origin`` must
pass the rule of Django's CSRF origin check, as a POST from the same page would:
the socket's own scheme, host and port (the host one of ``ALLOWED_HOSTS``), or one
of ``CSRF_TRUSTED_ORIGINS``. That refuses cross-site WebSocket hijacking, from
another port of the same host too. Anyone else reaches the consumer as an anonymous
user and is refused before any event.
"""

from urllib.parse import urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from brain.security import scope_client, security_event


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


def _is_secure(scope) -> bool:
    """``request.is_secure()`` for a socket: ``SECURE_PROXY_SSL_HEADER`` when set,
    else the scheme the server (or a trusted proxy, brain/asgi.py) reports."""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = meta_name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        value = _header(scope, name)
        if value is not None:
            return value.decode("latin1").split(",")[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def origin_allowed(scope, origin: str) -> bool:
    """Django's ``CsrfViewMiddleware`` origin rule, for a WebSocket handshake."""
    host = (_header(scope, b"host") or b"").decode("latin1")
    domain, _ = split_domain_port(host)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if domain and validate_host(domain, allowed_hosts):
        scheme = "https" if _is_secure(scope) else "http"
        if origin == f"{scheme}://{host}":
            return True
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in [allowed for allowed in trusted if "*" not in allowed]:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    for allowed in trusted:
        if "*" in allowed:
            pattern = urlsplit(allowed)
            if pattern.scheme == parsed.scheme and is_same_domain(
                parsed.netloc, pattern.netloc.lstrip("*")
            ):
                return True
    return False


class WebSocketAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner
        self.session_stack = AuthMiddlewareStack(inner)

    async def __call__(self, scope, receive, send):
        authorization = _header(scope, b"authorization")
        if authorization is not None:
            scheme, _, key = authorization.decode("latin1").partition(" ")
            user = AnonymousUser()
            if scheme.lower() == "token" and key.strip():
                user = await _user_for_token(key.strip())
            scope = {**scope, "user": user, "auth_method": "token", "token": key}
            return await self.inner(scope, receive, send)
        origin = (_header(scope, b"origin") or b"").decode("latin1")
        if not origin or not origin_allowed(scope, origin):
            security_event(
                "origin_refused",
                client=scope_client(scope),
                origin=origin or None,
                host=(_header(scope, b"host") or b"").decode("latin1"),
                path=scope.get("path"),
            )
            return await WebsocketDenier()(scope, receive, send)
        scope = {**scope, "auth_method": "session"}
        return await self.session_stack(scope, receive, send)
