"""Info, registering, listing and reading robots; who may do what."""

import pytest
from django.db import transaction

from hardware.models import Robot
from tests.hardware.conftest import only_live_event
from tests.hardware.factories import make_robot, report_state, send_command

BODY = {"robot_id": "go1-scout", "name": "Scout", "model": "unitree_go1"}


def test_info_lists_platforms_and_emits_info_queried(
    api, events, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.get("/api/hardware/info")
    assert response.status_code == 200
    body = response.json()
    assert body["name"]
    assert body["version"] == "1.0.0"
    assert body["supported_platforms"] == ["unitree_go1", "unitree_go2", "unitree_b2"]
    assert "movement_commands" in body["features"]
    assert len(callbacks) == 1
    # Live-only: delivered to the sockets subscribed now, never stored.
    event = only_live_event(delivered, events, "hardware.info_queried")
    assert event["target"] is None
    assert delivered[0][0].subjects == frozenset()
    assert set(event["payload"]) == {"version", "queried_at"}
    assert event["payload"]["version"] == "1.0.0"
    assert isinstance(event["payload"]["queried_at"], float)
    assert event["meta"]["actor"] == "alice"


@pytest.mark.smoke
@pytest.mark.parametrize("path", ["/api/hardware/robots", "/api/hardware/robots/"])
def test_register_creates_a_robot_offline_without_state(api, events, path):
    response = api.post(path, BODY)
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "robot_id": "go1-scout",
        "name": "Scout",
        "model": "unitree_go1",
        "online": False,
        "last_seen": None,
        "created_at": response.json()["created_at"],
        "state": None,
        "last_command": None,
    }
    assert Robot.objects.get().name == "Scout"
    assert events.all() == []


def test_register_an_existing_id_is_a_conflict(api, events):
    assert api.post("/api/hardware/robots", BODY).status_code == 201
    response = api.post("/api/hardware/robots", {**BODY, "name": "Impostor"})
    assert response.status_code == 409
    assert response.json()["robot_id"] == "go1-scout"
    assert "already exists" in response.json()["detail"]
    assert Robot.objects.get().name == "Scout"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"robot_id": "Upper"}, "robot_id"),
        ({"robot_id": "-dash-first"}, "robot_id"),
        ({"robot_id": "has space"}, "robot_id"),
        ({"robot_id": "x" * 65}, "robot_id"),
        ({"robot_id": ""}, "robot_id"),
        ({"model": "unitree_a1"}, "model"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"extra": 1}, "extra"),
    ],
)
def test_register_refuses_bad_input_naming_the_field(api, events, change, field):
    response = api.post("/api/hardware/robots", {**BODY, **change})
    assert response.status_code == 400
    assert field in response.json()
    assert not Robot.objects.exists()
    assert events.all() == []


@pytest.mark.parametrize("missing", ["robot_id", "name", "model"])
def test_register_requires_every_field(api, missing):
    body = {k: v for k, v in BODY.items() if k != missing}
    response = api.post("/api/hardware/robots", body)
    assert response.status_code == 400
    assert response.json()[missing] == ["This field is required."]
    assert not Robot.objects.exists()


def test_the_service_refuses_a_robot_id_with_a_trailing_newline(db):
    from brain.errors import Invalid

    with pytest.raises(Invalid):
        make_robot("scout\n")
    assert not Robot.objects.exists()


def test_robot_id_may_be_64_characters(api):
    robot_id = "a" + "-_0" * 21
    assert len(robot_id) == 64
    response = api.post("/api/hardware/robots", {**BODY, "robot_id": robot_id})
    assert response.status_code == 201
    assert api.get(f"/api/hardware/robots/{robot_id}").status_code == 200


