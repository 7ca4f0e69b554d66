"""``ASGIConcurrencyLimit``: at most N HTTP requests inside Django at once, the rest
queued on the loop in order; bodies are read (by ``ASGIBodyLimit``, outside it, as
in brain/asgi.py) before a slot is taken."""

import asyncio

import pytest

from brain.api.middleware import ASGIBodyLimit, ASGIConcurrencyLimit


class CountingApp:
    """An ASGI app that reads its body, holds the request a moment and answers."""

    def __init__(self, hold: float = 0.02) -> None:
        self.inside = 0
        self.most_inside = 0
        self.order: list[int] = []
        self.bodies: list[bytes] = []
        self.hold = hold

    async def __call__(self, scope, receive, send):
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        self.order.append(scope["n"])
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await asyncio.sleep(self.hold)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
        self.inside -= 1


def limited(app, limit: int, settings) -> ASGIBodyLimit:
    settings.HTTP_MAX_IN_FLIGHT = limit
    return ASGIBodyLimit(ASGIConcurrencyLimit(app))


async def request(app, n: int, chunks: list[bytes], gate: asyncio.Event | None = None):
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict] = []

    async def receive():
        if pending:
            if gate is not None and len(pending) == 1:
                await gate.wait()  # the last chunk is slow to come
            return pending.pop(0)
        await asyncio.Event().wait()  # no disconnect

    async def send(message):
        sent.append(message)

    await app({"type": "http", "n": n}, receive, send)
    return sent


async def test_no_more_than_the_limit_run_at_once_and_all_are_answered(settings):
    app = CountingApp()
    middleware = limited(app, 4, settings)
    answers = await asyncio.gather(
        *(request(middleware, n, [f"body {n}".encode()]) for n in range(40))
    )
    assert app.most_inside == 4
    assert [a[0]["status"] for a in answers] == [200] * 40
    assert [a[1]["body"] for a in answers] == [f"body {n}".encode() for n in range(40)]
    assert app.order == list(range(40))  # first come, first served


async def test_a_slow_upload_does_not_hold_a_slot(settings):
    app = CountingApp()
    middleware = limited(app, 1, settings)
    gate = asyncio.Event()
    slow = asyncio.create_task(request(middleware, 0, [b"part one, ", b"two"], gate))
    await asyncio.sleep(0.05)
    quick = await asyncio.wait_for(request(middleware, 1, [b"quick"]), timeout=2)
    assert quick[1]["body"] == b"quick" and not slow.done()
    gate.set()
    answer = await slow
    assert answer[1]["body"] == b"part one, two"  # every chunk reached the app


@pytest.mark.parametrize("scope_type", ["websocket", "lifespan"])
async def test_other_protocols_pass_straight_through(settings, scope_type):
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    await limited(app, 1, settings)({"type": scope_type}, None, None)
    assert seen == [scope_type]


async def test_zero_turns_the_limit_off(settings):
    app = CountingApp()
    middleware = limited(app, 0, settings)
    await asyncio.gather(*(request(middleware, n, [b"x"]) for n in range(10)))
    assert app.most_inside == 10
