"""Scenario 1's baseline: the least an ASGI app on uvicorn does to fan frames out.

No Django, no Channels, no Redis, no database. ``POST /prepare`` stores a JSON list of
already-encoded frames; ``POST /fire`` queues every frame for every open WebSocket, in
order; each socket's own coroutine sends them. That is the same shape as the event
hub (queue per socket, one writer per socket), minus everything the app adds.

Run: ``uvicorn bench.baseline_app:app``.
"""

import asyncio
import json

SUBSCRIBED = json.dumps({"control": "subscribed", "last_seq": 0})

queues: set[asyncio.Queue] = set()
frames: list[str] = []


async def _read_body(receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _respond(send, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _http(scope, receive, send) -> None:
    path = scope["path"]
    if path == "/prepare" and scope["method"] == "POST":
        frames[:] = json.loads(await _read_body(receive))
        return await _respond(send, 200, {"frames": len(frames)})
    if path == "/fire" and scope["method"] == "POST":
        await _read_body(receive)
        for text in frames:
            for queue in queues:
                queue.put_nowait(text)
        return await _respond(
            send, 200, {"frames": len(frames), "sockets": len(queues)}
        )
    if path == "/health":
        return await _respond(send, 200, {"status": "ok", "sockets": len(queues)})
    return await _respond(send, 404, {"detail": "not found"})


async def _websocket(scope, receive, send) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": SUBSCRIBED})
    queue: asyncio.Queue = asyncio.Queue()
    queues.add(queue)

    async def watch_disconnect() -> None:
        while (await receive())["type"] != "websocket.disconnect":
            pass
        queue.put_nowait(None)

    watcher = asyncio.create_task(watch_disconnect())
    try:
        while (text := await queue.get()) is not None:
            await send({"type": "websocket.send", "text": text})
    except OSError:
        pass
    finally:
        queues.discard(queue)
        watcher.cancel()


async def app(scope, receive, send) -> None:
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
