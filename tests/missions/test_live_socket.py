"""The wire: the original summary's Example 2 over real HTTP, watched by a real
WebSocket client."""

import uuid
from datetime import datetime

import httpx
import pytest
from asgiref.sync import sync_to_async

from tests.conftest import token_for
from tests.servers import collect_events, next_frame, quiet, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)

ENVELOPE_KEYS = {"id", "type", "source", "target", "timestamp", "payload", "meta"}


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


async def test_example_2_lifecycle_reaches_a_socket(live, make_user):
    """Create, RUNNING, three log lines, COMPLETED: every event, in order, exact."""
    user = await sync_to_async(make_user)("operator", "alice")
    token = await sync_to_async(token_for)(user)
    mission_id = str(uuid.uuid4())
    request_ids = [f"example-2-step-{n}" for n in range(6)]

    async with await ws_connect(live, "types=mission.*", token=token) as ws:
        hello = await next_frame(ws)
        assert hello["control"] == "subscribed"
        async with httpx.AsyncClient(
            base_url=live.url, headers={"Authorization": f"Token {token}"}
        ) as http:

            async def call(step: int, path: str, body: dict) -> dict:
                response = await http.post(
                    path, json=body, headers={"X-Request-ID": request_ids[step]}
                )
                assert response.status_code in (200, 201), response.text
                return response.json()

            created = await call(
                0,
                "/api/missions",
                {
                    "id": mission_id,
                    "name": "Deploy v2.0",
                    "description": "Deploy new version",
                },
            )
            running = await call(
                1, f"/api/missions/{mission_id}/status", {"status": "RUNNING"}
            )
            lines = [
                (await call(2 + n, f"/api/missions/{mission_id}/log", body))["log"][0]
                for n, body in enumerate(
                    [
                        {"message": "Step 1/3"},
                        {"message": "Step 2/3", "level": "warning"},
                        {"message": "Step 3/3", "level": "debug"},
                    ]
                )
            ]
            completed = await call(
                5, f"/api/missions/{mission_id}/status", {"status": "COMPLETED"}
            )
            log = (await http.get(f"/api/missions/{mission_id}/log")).json()["log"]
            history = (
                await http.get(
                    "/api/events", params={"subject": f"mission_{mission_id}"}
                )
            ).json()["results"]

        frames = await collect_events(ws, 9)
        # Nothing more about this mission, and nothing twice.
        assert await quiet(ws) == []

    assert [(f["type"], f["payload"].get("message")) for f in frames] == [
        ("mission.created", None),
        ("mission.log_appended", "Mission created"),
        ("mission.status_changed", None),
        ("mission.log_appended", "Mission status changed"),
        ("mission.log_appended", "Step 1/3"),
        ("mission.log_appended", "Step 2/3"),
        ("mission.log_appended", "Step 3/3"),
        ("mission.status_changed", None),
        ("mission.log_appended", "Mission status changed"),
    ]
    for frame in frames:
        assert set(frame) == ENVELOPE_KEYS
        assert frame["source"] == "missions_service"
        assert uuid.UUID(frame["id"])
        assert isinstance(frame["timestamp"], float)
        assert frame["meta"]["producer"] == "missions_service"
        assert frame["meta"]["schema_version"] == 1
        assert frame["meta"]["actor"] == "alice"
    seqs = [f["meta"]["seq"] for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == 9
    # One correlation id per request: created + its line, each status change + its
    # line, each appended line.
    assert [f["meta"]["correlation_id"] for f in frames] == [
        request_ids[0],
        request_ids[0],
        request_ids[1],
        request_ids[1],
        request_ids[2],
        request_ids[3],
        request_ids[4],
        request_ids[5],
        request_ids[5],
    ]

    (
        created_event,
        created_line,
        started,
        started_line,
        step_1,
        step_2,
        step_3,
        finished,
        finished_line,
    ) = frames
    assert created_event["target"] is None
    assert created_event["payload"] == {
        "mission_id": mission_id,
        "name": "Deploy v2.0",
        "description": "Deploy new version",
        "status": "PENDING",
        "created_at": seconds(created["created_at"]),
    }
    assert started["target"] == f"mission_{mission_id}"
    assert started["payload"] == {
        "mission_id": mission_id,
        "old_status": "PENDING",
        "new_status": "RUNNING",
        "changed_at": seconds(running["updated_at"]),
    }
    assert finished["target"] == f"mission_{mission_id}"
    assert finished["payload"] == {
        "mission_id": mission_id,
        "old_status": "RUNNING",
        "new_status": "COMPLETED",
        "changed_at": seconds(completed["updated_at"]),
    }
    appended = [created_line, started_line, step_1, step_2, step_3, finished_line]
    assert [entry["id"] for entry in log[2:5]] == [line["id"] for line in lines]
    assert len(log) == 6
    for frame, entry in zip(appended, log, strict=True):
        assert frame["target"] is None
        assert frame["payload"] == {
            "mission_id": mission_id,
            "log_level": entry["level"],
            "message": entry["message"],
            "appended_at": seconds(entry["timestamp"]),
        }
    assert [f["payload"]["log_level"] for f in appended] == [
        "info",
        "info",
        "info",
        "warning",
        "debug",
        "info",
    ]
    # The socket and the log agree, envelope for envelope.
    assert history == frames


async def test_a_socket_following_one_mission_gets_nothing_for_refusals(
    live, make_user
):
    user = await sync_to_async(make_user)("operator")
    token = await sync_to_async(token_for)(user)
    mission_id = str(uuid.uuid4())
    headers = {"Authorization": f"Token {token}"}
    async with await ws_connect(
        live, f"subject=mission_{mission_id}", token=token
    ) as ws:
        assert (await next_frame(ws))["control"] == "subscribed"
        async with httpx.AsyncClient(base_url=live.url, headers=headers) as http:
            other = await http.post("/api/missions", json={"name": "someone else's"})
            assert other.status_code == 201
            response = await http.post(
                "/api/missions", json={"id": mission_id, "name": "followed"}
            )
            assert response.status_code == 201
            status_path = f"/api/missions/{mission_id}/status"
            refused = [
                await http.post(status_path, json={"status": "COMPLETED"}),
                await http.post(status_path, json={"status": "PENDING"}),
                await http.post(status_path, json={"status": "DONE"}),
                await http.post(
                    f"/api/missions/{mission_id}/log",
                    json=[{"message": "fine"}, {"message": ""}],
                ),
                await http.post(
                    "/api/missions", json={"id": mission_id, "name": "again"}
                ),
            ]
            assert [r.status_code for r in refused] == [409, 409, 400, 400, 409]
            cancelled = await http.post(status_path, json={"status": "CANCELLED"})
            assert cancelled.status_code == 200
        frames = await collect_events(ws, 4)
        assert await quiet(ws) == []
    assert [f["type"] for f in frames] == [
        "mission.created",
        "mission.log_appended",
        "mission.status_changed",
        "mission.log_appended",
    ]
    assert {f["payload"]["mission_id"] for f in frames} == {mission_id}
    assert (frames[2]["payload"]["old_status"], frames[2]["payload"]["new_status"]) == (
        "PENDING",
        "CANCELLED",
    )
