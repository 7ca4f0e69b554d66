"""Credits follow missions: a movement's ``mission_id`` must exist (404), and a
refund for a mission returns at most what the agent consumed for it, less what was
refunded for it already (409)."""

import uuid

import pytest

from credits import services
from credits.models import LedgerEntry
from tests.missions.factories import make_mission

pytestmark = pytest.mark.django_db


@pytest.fixture
def mission():
    services.account_create(agent_id="agent-1", initial_credits="100.00")
    services.account_create(agent_id="agent-2", initial_credits="100.00")
    return make_mission()


def move(api, kind: str, **body):
    body.setdefault("agent_id", "agent-1")
    body.setdefault("reason", "test")
    return api.post(f"/api/credits/{kind}", body, format="json")


@pytest.mark.parametrize("kind", ["consume", "refund"])
def test_an_unknown_mission_is_404_and_moves_nothing(api, mission, kind):
    entries = LedgerEntry.objects.count()
    missing = uuid.uuid4()
    response = move(api, kind, amount="5", mission_id=str(missing))
    assert response.status_code == 404, response.content
    assert response.json()["detail"] == f"mission {missing} not found"
    assert response.json()["mission_id"] == str(missing)
    assert LedgerEntry.objects.count() == entries


def test_a_refund_returns_at_most_what_the_mission_consumed(api, mission):
    pk = str(mission.pk)
    assert move(api, "consume", amount="30", mission_id=pk).status_code == 200
    assert move(api, "consume", amount="5").status_code == 200  # no mission
    other = move(api, "consume", agent_id="agent-2", amount="50", mission_id=pk)
    assert other.status_code == 200
    too_much = move(api, "refund", amount="30.01", mission_id=pk)
    assert too_much.status_code == 409, too_much.content
    body = too_much.json()
    assert (body["consumed"], body["refunded"], body["refundable"]) == (
        "30.00",
        "0.00",
        "30.00",
    )
    assert move(api, "refund", amount="20", mission_id=pk).status_code == 200
    again = move(api, "refund", amount="10.01", mission_id=pk)
    assert again.status_code == 409
    assert again.json()["refundable"] == "10.00"
    assert move(api, "refund", amount="10", mission_id=pk).status_code == 200
    assert move(api, "refund", amount="0.01", mission_id=pk).status_code == 409
    balance = api.get("/api/credits/balance/agent-1").json()["balance"]
    assert balance == "95.00"


def test_a_refund_without_a_mission_is_not_capped(api, mission):
    response = move(api, "refund", amount="40")
    assert response.status_code == 200, response.content


def test_the_service_applies_the_same_rules_on_every_path(mission):
    with pytest.raises(services.NotFound):
        services.credits_consume(
            agent_id="agent-1", amount="1", reason="x", mission_id=uuid.uuid4()
        )
    with pytest.raises(services.Conflict):
        services.credits_refund(
            agent_id="agent-1", amount="1", reason="x", mission_id=mission.pk
        )
