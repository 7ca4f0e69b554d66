"""Races on PostgreSQL: one winner per transition, never the same mission twice."""

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections, transaction
from django.utils import timezone

from brain.events.models import EventLog
from missions import services
from missions.models import Mission, MissionLog, TransitionRefused
from supervisor import services as supervisor
from tests.conftest import token_for
from tests.missions.factories import make_mission, mission_in
from tests.supervisor.factories import working_agent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

PARALLEL = 20
# Threads hold a connection each from the pool (10): one is the test's own, one the
# event numbering thread's, one the sync_to_async thread's (left by the async tests).
THREADS = 7


def require_postgresql():
    if connection.vendor != "postgresql":
        pytest.fail("concurrency is only proven on PostgreSQL (SQLite has no locks)")


def run_together(work, count: int = THREADS) -> list:
    """``work(n)`` in ``count`` threads, each connected first, then released at once."""
    barrier = threading.Barrier(count)

    def run(n: int):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            return work(n)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def status_changes_of(mission_id) -> list[dict]:
    """The mission's ``mission.status_changed`` payloads, in the order stored."""
    return list(
        EventLog.objects.filter(
            type="mission.status_changed", subjects__has=f"mission_{mission_id}"
        )
        .order_by("id")
        .values_list("payload", flat=True)
    )


def make_queue(count: int) -> list:
    """``count`` PENDING missions; returns their ids in queue order (priority
    highest first, then oldest first), created in another order."""
    base = timezone.now() - timedelta(hours=1)
    priorities = [10, 20, 30, 40]
    specs = [(priorities[n % 4], (n * 7) % count) for n in range(count)]
    made = []
    for priority, minutes in specs:
        mission = make_mission(name=f"p{priority}-t{minutes}", priority=priority)
        created = base + timedelta(minutes=minutes)
        Mission.objects.filter(pk=mission.pk).update(created_at=created)
        made.append((-priority, created, mission.pk))
    return [pk for *_, pk in sorted(made)]


# Transitions --------------------------------------------------------------------------


def test_threads_racing_the_same_transition_have_one_winner():
    require_postgresql()
    for _ in range(5):
        mission = make_mission()

        def start(n: int, mission=mission):
            try:
                services.mission_set_status(mission_id=mission.pk, status="RUNNING")
                return "won"
            except TransitionRefused as exc:
                assert exc.extra["current_status"] == "RUNNING"
                return "refused"

        results = run_together(start)
        assert results.count("won") == 1, results
        assert results.count("refused") == THREADS - 1
        stored = Mission.objects.get(pk=mission.pk)
        assert stored.status == "RUNNING"
        assert status_changes_of(mission.pk) == [
            {
                "mission_id": str(mission.pk),
                "old_status": "PENDING",
                "new_status": "RUNNING",
                "changed_at": stored.updated_at.timestamp(),
            }
        ]
        changes = MissionLog.objects.filter(
            mission=mission, message="Mission status changed"
        )
        assert changes.count() == 1


def test_threads_racing_different_final_statuses_have_one_winner():
    require_postgresql()
    targets = ["COMPLETED", "FAILED", "CANCELLED"]
    for _ in range(3):
        mission = mission_in("RUNNING")

        def finish(n: int, mission=mission):
            target = targets[n % 3]
            try:
                services.mission_set_status(mission_id=mission.pk, status=target)
                return target
            except TransitionRefused:
                return None

        results = run_together(finish)
        winners = [r for r in results if r is not None]
        assert len(winners) == 1, results
        assert Mission.objects.get(pk=mission.pk).status == winners[0]
        changes = status_changes_of(mission.pk)
        assert [(c["old_status"], c["new_status"]) for c in changes] == [
            ("PENDING", "RUNNING"),
            ("RUNNING", winners[0]),
        ]


async def test_concurrent_http_requests_racing_a_transition_have_one_winner(
    live, make_user
):
    """Three missions, each raced by PARALLEL requests at once: one 200 each."""
    require_postgresql()
    user = await sync_to_async(make_user)("operator")
    token = await sync_to_async(token_for)(user)
    missions = [await sync_to_async(make_mission)(name=f"m{n}") for n in range(3)]
    async with httpx.AsyncClient(
        base_url=live.url,
        headers={"Authorization": f"Token {token}"},
        timeout=60,
        limits=httpx.Limits(max_connections=PARALLEL * 3),
    ) as http:
        # Warm the server's connection pool, so the race is not spread out by it.
        warm = await asyncio.gather(
            *(http.get("/api/missions/stats") for _ in range(PARALLEL))
        )
        assert {r.status_code for r in warm} == {200}
        responses = await asyncio.gather(
            *(
                http.post(
                    f"/api/missions/{mission.pk}/status", json={"status": "RUNNING"}
                )
                for _ in range(PARALLEL)
                for mission in missions
            )
        )
    for n, mission in enumerate(missions):
        raced = responses[n :: len(missions)]
        statuses = [r.status_code for r in raced]
        assert statuses.count(200) == 1, [r.text for r in raced]
        assert statuses.count(409) == PARALLEL - 1
        (won,) = [r.json() for r in raced if r.status_code == 200]
        assert (won["id"], won["status"]) == (str(mission.pk), "RUNNING")
        for refused in (r.json() for r in raced if r.status_code == 409):
            assert refused["current_status"] == "RUNNING"
            assert refused["allowed_transitions"] == [
                "COMPLETED",
                "FAILED",
                "CANCELLED",
            ]
        changes = await sync_to_async(status_changes_of)(mission.pk)
        assert [(c["old_status"], c["new_status"]) for c in changes] == [
            ("PENDING", "RUNNING")
        ]