def test_detail_has_the_latest_state_and_last_command(api, robot):
    report_state(robot.robot_id, battery_percentage=60)
    report_state(robot.robot_id, battery_percentage=55)
    command = send_command(robot.robot_id, linear_x=0.25)
    body = api.get(f"/api/hardware/robots/{robot.robot_id}/").json()
    assert body["online"] is True
    assert body["last_seen"] is not None
    assert body["state"]["battery_percentage"] == 55
    assert body["state"]["robot_id"] == robot.robot_id
    assert body["last_command"]["command_id"] == str(command.id)
    assert body["last_command"]["linear_x"] == 0.25
    assert body["last_command"]["status"] == "sent"


def test_detail_of_an_unknown_robot_is_404(api):
    response = api.get("/api/hardware/robots/nobody")
    assert response.status_code == 404
    assert response.json()["robot_id"] == "nobody"


def test_list_is_paginated_and_filterable_by_online_and_model(api, db):
    make_robot("a-1", model="unitree_go1")
    make_robot("b-2", model="unitree_b2")
    report_state("b-2")
    body = api.get("/api/hardware/robots").json()
    assert body["count"] == 2
    assert [(r["robot_id"], r["online"]) for r in body["results"]] == [
        ("a-1", False),
        ("b-2", True),
    ]
    online = api.get("/api/hardware/robots?online=true").json()["results"]
    assert [r["robot_id"] for r in online] == ["b-2"]
    offline = api.get("/api/hardware/robots?online=false").json()["results"]
    assert [r["robot_id"] for r in offline] == ["a-1"]
    go1 = api.get("/api/hardware/robots?model=unitree_go1").json()["results"]
    assert [r["robot_id"] for r in go1] == ["a-1"]
    page = api.get("/api/hardware/robots?page_size=1&page=2").json()
    assert [r["robot_id"] for r in page["results"]] == ["b-2"]
    assert page["previous"] is not None


@pytest.mark.parametrize("size", [2, 12])
def test_list_reads_in_constant_queries(api, db, django_assert_num_queries, size):
    for n in range(size):
        make_robot(f"r-{n:02}")
        report_state(f"r-{n:02}")
        send_command(f"r-{n:02}")
    # Token lookup, the user's permissions (its own and its groups'), count, page
    # (with latest state and last command joined).
    with django_assert_num_queries(5):
        body = api.get("/api/hardware/robots").json()
    assert len(body["results"]) == size
    assert all(r["state"] and r["last_command"] for r in body["results"])


def test_a_rolled_back_registration_leaves_nothing(db, events):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_robot("ghost")
        raise RuntimeError("abort")
    assert not Robot.objects.exists()
    assert events.all() == []


# Who may do what ---------------------------------------------------------------

READS = [
    "/api/hardware/info",
    "/api/hardware/robots",
    "/api/hardware/robots/go2-alpha",
    "/api/hardware/robots/go2-alpha/state",
    "/api/hardware/robots/go2-alpha/commands",
]
COMMAND_ID = "00000000-0000-4000-8000-000000000000"
WRITES = [
    ("/api/hardware/robots", BODY),
    ("/api/hardware/robots/go2-alpha/state", {"battery_percentage": 50}),
    (
        "/api/hardware/robots/go2-alpha/command",
        {"linear_x": 0, "linear_y": 0, "angular_z": 0},
    ),
    (f"/api/hardware/commands/{COMMAND_ID}/ack", {"status": "executed"}),
]


@pytest.mark.parametrize("path", READS)
def test_anonymous_reads_are_401(anon, robot, events, path):
    response = anon.get(path)
    assert response.status_code == 401
    assert events.all() == []


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_anonymous_writes_are_401(anon, robot, events, path, body):
    assert anon.post(path, body).status_code == 401
    assert events.all() == []


@pytest.mark.parametrize("path", READS)
def test_viewers_may_read(api_as, robot, path):
    assert api_as("viewer").get(path).status_code == 200


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_viewers_may_not_write(api_as, robot, events, path, body):
    response = api_as("viewer").post(path, body)
    assert response.status_code == 403
    assert Robot.objects.count() == 1
    assert robot.states.count() == 0
    assert robot.commands.count() == 0
    assert events.all() == []
