"""Every credits event: type, source, target and payload, and nothing on rollback."""

import pytest
from django.db import transaction

from credits import services
from credits.models import Account, LedgerEntry
from tests.conftest import EventLogView, sent, settle
from tests.credits.factories import make_account
from tests.delivery import assert_delivered_as_stored
from tests.missions.factories import make_mission

pytestmark = pytest.mark.django_db

ENVELOPE_KEYS = {"id", "type", "source", "target", "timestamp", "payload", "meta"}


def assert_envelope(event: dict, *, type_: str, target: str | None, actor=None):
    assert set(event) == ENVELOPE_KEYS
    assert event["type"] == type_
    assert event["source"] == "credits_service"
    assert event["target"] == target
    assert event["meta"]["producer"] == "credits_service"
    assert event["meta"]["source_module"] == "credits"
    assert event["meta"]["actor"] == actor


def assert_about(delivered: list[list], *subjects: str) -> None:
    """Each delivered event is about ``subjects`` (what a socket's ``subject=``
    filter matches)."""
    assert {event.subjects for call in delivered for event in call} == {
        frozenset(subjects)
    }


def test_health_emits_health_checked(
    anon, events, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = anon.get("/api/credits/health")
    assert response.status_code == 200
    assert len(callbacks) == 1
    # Live-only: delivered once, after commit, with no seq, and never stored.
    assert events.all() == []
    ((wire,),) = delivered
    assert (wire.seq, wire.type, wire.subjects) == (
        None,
        "credits.health_checked",
        frozenset(),
    )
    (event,) = sent(delivered)
    assert_envelope(event, type_="credits.health_checked", target=None)
    assert "seq" not in event["meta"]
    assert event["payload"] == {
        "status": "ok",
        "checked_at": response.json()["timestamp"],
    }


def test_account_with_initial_credits_emits_allocated(
    api, events, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(
            "/api/credits/accounts", {"agent_id": "agent-1", "initial_credits": "40"}
        )
    assert response.status_code == 201
    assert len(callbacks) == 1
    entry = LedgerEntry.objects.get()
    (event,) = events.all()
    assert_envelope(
        event, type_="credits.allocated", target="agent_agent-1", actor="alice"
    )
    assert event["payload"] == {
        "agent_id": "agent-1",
        "amount": "40.00",
        "balance": "40.00",
        "reason": "initial credits",
        "transaction_id": entry.pk,
        "allocated_at": entry.created_at.timestamp(),
    }
    assert_delivered_as_stored(delivered, events.rows())
    assert_about(delivered, "agent_agent-1")


def test_account_without_credits_emits_nothing(
    api, events, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post("/api/credits/accounts", {"agent_id": "agent-1"})
    assert response.status_code == 201
    assert callbacks == []
    assert delivered == []
    assert events.all() == []


def test_allocate_emits_allocated(api, delivered, django_capture_on_commit_callbacks):
    make_account("agent-1", "1.00")
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(
            "/api/credits/allocate",
            {"agent_id": "agent-1", "amount": "12.5", "reason": "budget"},
        )
    assert response.status_code == 200
    assert len(callbacks) == 1
    entry = LedgerEntry.objects.get(pk=response.json()["transaction_id"])
    (event,) = events.all()
    assert_envelope(
        event, type_="credits.allocated", target="agent_agent-1", actor="alice"
    )
    assert event["payload"] == {
        "agent_id": "agent-1",
        "amount": "12.50",
        "balance": "13.50",
        "reason": "budget",
        "transaction_id": entry.pk,
        "allocated_at": entry.created_at.timestamp(),
    }
    assert_delivered_as_stored(delivered, events.rows())
    assert_about(delivered, "agent_agent-1")


def test_consume_emits_consumed(api, delivered, django_capture_on_commit_callbacks):
    make_account("agent-1", "10.00")
    mission_id = make_mission().id
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(
            "/api/credits/consume",
            {
                "agent_id": "agent-1",
                "amount": "2.5",
                "reason": "inference",
                "mission_id": str(mission_id),
            },
        )
    assert response.status_code == 200
    assert len(callbacks) == 1
    entry = LedgerEntry.objects.get(pk=response.json()["transaction_id"])
    (event,) = events.all()
    assert_envelope(
        event, type_="credits.consumed", target="agent_agent-1", actor="alice"
    )
    assert event["payload"] == {
        "agent_id": "agent-1",
        "amount": "2.50",
        "balance": "7.50",
        "reason": "inference",
        "mission_id": str(mission_id),
        "transaction_id": entry.pk,
        "consumed_at": entry.created_at.timestamp(),
    }
    assert_delivered_as_stored(delivered, events.rows())
    # About the agent and the mission: either subject follows it.
    assert_about(delivered, "agent_agent-1", f"mission_{mission_id}")


def test_consume_without_mission_has_null_mission_id(api):
    make_account("agent-1", "10.00")
    events = EventLogView()
    api.post(
        "/api/credits/consume", {"agent_id": "agent-1", "amount": "1", "reason": "r"}
    )
    (event,) = events.all()
    assert event["payload"]["mission_id"] is None


def test_refund_emits_refunded(api, delivered, django_capture_on_commit_callbacks):
    make_account("agent-1", "10.00")
    mission_id = make_mission().id
    # What the mission consumed caps what may be refunded for it.
    services.credits_consume(
        agent_id="agent-1", amount="1", reason="inference", mission_id=mission_id
    )
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(
            "/api/credits/refund",
            {
                "agent_id": "agent-1",
                "amount": "0.75",
                "reason": "mission failed",
                "mission_id": str(mission_id),
            },
        )
    assert response.status_code == 200
    assert len(callbacks) == 1
    entry = LedgerEntry.objects.get(pk=response.json()["transaction_id"])
    (event,) = events.all()
    assert_envelope(
        event, type_="credits.refunded", target="agent_agent-1", actor="alice"
    )
    assert event["payload"] == {
        "agent_id": "agent-1",
        "amount": "0.75",
        "balance": "9.75",
        "reason": "mission failed",
        "mission_id": str(mission_id),
        "transaction_id": entry.pk,
        "refunded_at": entry.created_at.timestamp(),
    }
    assert_delivered_as_stored(delivered, events.rows())
    assert_about(delivered, "agent_agent-1", f"mission_{mission_id}")


def test_consuming_to_zero_emits_consumed_then_depleted(
    api, delivered, django_capture_on_commit_callbacks
):
    make_account("agent-1", "4.00")
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(
            "/api/credits/consume",
            {"agent_id": "agent-1", "amount": "4", "reason": "last job"},
        )
    assert response.status_code == 200
    assert len(callbacks) == 1  # one per transaction
    entry = LedgerEntry.objects.get(pk=response.json()["transaction_id"])
    consumed, depleted = events.all()
    assert consumed["type"] == "credits.consumed"
    assert consumed["payload"]["balance"] == "0.00"
    assert_envelope(
        depleted, type_="credits.depleted", target="agent_agent-1", actor="alice"
    )
    assert depleted["payload"] == {
        "agent_id": "agent-1",
        "depleted_at": entry.created_at.timestamp(),
    }
    assert depleted["meta"]["seq"] == consumed["meta"]["seq"] + 1
    assert depleted["meta"]["correlation_id"] == consumed["meta"]["correlation_id"]
    # Both in the transaction's one delivery, in that order.
    assert_delivered_as_stored(delivered, events.rows())
    assert_about(delivered, "agent_agent-1")


def test_consuming_above_zero_does_not_deplete(api):
    make_account("agent-1", "4.00")
    events = EventLogView()
    api.post(
        "/api/credits/consume",
        {"agent_id": "agent-1", "amount": "3.99", "reason": "almost"},
    )
    assert events.types() == ["credits.consumed"]


def test_events_from_the_shell_have_no_actor_unless_given():
    make_account("agent-1", "4.00")
    events = EventLogView()
    services.credits_consume(agent_id="agent-1", amount="1", reason="cron")
    services.credits_consume(
        agent_id="agent-1", amount="1", reason="cron", actor="scheduler"
    )
    first, second = events.all()
    assert first["meta"]["actor"] is None
    assert second["meta"]["actor"] == "scheduler"
    assert LedgerEntry.objects.get(pk=second["payload"]["transaction_id"]).actor == (
        "scheduler"
    )


@pytest.mark.parametrize(
    "operation",
    [
        lambda: services.account_create(agent_id="agent-2", initial_credits="5"),
        lambda: services.credits_allocate(agent_id="agent-1", amount="1", reason="r"),
        lambda: services.credits_consume(agent_id="agent-1", amount="1", reason="r"),
        lambda: services.credits_consume(agent_id="agent-1", amount="5", reason="r"),
        lambda: services.credits_refund(agent_id="agent-1", amount="1", reason="r"),
        services.credits_health_check,
    ],
    ids=["account", "allocate", "consume", "deplete", "refund", "health"],
)
def test_a_rolled_back_change_emits_nothing(
    operation, delivered, django_capture_on_commit_callbacks
):
    make_account("agent-1", "5.00")
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            # A live-only event is never stored: it waits for the commit.
            with django_capture_on_commit_callbacks() as waiting:
                operation()
            assert events.all() or waiting, "the operation should have emitted"
            raise RuntimeError("roll back")
    assert callbacks == []
    assert delivered == []
    assert events.all() == []
    assert Account.objects.get(pk="agent-1").balance == 5
    assert LedgerEntry.objects.count() == 1
    assert not Account.objects.filter(pk="agent-2").exists()


def test_a_refused_change_emits_nothing(api):
    make_account("agent-1", "1.00")
    events = EventLogView()
    api.post(
        "/api/credits/consume", {"agent_id": "agent-1", "amount": "2", "reason": "r"}
    )
    api.post(
        "/api/credits/consume", {"agent_id": "ghost", "amount": "1", "reason": "r"}
    )
    api.post(
        "/api/credits/consume", {"agent_id": "agent-1", "amount": "0", "reason": "r"}
    )
    api.post("/api/credits/accounts", {"agent_id": "agent-1", "initial_credits": "1"})
    assert events.all() == []


def test_every_credits_event_is_declared_once():
    from brain.events import registered_types

    declared = {
        name: spec
        for name, spec in registered_types().items()
        if name.startswith("credits.")
    }
    assert set(declared) == {
        "credits.health_checked",
        "credits.allocated",
        "credits.consumed",
        "credits.refunded",
        "credits.depleted",
    }
    assert {spec.source for spec in declared.values()} == {"credits_service"}
    assert declared["credits.health_checked"].target is None
    assert {
        spec.target
        for name, spec in declared.items()
        if name != "credits.health_checked"
    } == {"agent_{agent_id}"}
