"""Real checks of the database, the cache and the channel layer."""

import asyncio
import contextlib
import uuid

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


async def _check_layer() -> str:
    layer = get_channel_layer()
    if layer is None:
        return "down: no channel layer configured"
    channel = await layer.new_channel(prefix="health.")
    try:
        await layer.send(channel, {"type": "health.ping"})
        await asyncio.wait_for(layer.receive(channel), timeout=2)
    finally:
        await _discard(layer, channel)
    return OK


async def _discard(layer, channel: str) -> None:
    """Give the check's channel back: the layers have no call for it, but a receive
    that is cancelled forgets its channel (channels-redis unsubscribes it; without
    this each check would leave a Redis subscription behind for good). After a
    timeout the cancelled wait has done it already."""
    if channel not in getattr(layer, "channels", {}):
        return
    receive = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)
    receive.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await receive


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
