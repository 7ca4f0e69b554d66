"""The REST API: every endpoint, its errors, its permissions and its query counts."""

from decimal import Decimal

import pytest

from brain import __version__
from credits.models import Account, LedgerEntry
from tests.credits.factories import balance_of, ledger_sum, make_account
from tests.missions.factories import make_mission

pytestmark = pytest.mark.django_db


def both_slashes(path: str) -> list[str]:
    return [path, path + "/"]


# Health and info ------------------------------------------------------------------


@pytest.mark.parametrize("path", both_slashes("/api/credits/health"))
def test_health_is_public(anon, path):
    response = anon.get(path)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "timestamp"}
    assert body["status"] == "ok"
    assert isinstance(body["timestamp"], float)


@pytest.mark.parametrize("path", both_slashes("/api/credits/info"))
def test_info_describes_the_service(api, path, settings):
    settings.CREDITS_MAX_AMOUNT = "500.00"
    response = api.get(path)
    assert response.status_code == 200
    assert response.json() == {
        "name": "brain.credits",
        "version": __version__,
        "config": {
            "max_amount": "500.00",
            "currency_decimals": 2,
            "kinds": ["allocation", "consumption", "refund"],
            "history_limit_default": 100,
            "history_limit_max": 1000,
        },
    }


# Accounts ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", both_slashes("/api/credits/accounts"))
def test_create_account_without_credits(api, path):
    response = api.post(path, {"agent_id": "agent-1"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["agent_id"] == "agent-1"
    assert body["balance"] == "0.00"
    assert set(body) == {"agent_id", "balance", "created_at", "updated_at"}
    assert LedgerEntry.objects.count() == 0


def test_create_account_with_initial_credits_books_an_allocation(api):
    response = api.post(
        "/api/credits/accounts", {"agent_id": "agent-1", "initial_credits": "25.5"}
    )
    assert response.status_code == 201
    assert response.json()["balance"] == "25.50"
    (entry,) = LedgerEntry.objects.all()
    assert (entry.kind, entry.amount, entry.balance_after) == (
        "allocation",
        Decimal("25.50"),
        Decimal("25.50"),
    )
    assert entry.reason == "initial credits"
    assert entry.actor == "alice"


def test_duplicate_account_is_409_and_changes_nothing(api, events):
    make_account("agent-1", "10.00")
    before = events.all()
    response = api.post(
        "/api/credits/accounts", {"agent_id": "agent-1", "initial_credits": "99"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "agent agent-1 already has a credit account",
        "agent_id": "agent-1",
    }
    assert balance_of("agent-1") == Decimal("10.00")
    assert LedgerEntry.objects.count() == 1
    assert events.all() == before


@pytest.mark.parametrize(
    "agent_id", ["", "has space", "x" * 65, "slash/agent", "ünïcode", None, True, ["a"]]
)
def test_bad_agent_id_is_400(api, agent_id):
    response = api.post("/api/credits/accounts", {"agent_id": agent_id})
    assert response.status_code == 400
    assert "agent_id" in response.json()
    assert Account.objects.count() == 0


@pytest.mark.parametrize("initial", ["-1", "0.001", "1000000.01", "lots", True])
def test_bad_initial_credits_is_400(api, initial):
    response = api.post(
        "/api/credits/accounts", {"agent_id": "agent-1", "initial_credits": initial}
    )
    assert response.status_code == 400
    assert "initial_credits" in response.json()
    assert Account.objects.count() == 0


# Movements -------------------------------------------------------------------------


@pytest.mark.parametrize("path", both_slashes("/api/credits/allocate"))
def test_allocate(api, path):
    make_account("agent-1", "1.00")
    response = api.post(
        path, {"agent_id": "agent-1", "amount": "10.25", "reason": "weekly budget"}
    )
    assert response.status_code == 200, response.json()
    entry = LedgerEntry.objects.get(kind="allocation", reason="weekly budget")
    assert response.json() == {
        "agent_id": "agent-1",
        "balance": "11.25",
        "transaction_id": entry.pk,
    }
    assert entry.balance_after == Decimal("11.25")
    assert entry.actor == "alice"
    assert balance_of("agent-1") == Decimal("11.25")


@pytest.mark.parametrize("path", both_slashes("/api/credits/consume"))
def test_consume(api, path):
    make_account("agent-1", "10.00")
    mission_id = make_mission().id
    response = api.post(
        path,
        {
            "agent_id": "agent-1",
            "amount": 2.5,
            "reason": "inference",
            "mission_id": str(mission_id),
        },
    )
    assert response.status_code == 200, response.json()
    entry = LedgerEntry.objects.get(kind="consumption")
    assert response.json() == {
        "agent_id": "agent-1",
        "balance": "7.50",
        "transaction_id": entry.pk,
    }
    assert entry.mission_id == mission_id
    assert entry.amount == Decimal("2.50")
    assert balance_of("agent-1") == Decimal("7.50")


@pytest.mark.parametrize("path", both_slashes("/api/credits/refund"))
def test_refund(api, path):
    make_account("agent-1", "10.00")
    mission_id = make_mission().id
    # A refund for a mission returns at most what the agent consumed for it.
    api.post(
        "/api/credits/consume",
        {
            "agent_id": "agent-1",
            "amount": "4",
            "reason": "r",
            "mission_id": str(mission_id),
        },
    )
    response = api.post(
        path,
        {
            "agent_id": "agent-1",
            "amount": "3",
            "reason": "mission failed",
            "mission_id": str(mission_id),
        },
    )
    assert response.status_code == 200, response.json()
    entry = LedgerEntry.objects.get(kind="refund")
    assert response.json() == {
        "agent_id": "agent-1",
        "balance": "9.00",
        "transaction_id": entry.pk,
    }
    assert entry.mission_id == mission_id


def test_consuming_the_whole_balance_is_allowed(api):
    make_account("agent-1", "5.00")
    response = api.post(
        "/api/credits/consume", {"agent_id": "agent-1", "amount": "5", "reason": "all"}
    )
    assert response.status_code == 200
    assert response.json()["balance"] == "0.00"


def test_insufficient_credits_is_409_and_nothing_moves(api, events):
    make_account("agent-1", "3.00")
    before = events.all()
    response = api.post(
        "/api/credits/consume",
        {"agent_id": "agent-1", "amount": "3.01", "reason": "too much"},
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "insufficient credits", "balance": "3.00"}
    assert balance_of("agent-1") == Decimal("3.00")
    assert LedgerEntry.objects.filter(kind="consumption").count() == 0
    assert events.all() == before


@pytest.mark.parametrize("endpoint", ["allocate", "consume", "refund"])
def test_unknown_agent_is_404(api, endpoint, events):
    response = api.post(
        f"/api/credits/{endpoint}",
        {"agent_id": "ghost", "amount": "1", "reason": "r"},
    )
    assert response.status_code == 404
    assert response.json() == {
        "detail": "no credit account for agent ghost",
        "agent_id": "ghost",
    }
    assert Account.objects.count() == 0
    assert events.all() == []


BAD_AMOUNTS = [
    pytest.param(0, id="zero"),
    pytest.param("0.00", id="zero-string"),
    pytest.param(-5, id="negative"),
    pytest.param("-0.01", id="negative-string"),
    pytest.param("1.234", id="three-decimals"),
    pytest.param(0.001, id="three-decimals-float"),
    pytest.param("1000000.01", id="over-max"),
    pytest.param(1e30, id="huge"),
    pytest.param("ten", id="not-a-number"),
    pytest.param("NaN", id="nan"),
    pytest.param("Infinity", id="infinity"),
    pytest.param(True, id="boolean"),
    pytest.param([1], id="list"),
    pytest.param(None, id="null"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_amount_is_400_naming_amount(api, amount, events):
    make_account("agent-1", "50.00")
    before = events.all()
    for endpoint in ("allocate", "consume", "refund"):
        response = api.post(
            f"/api/credits/{endpoint}",
            {"agent_id": "agent-1", "amount": amount, "reason": "r"},
            format="json",
        )
        assert response.status_code == 400, endpoint
        body = response.json()
        assert list(body) == ["amount"]
        assert body["amount"] and all(isinstance(m, str) for m in body["amount"])
    assert balance_of("agent-1") == Decimal("50.00")
    assert LedgerEntry.objects.count() == 1
    assert events.all() == before


def test_missing_amount_is_400(api):
    make_account("agent-1", "50.00")
    for endpoint in ("allocate", "consume", "refund"):
        response = api.post(
            f"/api/credits/{endpoint}", {"agent_id": "agent-1", "reason": "r"}
        )
        assert response.status_code == 400
        assert response.json() == {"amount": ["This field is required."]}
    assert LedgerEntry.objects.count() == 1


def test_amount_messages_say_what_is_wrong(api, settings):
    make_account("agent-1", "50.00")

    def error(amount):
        response = api.post(
            "/api/credits/allocate",
            {"agent_id": "agent-1", "amount": amount, "reason": "r"},
        )
        return response.json()["amount"][0]

    assert error("0") == "must be greater than 0"
    assert error("-1") == "must be greater than 0"
    assert error("1.001") == "must have at most 2 decimal places"
    assert error("1000000.01") == "must be at most 1000000.00"
    assert (
        error("x") == 'must be written like "12.50": ASCII digits, at most 2 decimals'
    )
    settings.CREDITS_MAX_AMOUNT = "100.00"
    assert error("100.01") == "must be at most 100.00"


def test_amount_at_the_maximum_and_trailing_zeros_are_accepted(api):
    make_account("agent-1")
    for amount in ("1000000.00", "1.500", 7):
        response = api.post(
            "/api/credits/allocate",
            {"agent_id": "agent-1", "amount": amount, "reason": "r"},
        )
        assert response.status_code == 200, (amount, response.json())
    assert balance_of("agent-1") == Decimal("1000008.50")


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 501])
def test_reason_is_required_and_bounded(api, reason):
    make_account("agent-1", "50.00")
    payload = {"agent_id": "agent-1", "amount": "1"}
    if reason is not None:
        payload["reason"] = reason
    for endpoint in ("allocate", "consume", "refund"):
        response = api.post(f"/api/credits/{endpoint}", payload)
        assert response.status_code == 400
        assert list(response.json()) == ["reason"]
    assert LedgerEntry.objects.count() == 1


def test_reason_of_500_characters_is_accepted(api):
    make_account("agent-1", "50.00")
    response = api.post(
        "/api/credits/consume",
        {"agent_id": "agent-1", "amount": "1", "reason": "x" * 500},
    )
    assert response.status_code == 200


def test_mission_id_must_be_a_uuid(api):
    make_account("agent-1", "50.00")
    response = api.post(
        "/api/credits/consume",
        {"agent_id": "agent-1", "amount": "1", "reason": "r", "mission_id": "m-1"},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["mission_id"]


def test_balance_never_exceeds_what_the_column_holds(api, settings):
    settings.CREDITS_MAX_AMOUNT = "999999999999.99"
    make_account("agent-1", "999999999999.00")
    response = api.post(
        "/api/credits/allocate",
        {"agent_id": "agent-1", "amount": "0.99", "reason": "up to the limit"},
    )
    assert response.status_code == 200
    assert response.json()["balance"] == "999999999999.99"
    response = api.post(
        "/api/credits/allocate",
        {"agent_id": "agent-1", "amount": "0.01", "reason": "one cent too many"},
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "the balance would exceed its maximum",
        "balance": "999999999999.99",
        "max_balance": "999999999999.99",
    }
    assert LedgerEntry.objects.count() == 2
    assert balance_of("agent-1") == ledger_sum("agent-1")


# Reads ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", both_slashes("/api/credits/balance/agent-1"))
def test_balance(api, path):
    make_account("agent-1", "12.30")
    response = api.get(path)
    assert response.status_code == 200
    assert response.json() == {"agent_id": "agent-1", "balance": "12.30"}


def test_balance_of_unknown_agent_is_404(api):
    response = api.get("/api/credits/balance/ghost")
    assert response.status_code == 404
    assert response.json()["detail"] == "no credit account for agent ghost"


@pytest.mark.parametrize("path", both_slashes("/api/credits/balances"))
def test_balances_are_paginated(api, path):
    for n in range(5):
        make_account(f"agent-{n}", f"{n}.50")
    response = api.get(path, {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert [a["agent_id"] for a in body["results"]] == ["agent-0", "agent-1"]
    assert body["results"][1]["balance"] == "1.50"
    assert body["next"] is not None
    page3 = api.get(path, {"page_size": 2, "page": 3}).json()
    assert [a["agent_id"] for a in page3["results"]] == ["agent-4"]


def test_balances_can_be_ordered_by_balance(api):
    make_account("a", "3")
    make_account("b", "1")
    make_account("c", "2")
    body = api.get("/api/credits/balances", {"ordering": "-balance"}).json()
    assert [a["agent_id"] for a in body["results"]] == ["a", "c", "b"]


def _history_setup():
    from credits import services

    make_account("agent-1", "100")
    services.credits_consume(agent_id="agent-1", amount="10", reason="c1")
    services.credits_refund(agent_id="agent-1", amount="4", reason="r1")
    services.credits_consume(agent_id="agent-1", amount="1", reason="c2")
    make_account("agent-2", "7")


@pytest.mark.parametrize("path", both_slashes("/api/credits/history/agent-1"))
def test_history_newest_first(api, path):
    _history_setup()
    response = api.get(path)
    assert response.status_code == 200
    body = response.json()
    assert body["agent_id"] == "agent-1"
    assert body["balance"] == "93.00"
    rows = body["transactions"]
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in rows] == [
        ("consumption", "1.00", "93.00"),
        ("refund", "4.00", "94.00"),
        ("consumption", "10.00", "90.00"),
        ("allocation", "100.00", "100.00"),
    ]
    assert set(rows[0]) == {
        "id",
        "agent_id",
        "kind",
        "amount",
        "balance_after",
        "reason",
        "mission_id",
        "actor",
        "idempotency_key",
        "created_at",
    }
    assert rows[0]["reason"] == "c2"


def test_history_limit_and_kind(api):
    _history_setup()
    body = api.get("/api/credits/history/agent-1", {"limit": 2}).json()
    assert [r["reason"] for r in body["transactions"]] == ["c2", "r1"]
    body = api.get("/api/credits/history/agent-1", {"kind": "consumption"}).json()
    assert [r["reason"] for r in body["transactions"]] == ["c2", "c1"]
    body = api.get(
        "/api/credits/history/agent-1", {"kind": "consumption", "limit": 1}
    ).json()
    assert [r["reason"] for r in body["transactions"]] == ["c2"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"kind": "theft"}, "kind"),
    ],
)
def test_history_bad_query_is_400(api, query, field):
    _history_setup()
    response = api.get("/api/credits/history/agent-1", query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_history_of_unknown_agent_is_404(api):
    response = api.get("/api/credits/history/ghost")
    assert response.status_code == 404


def test_history_default_limit_is_100(api):
    from credits import services

    make_account("agent-1", "1000")
    for n in range(105):
        services.credits_consume(agent_id="agent-1", amount="1", reason=f"c{n}")
    body = api.get("/api/credits/history/agent-1").json()
    assert len(body["transactions"]) == 100
    assert body["transactions"][0]["reason"] == "c104"


# Query counts ------------------------------------------------------------------------

# Token lookup, the user's permissions (its own and its groups'), count, page.
BALANCES_QUERIES = 5
# Token lookup, the user's permissions (its own and its groups'), account, entries.
HISTORY_QUERIES = 5


@pytest.mark.parametrize("size", [3, 40])
def test_balances_run_a_constant_number_of_queries(
    api, size, django_assert_num_queries
):
    for n in range(size):
        make_account(f"agent-{n:03}", "1")
    with django_assert_num_queries(BALANCES_QUERIES):
        response = api.get("/api/credits/balances", {"page_size": 500})
    assert len(response.json()["results"]) == size


@pytest.mark.parametrize("size", [3, 40])
def test_history_runs_a_constant_number_of_queries(
    api, size, django_assert_num_queries
):
    from credits import services

    make_account("agent-1", "1000")
    for n in range(size - 1):
        services.credits_consume(
            agent_id="agent-1",
            amount="1",
            reason=f"c{n}",
            mission_id=make_mission(name=f"m{n}").id,
        )
    with django_assert_num_queries(HISTORY_QUERIES):
        response = api.get("/api/credits/history/agent-1", {"limit": 1000})
    assert len(response.json()["transactions"]) == size


# Permissions -----------------------------------------------------------------------

WRITES = [
    ("/api/credits/accounts", {"agent_id": "agent-9", "initial_credits": "5"}),
    ("/api/credits/allocate", {"agent_id": "agent-1", "amount": "1", "reason": "r"}),
    ("/api/credits/consume", {"agent_id": "agent-1", "amount": "1", "reason": "r"}),
    ("/api/credits/refund", {"agent_id": "agent-1", "amount": "1", "reason": "r"}),
]
READS = [
    "/api/credits/info",
    "/api/credits/balance/agent-1",
    "/api/credits/balances",
    "/api/credits/history/agent-1",
]


@pytest.mark.parametrize(("path", "payload"), WRITES)
def test_viewer_cannot_write(api_as, path, payload, events):
    make_account("agent-1", "10")
    before = events.all()
    response = api_as("viewer").post(path, payload)
    assert response.status_code == 403
    assert balance_of("agent-1") == Decimal("10.00")
    assert Account.objects.count() == 1
    assert events.all() == before


@pytest.mark.parametrize("path", READS)
def test_viewer_can_read(api_as, path):
    make_account("agent-1", "10")
    assert api_as("viewer").get(path).status_code == 200


@pytest.mark.parametrize(("path", "payload"), WRITES)
def test_anonymous_cannot_write(anon, path, payload):
    make_account("agent-1", "10")
    response = anon.post(path, payload, format="json")
    assert response.status_code == 401
    assert balance_of("agent-1") == Decimal("10.00")


@pytest.mark.parametrize("path", READS)
def test_anonymous_cannot_read(anon, path):
    make_account("agent-1", "10")
    assert anon.get(path).status_code == 401


@pytest.mark.parametrize(("path", "payload"), WRITES)
def test_superuser_can_write(api_as, path, payload):
    make_account("agent-1", "10")
    response = api_as("superuser").post(path, payload)
    assert response.status_code in (200, 201), response.json()
