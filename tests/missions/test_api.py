"""The REST API: create, read, list; its errors, permissions and query counts."""

import uuid
from datetime import datetime

import pytest

from missions.models import Mission, MissionLog
from tests.missions.factories import make_mission, mission_in, stored
from tests.supervisor.factories import working_agent

pytestmark = pytest.mark.django_db

MISSION_KEYS = {
    "id",
    "name",
    "description",
    "data",
    "status",
    "priority",
    "assigned_agent",
    "created_at",
    "updated_at",
    "allowed_transitions",
}


def both_slashes(path: str) -> list[str]:
    return [path, path + "/"]


# Health -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", both_slashes("/api/missions/health"))
def test_health_is_public(anon, path):
    response = anon.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_ignores_a_bad_token(anon):
    anon.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert anon.get("/api/missions/health").status_code == 200


# Create -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", both_slashes("/api/missions"))
def test_create_returns_the_pending_mission(api, path):
    response = api.post(
        path,
        {
            "name": "Deploy v2.0",
            "description": "Deploy new version",
            "data": {"version": "2.0", "targets": ["eu", "us"]},
            "priority": 30,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == MISSION_KEYS
    mission = Mission.objects.get()
    assert body["id"] == str(mission.id)
    assert body["name"] == "Deploy v2.0"
    assert body["description"] == "Deploy new version"
    assert body["data"] == {"version": "2.0", "targets": ["eu", "us"]}
    assert body["status"] == "PENDING"
    assert body["priority"] == 30
    assert body["assigned_agent"] is None
    assert body["allowed_transitions"] == ["RUNNING", "CANCELLED"]
    assert datetime.fromisoformat(body["created_at"]) == mission.created_at
    assert datetime.fromisoformat(body["updated_at"]) == mission.updated_at
    assert (mission.name, mission.priority, mission.data) == (
        "Deploy v2.0",
        30,
        {"version": "2.0", "targets": ["eu", "us"]},
    )


def test_create_with_only_a_name_takes_the_defaults(api):
    response = api.post("/api/missions", {"name": "Survey"})
    assert response.status_code == 201
    body = response.json()
    assert (body["description"], body["data"], body["priority"]) == ("", {}, 20)
    assert body["status"] == "PENDING"


def test_create_writes_the_automatic_log_entry(api):
    response = api.post(
        "/api/missions", {"name": "Survey", "description": "north field"}
    )
    (entry,) = MissionLog.objects.filter(mission_id=response.json()["id"])
    assert (entry.level, entry.message) == ("info", "Mission created")
    assert entry.data == {"name": "Survey", "description": "north field"}


@pytest.mark.parametrize("priority", [10, 20, 30, 40])
def test_every_priority_is_accepted(api, priority):
    response = api.post("/api/missions", {"name": "p", "priority": priority})
    assert response.status_code == 201
    assert Mission.objects.get().priority == priority


def test_name_of_200_characters_is_accepted(api):
    response = api.post("/api/missions", {"name": "n" * 200})
    assert response.status_code == 201
    assert Mission.objects.get().name == "n" * 200


def test_client_chosen_id_is_kept(api):
    chosen = uuid.uuid4()
    response = api.post("/api/missions", {"id": str(chosen), "name": "mine"})
    assert response.status_code == 201
    assert response.json()["id"] == str(chosen)
    assert Mission.objects.get().pk == chosen


def test_duplicate_id_is_409_and_the_original_is_not_overwritten(api):
    original = make_mission(name="original", description="first", priority=10)
    before = stored()
    response = api.post(
        "/api/missions",
        {
            "id": str(original.id),
            "name": "impostor",
            "description": "second",
            "priority": 40,
        },
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"mission {original.id} already exists",
        "mission_id": str(original.id),
    }
    assert stored() == before
    fresh = Mission.objects.get(pk=original.id)
    assert (fresh.name, fresh.description, fresh.priority) == ("original", "first", 10)
    assert fresh.updated_at == original.updated_at


# Bad input: a 400 or 404 naming the problem, and nothing stored -----------------------


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"description": "no name"}, "name", "required"),
        ({"name": ""}, "name", "blank"),
        ({"name": "   "}, "name", "blank"),
        ({"name": None}, "name", "null"),
        ({"name": "n" * 201}, "name", "200 characters"),
        ({"name": "x", "data": [1, 2]}, "data", "JSON object"),
        ({"name": "x", "data": "text"}, "data", "JSON object"),
        ({"name": "x", "data": 42}, "data", "JSON object"),
        ({"name": "x", "data": None}, "data", "null"),
        ({"name": "x", "priority": 15}, "priority", "valid choice"),
        ({"name": "x", "priority": "HIGH"}, "priority", "valid choice"),
        ({"name": "x", "id": "not-a-uuid"}, "id", "UUID"),
    ],
    ids=[
        "missing-name",
        "empty-name",
        "blank-name",
        "null-name",
        "name-201",
        "data-list",
        "data-string",
        "data-number",
        "data-null",
        "priority-15",
        "priority-word",
        "bad-id",
    ],
)
def test_bad_create_is_400_naming_the_field(api, body, field, words):
    make_mission()
    before = stored()
    response = api.post("/api/missions", body)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert words in " ".join(errors[field])
    assert stored() == before


