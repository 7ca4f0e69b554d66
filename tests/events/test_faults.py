"""Faults survived: a server killed with -9, PostgreSQL refusing connections."""

import asyncio
import socket
import threading

import httpx
import pytest
from asgiref.sync import sync_to_async

from brain.events.models import EventLog
from missions.models import Mission, MissionLog
from tests.clients import ResumingClient
from tests.conftest import token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
async def token(make_user):
    user = await sync_to_async(make_user)("operator")
    return await sync_to_async(token_for)(user)


async def create_missions(server, token: str, names) -> list[dict]:
    out = []
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as http:
        for name in names:
            response = await http.post(
                "/api/missions",
                json={"name": name},
                headers={"Authorization": f"Token {token}"},
            )
            assert response.status_code == 201, response.text
            out.append(response.json())
    return out


def names_of(events) -> list[str]:
    return [e["payload"]["name"] for e in events if e["type"] == "mission.created"]


async def test_kill_9_of_one_process_loses_nothing(start_server, private_redis, token):
    one = start_server(REDIS_URL=private_redis.url)
    two = start_server(REDIS_URL=private_redis.url)
    on_one = ResumingClient(one.ws_url, token, "types=mission.created")
    on_two = ResumingClient(two.ws_url, token, "types=mission.created")
    on_one.start(), on_two.start()
    try:
        await on_one.connected(), await on_two.connected()
        await create_missions(one, token, ["a", "b"])
        await on_one.wait_for(2), await on_two.wait_for(2)
        one.kill()
        await create_missions(two, token, ["c", "d", "e"])
        await on_two.wait_for(5)
        one.start()  # same port: the client reconnects on its own and resumes
        await create_missions(one, token, ["f"])
        for client in (on_one, on_two):
            await client.wait_for(6)
            await asyncio.sleep(1.0)
            assert names_of(client.events) == ["a", "b", "c", "d", "e", "f"]
            assert client.duplicates == 0
        assert on_one.reconnects >= 1 and on_two.reconnects == 0
    finally:
        await on_one.stop(), await on_two.stop()


async def test_a_client_away_during_a_redis_outage_resumes_exactly(
    start_server, private_redis, token
):
    server = start_server(REDIS_URL=private_redis.url)
    client = ResumingClient(server.ws_url, token, "types=mission.created")
    client.start()
    try:
        await client.connected()
        await create_missions(server, token, ["before"])
        await client.wait_for(1)
        await client.stop()
        private_redis.stop()
        await create_missions(server, token, ["during1", "during2"])
        client.start()  # reconnects while Redis is still down
        await client.wait_for(3)
        private_redis.start()
        await create_missions(server, token, ["after"])
        await client.wait_for(4)
        await asyncio.sleep(1.5)
        assert names_of(client.events) == ["before", "during1", "during2", "after"]
        assert client.duplicates == 0
    finally:
        await client.stop()


class FlakyProxy:
    """A TCP proxy to PostgreSQL that can refuse and drop connections on demand."""

    def __init__(self, target_port: int = 5432) -> None:
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()  # refused at once, as a stopped server would
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def go_down(self) -> None:
        self.up = False
        with self.lock:
            conns, self.conns = self.conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def come_back(self) -> None:
        self.up = True

    def close(self) -> None:
        self.go_down()
        self.listener.close()


def count_rows() -> tuple[int, int, int]:
    return (
        Mission.objects.count(),
        MissionLog.objects.count(),
        EventLog.objects.filter(type="mission.created").count(),
    )


async def test_postgres_refusing_connections_gives_503_then_recovers(
    start_server, token
):
    from django.conf import settings

    db = settings.DATABASES["default"]
    proxy = FlakyProxy()
    server = start_server(
        DATABASE_URL=f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}",
        DB_POOL_TIMEOUT="2",
    )
    try:
        await create_missions(server, token, ["before"])
        proxy.go_down()
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            for method, path, body in (
                ("GET", "/api/missions", None),
                ("POST", "/api/missions", {"name": "during"}),
                ("GET", "/api/health", None),
            ):
                response = await http.request(
                    method, path, json=body, headers={"Authorization": f"Token {token}"}
                )
                assert response.status_code == 503, (path, response.text)
                assert response.headers["content-type"].startswith("application/json")
                if path != "/api/health":
                    assert response.json()["detail"].startswith("database unavailable")
        proxy.come_back()
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            for _ in range(50):  # recovers by itself, no restart
                response = await http.get(
                    "/api/missions", headers={"Authorization": f"Token {token}"}
                )
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.2)
            assert response.status_code == 200
        await create_missions(server, token, ["after"])
        missions, log_lines, created_events = await sync_to_async(count_rows)()
        # Nothing half-written: each mission has its log line and its event.
        assert missions == 2 and log_lines == 2 and created_events == 2
    finally:
        proxy.close()
