"""Throttles: anonymous calls by address, writes by user. Rates live in settings."""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonBurstThrottle(AnonRateThrottle):
    scope = "anon"

    def get_ident(self, request) -> str:
        """The address the server saw. DRF's own reads ``X-Forwarded-For``, which any
        client can set to a new value per request to dodge the limit; behind a
        proxy, the ASGI server (uvicorn's proxy headers, from trusted addresses
        only) has already made ``REMOTE_ADDR`` the client's."""
        return request.META.get("REMOTE_ADDR") or "unknown"


class UserWriteThrottle(UserRateThrottle):
    scope = "user_write"

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS or not request.user.is_authenticated:
            return True
        return super().allow_request(request, view)
