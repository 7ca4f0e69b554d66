"""Throttles: anonymous calls by address, writes by user. Rates live in settings."""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonBurstThrottle(AnonRateThrottle):
    scope = "anon"


class UserWriteThrottle(UserRateThrottle):
    scope = "user_write"

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS or not request.user.is_authenticated:
            return True
        return super().allow_request(request, view)
