"""Parallel consumptions on PostgreSQL: the row lock keeps the balance honest."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from brain.errors import Conflict
from credits import services
from credits.models import Account, LedgerEntry
from tests.conftest import token_for
from tests.credits.factories import ledger_sum, make_account

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

PARALLEL = 50


def require_postgresql():
    if connection.vendor != "postgresql":
        pytest.fail("concurrency is only proven on PostgreSQL (SQLite has no locks)")


def assert_ledger_consistent(agent_id: str, accepted_ids: list[int]) -> None:
    account = Account.objects.get(pk=agent_id)
    consumptions = LedgerEntry.objects.filter(agent_id=agent_id, kind="consumption")
    assert account.balance >= 0
    assert sorted(accepted_ids) == sorted(consumptions.values_list("id", flat=True))
    assert account.balance == ledger_sum(agent_id)
    # Each consumption saw the balance its predecessor left: no lost update.
    afters = [e.balance_after for e in consumptions.order_by("id")]
    assert afters == sorted(afters, reverse=True)
    assert len(set(afters)) == len(afters)


async def test_parallel_http_consumes_never_overdraw(start_server, make_user):
    """50 real requests at once against a real server; 30 fit in the balance.

    A server of its own, with persistent database connections off: Django's ASGI
    handler runs each request in a fresh thread, so with ``CONN_MAX_AGE`` > 0 every
    one of the 50 would leave an idle connection open on the shared PostgreSQL.
    """
    require_postgresql()
    live = await sync_to_async(start_server)(DB_CONN_MAX_AGE="0")
    user = await sync_to_async(make_user)("operator")
    token = await sync_to_async(token_for)(user)
    await sync_to_async(make_account)("busy-agent", "30.00")
    headers = {"Authorization": f"Token {token}"}

    async with httpx.AsyncClient(
        base_url=live.url,
        headers=headers,
        timeout=60,
        limits=httpx.Limits(max_connections=PARALLEL),
    ) as http:
        responses = await asyncio.gather(
            *(
                http.post(
                    "/api/credits/consume",
                    json={
                        "agent_id": "busy-agent",
                        "amount": "1.00",
                        "reason": f"request {n}",
                    },
                )
                for n in range(PARALLEL)
            )
        )

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 409}, [r.text for r in responses]
    accepted = [r.json() for r in responses if r.status_code == 200]
    refused = [r.json() for r in responses if r.status_code == 409]
    assert len(accepted) == 30
    assert all(
        body == {"detail": "insufficient credits", "balance": "0.00"}
        for body in refused
    )
    balances = sorted(Decimal(body["balance"]) for body in accepted)
    assert balances == [Decimal(n) for n in range(30)]
    await sync_to_async(assert_ledger_consistent)(
        "busy-agent", [body["transaction_id"] for body in accepted]
    )


def test_parallel_threads_consume_never_overdraw():
    """50 threads released together by a barrier, each with its own connection."""
    require_postgresql()
    make_account("thread-agent", "20.00")
    barrier = threading.Barrier(PARALLEL)

    def consume(n: int):
        try:
            barrier.wait(timeout=30)
            movement = services.credits_consume(
                agent_id="thread-agent", amount="0.75", reason=f"thread {n}"
            )
            return movement.transaction_id
        except Conflict as exc:
            assert exc.detail == "insufficient credits"
            return None
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(consume, range(PARALLEL)))

    accepted = [r for r in results if r is not None]
    # 20.00 / 0.75: 26 consumptions fit, leaving 0.50.
    assert len(accepted) == 26
    assert Account.objects.get(pk="thread-agent").balance == Decimal("0.50")
    assert_ledger_consistent("thread-agent", accepted)


def test_parallel_replays_of_one_key_move_credits_once():
    """The same request sent 10 times at once: one entry, one answer for all."""
    require_postgresql()
    make_account("retry-agent", "10.00")
    barrier = threading.Barrier(10)

    def consume(_):
        try:
            barrier.wait(timeout=30)
            return services.credits_consume(
                agent_id="retry-agent",
                amount="4.00",
                reason="flaky network",
                idempotency_key="job-1",
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        movements = list(pool.map(consume, range(10)))

    assert len({m.transaction_id for m in movements}) == 1
    assert sum(not m.replayed for m in movements) == 1
    assert {m.balance for m in movements} == {Decimal("6.00")}
    assert LedgerEntry.objects.filter(kind="consumption").count() == 1
    assert Account.objects.get(pk="retry-agent").balance == Decimal("6.00")