@pytest.mark.parametrize(
    "text", ['{"name": ', "{name: 'x'}", '{"name": "x",}', "", "null"]
)
def test_malformed_json_is_400_and_stores_nothing(api, text):
    before = stored()
    response = api.generic(
        "POST", "/api/missions", text, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body, "the error names the problem"
    if text.startswith("{"):
        assert "JSON parse error" in body["detail"]
    assert stored() == before


def test_a_body_that_is_not_json_is_415(api):
    response = api.generic(
        "POST",
        "/api/missions",
        "name=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert Mission.objects.count() == 0


# Read ---------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"])
def test_get_one_mission(api, slash):
    mission = make_mission(data={"k": 1}, priority=40)
    response = api.get(f"/api/missions/{mission.id}{slash}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == MISSION_KEYS
    assert body["id"] == str(mission.id)
    assert (body["data"], body["priority"], body["status"]) == ({"k": 1}, 40, "PENDING")


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        ("PENDING", ["RUNNING", "CANCELLED"]),
        ("RUNNING", ["COMPLETED", "FAILED", "CANCELLED"]),
        ("COMPLETED", []),
        ("FAILED", []),
        ("CANCELLED", []),
    ],
)
def test_mission_json_lists_the_allowed_transitions(api, status, allowed):
    mission = mission_in(status)
    body = api.get(f"/api/missions/{mission.id}").json()
    assert body["status"] == status
    assert body["allowed_transitions"] == allowed
    listed = api.get("/api/missions").json()["results"]
    assert listed[0]["allowed_transitions"] == allowed


def unknown_mission_calls(mission_id) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"/api/missions/{mission_id}", None),
        ("get", f"/api/missions/{mission_id}/log", None),
        ("post", f"/api/missions/{mission_id}/status", {"status": "RUNNING"}),
        ("post", f"/api/missions/{mission_id}/log", {"message": "hi"}),
    ]


@pytest.mark.parametrize("call", range(4), ids=["get", "log", "status", "append"])
def test_unknown_mission_is_404_naming_it(api, call):
    make_mission()
    before = stored()
    unknown = uuid.uuid4()
    method, path, body = unknown_mission_calls(unknown)[call]
    response = getattr(api, method)(path, body)
    assert response.status_code == 404
    assert response.json() == {"detail": f"mission {unknown} not found"}
    assert stored() == before


@pytest.mark.parametrize("call", range(4), ids=["get", "log", "status", "append"])
def test_non_uuid_mission_id_is_404_naming_it(api, call):
    make_mission()
    before = stored()
    method, path, body = unknown_mission_calls("rover-7")[call]
    response = getattr(api, method)(path, body)
    assert response.status_code == 404
    assert response.json() == {"detail": "mission 'rover-7' not found: not a UUID"}
    assert stored() == before


# List ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", both_slashes("/api/missions"))
def test_list_is_newest_first_and_paginated(api, path):
    ids = [str(make_mission(name=f"m{n}").id) for n in range(5)]
    response = api.get(path, {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 5
    assert [m["id"] for m in body["results"]] == ids[::-1][:2]
    assert set(body["results"][0]) == MISSION_KEYS
    second = api.get(path, {"page_size": 2, "page": 3}).json()
    assert [m["id"] for m in second["results"]] == [ids[0]]
    assert second["next"] is None


def seed_for_filters():
    survey_high_running = mission_in("RUNNING", name="Survey north", priority=30)
    survey_high_pending = make_mission(name="Survey south", priority=30)
    survey_low_running = mission_in("RUNNING", name="Survey east", priority=10)
    deploy_high_running = mission_in("RUNNING", name="Deploy west", priority=30)
    deploy_in_description = mission_in(
        "COMPLETED", name="Patrol", description="survey the fence", priority=30
    )
    return {
        "survey_high_running": survey_high_running,
        "survey_high_pending": survey_high_pending,
        "survey_low_running": survey_low_running,
        "deploy_high_running": deploy_high_running,
        "deploy_in_description": deploy_in_description,
    }


def listed_names(api, **params) -> list[str]:
    response = api.get("/api/missions", params)
    assert response.status_code == 200, response.json()
    return [m["name"] for m in response.json()["results"]]


def test_list_filters_combine(api):
    seed_for_filters()
    assert listed_names(api, status="RUNNING", priority=30, search="survey") == [
        "Survey north"
    ]
    assert listed_names(api, status="RUNNING", priority=30) == [
        "Deploy west",
        "Survey north",
    ]
    assert listed_names(api, search="survey", priority=30) == [
        "Patrol",
        "Survey south",
        "Survey north",
    ]
    assert listed_names(api, status="PENDING") == ["Survey south"]
    assert listed_names(api, status="CANCELLED") == []
    assert listed_names(api, status=["PENDING", "COMPLETED"]) == [
        "Patrol",
        "Survey south",
    ]
    assert listed_names(api, search="survey", status="RUNNING", ordering="name") == [
        "Survey east",
        "Survey north",
    ]


def test_list_ordering(api):
    seed_for_filters()
    assert listed_names(api, ordering="name") == [
        "Deploy west",
        "Patrol",
        "Survey east",
        "Survey north",
        "Survey south",
    ]
    by_priority = listed_names(api, ordering="priority")
    assert by_priority[0] == "Survey east"
    assert listed_names(api, ordering="created_at")[0] == "Survey north"
    assert listed_names(api, ordering="-created_at")[0] == "Patrol"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "DONE"}, "status"),
        ({"status": "running"}, "status"),
        ({"priority": 15}, "priority"),
        ({"priority": "high"}, "priority"),
    ],
)
def test_unknown_filter_value_is_400_naming_it(api, params, field):
    make_mission()
    response = api.get("/api/missions", params)
    assert response.status_code == 400
    assert field in response.json()


