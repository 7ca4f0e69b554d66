"""One webhook request: Standard Webhooks 1.0 signing, the address rule, the POST.

No database here: ``services.endpoint_deliver`` decides what to send and records
what came back.
"""

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlparse

import httpx
from django.conf import settings

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not one
EXCERPT_BYTES = 1024
USER_AGENT = "BRAiN-Mission-Control-Webhooks/1.0"


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: ``whsec_`` + base64 key."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` (Standard Webhooks)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: list[str], msg_id: str, timestamp: int, body: bytes):
    """Space-separated signatures, one per valid secret (during a rotation, two)."""
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets_ if s)


class AddressRefused(ValueError):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_url(url: str) -> None:
    """Refuse a URL that is not http(s), or whose host resolves to a loopback,
    private or link-local address, unless ``WEBHOOKS_ALLOW_PRIVATE_NETWORKS``."""
    try:
        parsed = urlparse(url)
        port = parsed.port
    except ValueError as exc:
        raise AddressRefused(f"not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise AddressRefused("expected an http:// or https:// URL with a host")
    if settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, port or 443, 0, 0, 0)
    except (OSError, UnicodeError, ValueError) as exc:
        raise AddressRefused(f"{parsed.hostname} does not resolve ({exc})") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not _is_public(address):
            where = (
                "is" if str(address) == parsed.hostname.strip("[]") else "resolves to"
            )
            raise AddressRefused(
                f"{parsed.hostname} {where} {address}, a loopback, private or "
                "link-local address (set WEBHOOKS_ALLOW_PRIVATE_NETWORKS=1 to allow)"
            )


@dataclass(frozen=True)
class Response:
    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str = ""
    retry_after: float | None = None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


_local = threading.local()


def _client() -> httpx.Client:
    client = getattr(_local, "client", None)
    if client is None:
        # Redirects are not followed: a receiver that moved says so with its status.
        client = _local.client = httpx.Client(
            follow_redirects=False, headers={"User-Agent": USER_AGENT}
        )
    return client


def post(
    url: str, *, body: bytes, content_type: str, msg_id: str, secrets_: list[str]
) -> Response:
    """POST one signed event; never raises for what the network or receiver did."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": content_type,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, msg_id, timestamp, body),
    }
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        check_url(url)
        with _client().stream(
            "POST",
            url,
            content=body,
            headers=headers,
            timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
        ) as response:
            excerpt = b""
            for chunk in response.iter_raw():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
            return Response(
                status_code=response.status_code,
                latency_ms=elapsed(),
                excerpt=excerpt[:EXCERPT_BYTES].decode("utf-8", "replace"),
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
    except AddressRefused as exc:
        return Response(None, elapsed(), error=f"refused: {exc}")
    except httpx.TimeoutException:
        return Response(
            None,
            elapsed(),
            error=f"timeout after {settings.WEBHOOKS_TIMEOUT_SECONDS:g} s",
        )
    except httpx.HTTPError as exc:
        return Response(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:500])
