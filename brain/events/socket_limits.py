"""Sockets per user on one server process (``EVENTS_MAX_SOCKETS_PER_USER``).

Counted per process, as each process holds its own sockets: behind N processes a
user may hold up to N times the limit. The count lives and dies with the process,
so a crash leaves nothing to clean up.
"""

from collections import Counter

from django.conf import settings

_open: Counter = Counter()


def take(user_id) -> bool:
    """Count one more socket for the user, unless the limit is reached."""
    limit = settings.EVENTS_MAX_SOCKETS_PER_USER
    if limit and _open[user_id] >= limit:
        return False
    _open[user_id] += 1
    return True


def release(user_id) -> None:
    _open[user_id] -= 1
    if _open[user_id] <= 0:
        del _open[user_id]
