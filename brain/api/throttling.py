"""Throttles: anonymous calls by address, writes by user. Rates live in settings.

DRF's own throttles keep each client's request history, one timestamp per request
in the window, as a pickled list that every request reads and writes back whole: at
6000/min that is tens of kilobytes per request. These count instead: one counter per
client per fixed window, one atomic increment per request. A fixed window lets a
client spend its allowance at the end of one window and again at the start of the
next; that burst is the price of the constant cost, and the rates are set with it
in mind.
"""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class CountingThrottleMixin:
    """``allow_request`` for a ``SimpleRateThrottle``: a counter per window."""

    def window_key(self, now: float) -> tuple[str, float]:
        """The counter's cache key and the time its window ends."""
        window = int(now // self.duration)
        return f"{self.key}:{window}", (window + 1) * self.duration

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        key, window_end = self.window_key(now)
        self.wait_seconds = window_end - now
        count = self._increment(key)
        # ``None``: the cache is down. Throttling degrades; requests never fail.
        return count is None or count <= self.num_requests

    def _increment(self, key: str) -> int | None:
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request
            if self.cache.add(key, 1, timeout=int(self.duration) + 1):
                return 1
            try:
                return self.cache.incr(key)  # another request added it first
            except ValueError:
                return None

    def wait(self) -> float:
        return self.wait_seconds


class AnonBurstThrottle(CountingThrottleMixin, AnonRateThrottle):
    scope = "anon"

    def get_ident(self, request) -> str:
        """The address the server saw. DRF's own reads ``X-Forwarded-For``, which any
        client can set to a new value per request to dodge the limit; behind a
        proxy, the ASGI server (uvicorn's proxy headers, from trusted addresses
        only) has already made ``REMOTE_ADDR`` the client's."""
        return request.META.get("REMOTE_ADDR") or "unknown"


class UserWriteThrottle(CountingThrottleMixin, UserRateThrottle):
    scope = "user_write"

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS or not request.user.is_authenticated:
            return True
        return super().allow_request(request, view)
