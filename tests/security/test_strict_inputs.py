"""Inputs are what the schema says, and stored fields have a size (issue 16,
points 8 and 9). On a real uvicorn.

Before the fix ``"1e2"``, ``"1_000"``, ``"١٢"``, ``"１２"`` and ``".5"`` were
credit amounts although the schema's pattern is ``^\\d{1,12}(\\.\\d{1,2})?$``;
``mission_id: false`` became the all-zero UUID and an integer became a UUID;
mission ids in fullwidth digits or as ``urn:uuid:...`` resolved; ``page_size=null``
or ``2.5`` was served; a mission's ``data`` and a robot's ``imu_data`` had no size,
so three 7 MB missions made every list 22 MB.
"""

import uuid
from urllib.parse import quote

import httpx
import pytest

from missions.models import Mission
from tests.conftest import token_for
from tests.credits.factories import make_account
from tests.hardware.factories import make_robot, state_body
from tests.missions.factories import make_mission

pytestmark = [pytest.mark.slow]

FULLWIDTH = str.maketrans("0123456789abcdef", "０１２３４５６７８９ａｂｃｄｅｆ")


@pytest.fixture
def http(live, make_user):
    token = token_for(make_user("superuser"))
    with httpx.Client(
        base_url=live.url, headers={"Authorization": f"Token {token}"}, timeout=30
    ) as client:
        yield client


def refused(response, field: str, says: str | None = None) -> None:
    assert response.status_code == 400, response.text[:500]
    errors = response.json()
    assert field in errors, errors
    if says is not None:
        assert says in str(errors[field]), errors


@pytest.mark.parametrize(
    "amount", ["1e2", "1_000", "١٢", "１２", ".5", "5.", " 5", "0x10", "+5"]
)
def test_an_amount_is_written_as_the_schema_says(http, amount):
    make_account("agent-1", initial_credits="10")
    body = {"agent_id": "agent-1", "amount": amount, "reason": "top up"}
    refused(http.post("/api/credits/allocate", json=body), "amount")
    assert http.get("/api/credits/balance/agent-1").json()["balance"] == "10.00"


@pytest.mark.parametrize("amount", ["12.50", "12", "0012.5", 12.5, 3])
def test_amounts_the_schema_allows_still_work(http, amount):
    make_account("agent-1")
    body = {"agent_id": "agent-1", "amount": amount, "reason": "top up"}
    response = http.post("/api/credits/allocate", json=body)
    assert response.status_code in (200, 201), response.text


def test_a_uuid_in_a_body_is_a_uuid_string(http):
    mission = make_mission()
    make_account("agent-1", initial_credits="10")
    for value in [
        False,
        0,
        12345,
        f"urn:uuid:{mission.id}",
        f"{{{mission.id}}}",
        mission.id.hex,
        str(mission.id).translate(FULLWIDTH),
    ]:
        body = {
            "agent_id": "agent-1",
            "amount": "1",
            "reason": "r",
            "mission_id": value,
        }
        refused(http.post("/api/credits/consume", json=body), "mission_id")
        refused(http.post("/api/missions", json={"name": "n", "id": value}), "id")
    assert Mission.objects.count() == 1
    body = {"agent_id": "agent-1", "amount": "1", "reason": "r"}
    upper = {**body, "mission_id": str(mission.id).upper()}
    assert http.post("/api/credits/consume", json=upper).status_code in (200, 201)


def test_a_mission_id_in_the_url_is_a_uuid_string(http):
    mission = make_mission()
    assert http.get(f"/api/missions/{mission.id}").status_code == 200
    for spelling in [
        f"urn:uuid:{mission.id}",
        mission.id.hex,
        str(mission.id).translate(FULLWIDTH),
    ]:
        response = http.get(f"/api/missions/{quote(spelling)}")
        assert response.status_code == 404, (spelling, response.text)


@pytest.mark.parametrize("page_size", ["null", "2.5", "0", "-1", "１２", "1e1", ""])
def test_page_size_is_a_positive_integer(http, page_size):
    response = http.get("/api/missions", params={"page_size": page_size})
    refused(response, "page_size", says="integer from 1 to 500")


def test_page_sizes_the_schema_allows_still_work(http):
    for _ in range(3):
        make_mission()
    assert len(http.get("/api/missions?page_size=2").json()["results"]) == 2
    assert http.get("/api/missions?page_size=5000").status_code == 200  # served as 500
    schema = http.get("/api/schema", params={"format": "json"}).json()
    parameters = schema["paths"]["/api/missions"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "page_size")
    assert page_size["schema"]["minimum"] == 1


def big_document() -> dict:
    return {"blob": "x" * (70 * 1024)}


def test_a_large_json_field_is_400_naming_the_field_and_the_limit(http):
    refused(
        http.post("/api/missions", json={"name": "big", "data": big_document()}),
        "data",
        says="at most 65536 bytes of JSON",
    )
    mission = make_mission()
    batch = [{"message": "fine"}, {"message": "big", "data": big_document()}]
    response = http.post(f"/api/missions/{mission.id}/log", json=batch)
    assert response.status_code == 400, response.text[:500]
    assert "data" in response.text and "at most 65536 bytes" in response.text
    robot = make_robot("go2-alpha")
    report = {**state_body(), "imu_data": big_document()}
    refused(
        http.post(f"/api/hardware/robots/{robot.robot_id}/state", json=report),
        "imu_data",
        says="at most 65536 bytes",
    )
    assert Mission.objects.count() == 1
    # Up to the limit is fine.
    fits = {"blob": "x" * (60 * 1024)}
    response = http.post("/api/missions", json={"name": "fits", "data": fits})
    assert response.status_code == 201, response.text[:500]
    assert uuid.UUID(response.json()["id"])
