"""Every credits event: type, source, target and payload, and nothing on rollback."""

import uuid

import pytest
from django.db import transaction

from credits import services
from credits.models import Account, LedgerEntry
from tests.conftest import EventLogView
from tests.credits.factories import make_account

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


def test_health_emits_health_checked(anon, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = anon.get("/api/credits/health")
    assert response.status_code == 200
    assert len(callbacks) == 1
    (event,) = events.all()
    assert_envelope(event, type_="credits.health_checked", target=None)
    assert event["payload"] == {
        "status": "ok",
        "checked_at": response.json()["timestamp"],
    }


def test_account_with_initial_credits_emits_allocated(
    api, events, django_capture_on_commit_callbacks
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


def test_account_without_credits_emits_nothing(
    api, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post("/api/credits/accounts", {"agent_id": "agent-1"})
    assert response.status_code == 201
    assert callbacks == []
    assert events.all() == []


def test_allocate_emits_allocated(api, django_capture_on_commit_callbacks):
    make_account("agent-1", "1.00")
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


def test_consume_emits_consumed(api, django_capture_on_commit_callbacks):
    make_account("agent-1", "10.00")
    mission_id = uuid.uuid4()
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


def test_consume_without_mission_has_null_mission_id(api):
    make_account("agent-1", "10.00")
    events = EventLogView()
    api.post(
        "/api/credits/consume", {"agent_id": "agent-1", "amount": "1", "reason": "r"}
    )
    (event,) = events.all()
    assert event["payload"]["mission_id"] is None


def test_refund_emits_refunded(api, django_capture_on_commit_callbacks):
    make_account("agent-1", "10.00")
    mission_id = uuid.uuid4()
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
        "balance": "10.75",
        "reason": "mission failed",
        "mission_id": str(mission_id),
        "transaction_id": entry.pk,
        "refunded_at": entry.created_at.timestamp(),
    }


def test_consuming_to_zero_emits_consumed_then_depleted(
    api, django_capture_on_commit_callbacks
):
    make_account("agent-1", "4.00")
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(
            "/api/credits/consume",
            {"agent_id": "agent-1", "amount": "4", "reason": "last job"},
        )
    assert response.status_code == 200
    assert len(callbacks) == 2
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
    operation, django_capture_on_commit_callbacks
):
    make_account("agent-1", "5.00")
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            operation()
            assert events.all(), "the operation should have emitted inside the block"
            raise RuntimeError("roll back")
    assert callbacks == []
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
