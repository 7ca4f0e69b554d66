"""The ledger's rules: append-only, never negative, idempotent, always the balance."""

import random
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from brain.errors import Conflict, Invalid, NotFound
from credits import services
from credits.models import Account, LedgerEntry
from tests.conftest import EventLogView
from tests.credits.factories import balance_of, ledger_sum, make_account
from tests.missions.factories import make_mission

pytestmark = pytest.mark.django_db


# What the database refuses (edits, deletes: test_direct_writes.py) --------------------


def test_an_account_with_entries_cannot_be_deleted():
    from django.db.models import ProtectedError

    make_account("agent-1", "5")
    with pytest.raises(ProtectedError), transaction.atomic():
        Account.objects.get(pk="agent-1").delete()
    assert Account.objects.filter(pk="agent-1").exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"amount": Decimal("0"), "balance_after": Decimal("1")},
        {"amount": Decimal("-1"), "balance_after": Decimal("1")},
        {"amount": Decimal("1"), "balance_after": Decimal("-1")},
        {"amount": Decimal("1"), "balance_after": Decimal("1"), "kind": "theft"},
        {"amount": Decimal("1"), "balance_after": Decimal("1"), "reason": ""},
    ],
    ids=["zero", "negative", "negative-balance", "bad-kind", "no-reason"],
)
def test_the_database_refuses_impossible_entries(fields):
    account = make_account("agent-1")
    row = {"kind": "allocation", "reason": "r", **fields}
    entry = LedgerEntry(agent=account, **row)
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.save()
    assert LedgerEntry.objects.count() == 0


def test_the_database_refuses_a_negative_balance():
    account = make_account("agent-1")
    account.balance = Decimal("-0.01")
    with pytest.raises(IntegrityError), transaction.atomic():
        account.save(update_fields=["balance"])


# Services refuse bad input on every path, not just the API -----------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": Decimal("-1")}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "2000000"}, "amount"),
        ({"amount": None}, "amount"),
        ({"reason": "  "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"mission_id": "not-a-uuid"}, "mission_id"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 129}, "idempotency_key"),
        ({"agent_id": "bad agent"}, "agent_id"),
    ],
)
def test_services_check_their_input(kwargs, field):
    make_account("agent-1", "10")
    params = {"agent_id": "agent-1", "amount": "1", "reason": "r", **kwargs}
    with pytest.raises(Invalid) as caught:
        services.credits_consume(**params)
    assert field in caught.value.extra
    assert caught.value.status_code == 400
    assert LedgerEntry.objects.count() == 1


def test_service_errors_carry_status_and_fields():
    make_account("agent-1", "1")
    with pytest.raises(NotFound):
        services.credits_allocate(agent_id="ghost", amount="1", reason="r")
    with pytest.raises(Conflict) as caught:
        services.credits_consume(agent_id="agent-1", amount="1.01", reason="r")
    assert caught.value.detail == "insufficient credits"
    assert caught.value.extra == {"balance": "1.00"}
    with pytest.raises(Conflict):
        services.account_create(agent_id="agent-1")


# Idempotency -----------------------------------------------------------------------