# Claims -------------------------------------------------------------------------------


def test_threads_claiming_together_take_the_queue_in_order_and_never_share():
    """Rounds of THREADS concurrent claims on 30 missions: each round takes the next
    THREADS of the queue, the last gets the ones left and a None for each other."""
    require_postgresql()
    queue = make_queue(30)
    winners: dict = {}
    for start in range(0, 30, THREADS):
        for n in range(THREADS):
            working_agent(f"agent-{start + n}")

        def claim(n: int, start=start):
            agent = f"agent-{start + n}"
            mission = supervisor.agent_claim_mission(agent_id=agent)
            return agent, mission.pk if mission else None

        results = run_together(claim)
        won = {agent: pk for agent, pk in results if pk is not None}
        assert len(set(won.values())) == len(won), results
        assert set(won.values()) == set(queue[start : start + THREADS])
        assert sum(pk is None for _, pk in results) == max(0, start + THREADS - 30)
        winners.update(won)

    assert len(winners) == 30
    assert len(set(winners.values())) == 30
    for agent, pk in winners.items():
        stored = Mission.objects.get(pk=pk)
        assert (stored.status, stored.assigned_agent_id) == ("RUNNING", agent)
        assert len(status_changes_of(pk)) == 1
    assert not Mission.objects.filter(status="PENDING").exists()


def test_a_claim_passes_a_mission_another_transaction_holds():
    """``skip_locked``: the claim takes the next mission at once instead of waiting
    for the lock on the first."""
    require_postgresql()
    first, second = make_queue(2)
    working_agent("agent-1")
    locked, release = threading.Event(), threading.Event()

    def hold_first():
        try:
            with transaction.atomic():
                Mission.objects.select_for_update().get(pk=first)
                locked.set()
                release.wait(timeout=3)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_first)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        started = time.monotonic()
        claimed = supervisor.agent_claim_mission(agent_id="agent-1")
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert claimed.pk == second
    assert waited < 1.5
    assert Mission.objects.get(pk=first).status == "PENDING"


async def test_concurrent_http_claims_have_distinct_winners_then_204(live, make_user):
    require_postgresql()
    user = await sync_to_async(make_user)("operator")
    token = await sync_to_async(token_for)(user)
    queue = await sync_to_async(make_queue)(PARALLEL + 6)

    @sync_to_async
    def working_agents():
        for n in range(2 * PARALLEL):
            working_agent(f"agent-{n}")

    await working_agents()

    async with httpx.AsyncClient(
        base_url=live.url,
        headers={"Authorization": f"Token {token}"},
        timeout=60,
        limits=httpx.Limits(max_connections=PARALLEL),
    ) as http:

        async def burst(offset: int):
            return await asyncio.gather(
                *(
                    http.post(
                        "/api/missions/claim", json={"agent_id": f"agent-{offset + n}"}
                    )
                    for n in range(PARALLEL)
                )
            )

        first = await burst(0)
        second = await burst(PARALLEL)

    assert [r.status_code for r in first] == [200] * PARALLEL, [r.text for r in first]
    first_ids = [r.json()["id"] for r in first]
    assert len(set(first_ids)) == PARALLEL
    assert set(first_ids) == {str(pk) for pk in queue[:PARALLEL]}
    for response, n in zip(first, range(PARALLEL), strict=True):
        assert response.json()["assigned_agent"] == f"agent-{n}"

    statuses = sorted(r.status_code for r in second)
    assert statuses == [200] * 6 + [204] * (PARALLEL - 6)
    second_ids = {r.json()["id"] for r in second if r.status_code == 200}
    assert second_ids == {str(pk) for pk in queue[PARALLEL:]}

    @sync_to_async
    def stored_claims():
        return {
            str(m.pk): m.assigned_agent_id
            for m in Mission.objects.filter(status="RUNNING")
        }, EventLog.objects.filter(type="mission.status_changed").count()

    claims, changes = await stored_claims()
    assert len(claims) == PARALLEL + 6
    assert len(set(claims.values())) == PARALLEL + 6
    assert changes == PARALLEL + 6