def test_list_runs_the_same_queries_whatever_the_page_size(
    api, django_assert_num_queries
):
    for n in range(100):
        make_mission(name=f"m{n}", data={"n": n})
    mission_in("RUNNING")
    # Token lookup, the user's permissions (its own and its groups'), count, page.
    with django_assert_num_queries(5):
        small = api.get("/api/missions", {"page_size": 10})
    with django_assert_num_queries(5):
        large = api.get("/api/missions", {"page_size": 100})
    assert len(small.json()["results"]) == 10
    assert len(large.json()["results"]) == 100
    with django_assert_num_queries(5):
        filtered = api.get(
            "/api/missions",
            {"page_size": 100, "status": "PENDING", "search": "m", "ordering": "name"},
        )
    assert filtered.json()["count"] == 100


def test_log_list_runs_the_same_queries_whatever_the_page_size(
    api, django_assert_num_queries
):
    from missions import services

    mission = make_mission()
    services.mission_log_append(
        mission_id=mission.id,
        lines=[services.LogLine(f"line {n}") for n in range(120)],
    )
    # Token lookup, the user's permissions (its own and its groups'), the mission,
    # count, page.
    with django_assert_num_queries(6):
        small = api.get(f"/api/missions/{mission.id}/log", {"page_size": 10})
    with django_assert_num_queries(6):
        large = api.get(f"/api/missions/{mission.id}/log", {"page_size": 100})
    assert len(small.json()["log"]) == 10
    assert len(large.json()["log"]) == 100


# Permissions --------------------------------------------------------------------------


def writes(mission_id) -> list[tuple[str, dict]]:
    return [
        ("/api/missions", {"name": "x"}),
        (f"/api/missions/{mission_id}/status", {"status": "RUNNING"}),
        (f"/api/missions/{mission_id}/log", {"message": "hello"}),
        ("/api/missions/claim", {"agent_id": "agent-1"}),
    ]


def reads(mission_id) -> list[str]:
    return [
        "/api/missions",
        f"/api/missions/{mission_id}",
        f"/api/missions/{mission_id}/log",
        "/api/missions/stats",
    ]


def test_viewer_reads_but_every_write_is_403(api_as):
    viewer = api_as("viewer")
    mission = make_mission()
    before = stored()
    for path in reads(mission.id):
        assert viewer.get(path).status_code == 200, path
    for path, body in writes(mission.id):
        response = viewer.post(path, body)
        assert response.status_code == 403, path
    assert stored() == before
    assert Mission.objects.get().status == "PENDING"


def test_anonymous_is_401_everywhere_but_health(anon):
    mission = make_mission()
    before = stored()
    for path in reads(mission.id):
        response = anon.get(path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Token")
    for path, body in writes(mission.id):
        assert anon.post(path, body).status_code == 401, path
    assert stored() == before
    assert anon.get("/api/missions/health").status_code == 200


def test_operator_may_write(api):
    mission = make_mission()
    working_agent("agent-1")  # claims need a registered agent that beats
    for path, body in writes(mission.id):
        assert api.post(path, body).status_code in (200, 201), path


def test_a_bad_priority_from_the_shell_is_not_reported_as_a_duplicate():
    """Only a taken id is a 409; a bad priority is named as such (400)."""
    from brain.errors import Conflict, Invalid
    from missions import services

    with pytest.raises(Invalid) as refused:
        services.mission_create(name="x", priority=15)
    assert not isinstance(refused.value, Conflict)
    assert refused.value.detail.startswith("priority")
    assert stored() == {"missions": 0, "log": 0, "events": 0}


def test_a_new_mission_cannot_be_created_in_another_status_or_assigned(api):
    response = api.post(
        "/api/missions",
        {"name": "x", "status": "COMPLETED", "assigned_agent": "me", "extra": 1},
    )
    assert response.status_code == 201
    mission = Mission.objects.get()
    assert (mission.status, mission.assigned_agent_id) == ("PENDING", None)
