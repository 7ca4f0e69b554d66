"""``brain.http.OneHopASGIHandler`` on a real server: each request's database
connection goes back to the pool from the worker thread that took it, and the
per-request state Django keeps (the event context) does not leak between requests
that share a thread.

With a pool of 2 connections and 8 worker threads, 8 clients making 25 writes
each run the pool dry if a thread keeps its connection: after the view, until
``request_finished``, or while the write waits for its events' numbers (the
numbering thread then finds no connection, and requests fail after
``DB_POOL_TIMEOUT``: 12 of 200 answered 503 before ``wait_for_numbering`` gave the
connection back).
"""

import asyncio

import httpx

from tests.conftest import token_for

CLIENTS, REQUESTS = 8, 25


def test_threads_give_their_connections_back_and_keep_no_request_state(
    start_server, make_user
):
    server = start_server(DB_POOL_MAX_SIZE="2", DB_POOL_TIMEOUT="2", HTTP_THREADS="8")
    token = token_for(make_user("operator", "alice"))

    async def client(n: int) -> list[tuple[int, str, str]]:
        seen = []
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Token {token}"}
        ) as http:
            for i in range(REQUESTS):
                request_id = f"client-{n}-request-{i}"
                response = await http.post(
                    "/api/missions",
                    json={"name": f"pool {n}.{i}"},
                    headers={"X-Request-ID": request_id},
                )
                seen.append(
                    (response.status_code, request_id, response.headers["X-Request-ID"])
                )
        return seen

    async def everyone():
        return await asyncio.gather(*(client(n) for n in range(CLIENTS)))

    results = [row for rows in asyncio.run(everyone()) for row in rows]
    statuses = [status for status, _, _ in results]
    assert statuses == [201] * CLIENTS * REQUESTS, (statuses.count(503), statuses)
    assert all(sent == echoed for _, sent, echoed in results)