def test_replaying_a_consume_returns_the_first_result_and_moves_nothing(api):
    make_account("agent-1", "10")
    payload = {
        "agent_id": "agent-1",
        "amount": "3",
        "reason": "job 42",
        "idempotency_key": "job-42",
    }
    first = api.post("/api/credits/consume", payload)
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    events = EventLogView()
    # Another movement in between: the replay still answers what the first one did.
    api.post(
        "/api/credits/allocate", {"agent_id": "agent-1", "amount": "100", "reason": "r"}
    )
    again = api.post("/api/credits/consume", {**payload, "reason": "retry"})
    assert again.status_code == 200
    assert (
        again.json()
        == first.json()
        == {
            "agent_id": "agent-1",
            "balance": "7.00",
            "transaction_id": first.json()["transaction_id"],
        }
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert events.types() == ["credits.allocated"]
    assert LedgerEntry.objects.filter(kind="consumption").count() == 1
    assert balance_of("agent-1") == Decimal("107.00")


def test_replay_is_answered_even_when_the_balance_is_now_short(api):
    make_account("agent-1", "3")
    payload = {
        "agent_id": "agent-1",
        "amount": "3",
        "reason": "r",
        "idempotency_key": "k",
    }
    first = api.post("/api/credits/consume", payload)
    again = api.post("/api/credits/consume", payload)
    assert again.status_code == 200
    assert again.json()["transaction_id"] == first.json()["transaction_id"]


@pytest.mark.parametrize("endpoint", ["allocate", "refund"])
def test_replays_work_for_allocate_and_refund(api, endpoint):
    make_account("agent-1", "3")
    payload = {
        "agent_id": "agent-1",
        "amount": "1.10",
        "reason": "r",
        "idempotency_key": "k-1",
    }
    first = api.post(f"/api/credits/{endpoint}", payload)
    again = api.post(f"/api/credits/{endpoint}", {**payload, "amount": 1.1})
    assert again.status_code == 200
    assert again.json() == first.json()
    assert balance_of("agent-1") == Decimal("4.10")


def test_reusing_a_key_with_another_amount_is_409(api):
    make_account("agent-1", "10")
    payload = {
        "agent_id": "agent-1",
        "amount": "3",
        "reason": "r",
        "idempotency_key": "k",
    }
    first = api.post("/api/credits/consume", payload)
    events = EventLogView()
    response = api.post("/api/credits/consume", {**payload, "amount": "4"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "idempotency_key 'k' was already used for a consumption of 3.00; "
        "this request differs in amount",
        "idempotency_key": "k",
        "conflicts": ["amount"],
        "transaction_id": first.json()["transaction_id"],
    }
    assert balance_of("agent-1") == Decimal("7.00")
    assert events.all() == []


def test_reusing_a_key_for_another_kind_is_409(api):
    make_account("agent-1", "10")
    payload = {
        "agent_id": "agent-1",
        "amount": "3",
        "reason": "r",
        "idempotency_key": "k",
    }
    api.post("/api/credits/consume", payload)
    response = api.post("/api/credits/refund", {**payload, "amount": "5"})
    assert response.status_code == 409
    assert response.json()["conflicts"] == ["kind", "amount"]
    assert balance_of("agent-1") == Decimal("7.00")


def test_the_same_key_for_another_agent_is_a_new_request(api):
    make_account("agent-1", "10")
    make_account("agent-2", "10")
    payload = {"amount": "3", "reason": "r", "idempotency_key": "shared"}
    one = api.post("/api/credits/consume", {"agent_id": "agent-1", **payload})
    two = api.post("/api/credits/consume", {"agent_id": "agent-2", **payload})
    assert one.json()["transaction_id"] != two.json()["transaction_id"]
    assert balance_of("agent-1") == balance_of("agent-2") == Decimal("7.00")


def test_a_refused_request_does_not_use_up_its_key(api):
    make_account("agent-1", "1")
    payload = {
        "agent_id": "agent-1",
        "amount": "3",
        "reason": "r",
        "idempotency_key": "k",
    }
    assert api.post("/api/credits/consume", payload).status_code == 409
    api.post(
        "/api/credits/allocate", {"agent_id": "agent-1", "amount": "5", "reason": "r"}
    )
    response = api.post("/api/credits/consume", payload)
    assert response.status_code == 200
    assert response.json()["balance"] == "3.00"


# The invariant ----------------------------------------------------------------------


def assert_ledger_matches(agent_id: str) -> None:
    """The balance is the ledger's sum, and each entry's balance_after follows on."""
    running = Decimal("0.00")
    for entry in LedgerEntry.objects.filter(agent_id=agent_id).order_by("id"):
        running += entry.signed_amount
        assert entry.balance_after == running >= 0
    assert balance_of(agent_id) == running == ledger_sum(agent_id)


@pytest.mark.parametrize("seed", [1, 7, 2024])
def test_balance_is_the_sum_of_the_ledger_after_a_random_mix(seed):
    rng = random.Random(seed)
    agents = [f"agent-{n}" for n in range(4)]
    for agent_id in agents:
        make_account(agent_id, str(rng.choice([0, 5, 50])))
    missions = [make_mission(name=f"m{n}").id for n in range(3)]
    initial_entries = LedgerEntry.objects.count()
    events = EventLogView()
    accepted = refused = replayed = 0
    keyed: list[dict] = []
    # What each agent may still have refunded for each mission: what it consumed
    # for it, less what was refunded for it.
    refundable: dict[tuple, Decimal] = {}
    for step in range(300):
        operation = rng.choices(
            ["allocate", "consume", "refund", "replay"], weights=[2, 6, 1, 1]
        )[0]
        if operation == "replay" and keyed:
            params = rng.choice(keyed)
            movement = getattr(services, f"credits_{params['kind']}")(
                agent_id=params["agent_id"],
                amount=params["amount"],
                reason="retry",
                idempotency_key=params["key"],
            )
            assert movement.replayed
            assert movement.transaction_id == params["transaction_id"]
            replayed += 1
            continue
        kind = "consume" if operation == "replay" else operation
        params = {
            "agent_id": rng.choice(agents),
            "amount": Decimal(rng.randint(1, 3000)) / 100,
            "reason": f"step {step}",
        }
        if kind != "allocate" and rng.random() < 0.8:
            params["mission_id"] = rng.choice(missions)
        if rng.random() < 0.3:
            params["idempotency_key"] = f"key-{step}"
        linked = (params["agent_id"], params.get("mission_id"))
        try:
            movement = getattr(services, f"credits_{kind}")(**params)
        except Conflict as exc:
            if kind == "refund":
                assert linked[1] is not None
                assert params["amount"] > refundable.get(linked, 0)
                assert exc.detail.startswith(f"a refund for mission {linked[1]}")
            else:
                assert exc.detail == "insufficient credits"
            refused += 1
            continue
        if linked[1] is not None and kind != "allocate":
            sign = 1 if kind == "consume" else -1
            refundable[linked] = refundable.get(linked, 0) + sign * params["amount"]
            assert refundable[linked] >= 0
        accepted += 1
        if "idempotency_key" in params:
            keyed.append(
                {
                    "agent_id": params["agent_id"],
                    "kind": kind,
                    "amount": params["amount"],
                    "key": params["idempotency_key"],
                    "transaction_id": movement.transaction_id,
                }
            )
    assert accepted and refused and replayed
    for agent_id in agents:
        assert_ledger_matches(agent_id)
    assert LedgerEntry.objects.count() == initial_entries + accepted
    types = events.types()
    assert len([t for t in types if t != "credits.depleted"]) == accepted
    emptied = LedgerEntry.objects.filter(kind="consumption", balance_after=0)
    assert types.count("credits.depleted") == emptied.count()
