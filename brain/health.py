"""Real checks of the database, the cache and the channel layer."""

import asyncio
import uuid
import weakref

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection

OK = "ok"


def _describe(exc: BaseException) -> str:
    return f"down: {type(exc).__name__}: {str(exc)[:200]}"


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001
        return _describe(exc)
    return OK


def check_cache() -> str:
    key, value = f"health:{uuid.uuid4()}", str(uuid.uuid4())
    try:
        cache.set(key, value, timeout=5)
        ok = cache.get(key) == value
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001
        return _describe(exc)
    return OK if ok else "down: value written was not read back"


_checks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _check_layer() -> str:
    """A message sent to this process's health channel and received back.

    One channel per process, made by the first check and reused: a layer has no
    call to give a channel back, and channels-redis keeps each one subscribed in
    Redis for the life of the process (a new one per check leaked one per call).
    A check that times out is cancelled, which unsubscribes its channel; the next
    check makes a new one. Checks take turns, so two never make one each.
    """
    layer = get_channel_layer()
    if layer is None:
        return "down: no channel layer configured"
    loop = asyncio.get_running_loop()
    state = _checks.setdefault(loop, {"lock": asyncio.Lock(), "channel": None})
    async with state["lock"]:
        channel = state["channel"]
        if channel is None or channel not in getattr(layer, "channels", {}):
            channel = state["channel"] = await layer.new_channel(prefix="health.")
        await layer.send(channel, {"type": "health.ping"})
        await asyncio.wait_for(layer.receive(channel), timeout=2)
    return OK


def check_channel_layer() -> str:
    try:
        return async_to_sync(_check_layer)()
    except Exception as exc:  # noqa: BLE001
        return _describe(exc)


def check_components() -> dict[str, str]:
    return {
        "database": check_database(),
        "cache": check_cache(),
        "channel_layer": check_channel_layer(),
    }
