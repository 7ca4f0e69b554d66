"""Bad input to the REST API: a 4xx that names the problem, and nothing stored.

Every write of every app gets malformed JSON, bodies that are not JSON objects,
other content types, an oversized body, and a NUL character or a lone surrogate in
each of its strings (PostgreSQL can store neither). Then the field-specific cases:
1 MB strings, NUL and surrogates inside JSON documents, deep nesting, numbers out of
range, ids that are not UUIDs. Right-to-left text and emoji are fine, and stored as
sent.
"""

import json
from urllib.parse import quote, urlencode

import httpx
import pytest
from django.db.models import Max

from brain.events.models import EventLog
from credits.models import Account, LedgerEntry
from hardware.models import Robot, RobotCommand, RobotState
from missions.models import Mission, MissionLog
from supervisor.models import Agent
from tests.conftest import token_for
from tests.hardware.factories import state_body

pytestmark = pytest.mark.django_db

MB = 1024 * 1024

# Every write, with a body it accepts; ``{mission_id}`` etc. are real objects.
WRITES: dict[str, tuple[str, dict]] = {
    "mission create": ("/api/missions", {"name": "Survey", "description": "North"}),
    "mission log": ("/api/missions/{mission_id}/log", {"message": "hello"}),
    "mission status": ("/api/missions/{mission_id}/status", {"status": "RUNNING"}),
    "mission claim": ("/api/missions/claim", {"agent_id": "agent-1"}),
    "credits account": ("/api/credits/accounts", {"agent_id": "agent-2"}),
    "credits allocate": (
        "/api/credits/allocate",
        {"agent_id": "agent-1", "amount": "1.00", "reason": "top up"},
    ),
    "credits consume": (
        "/api/credits/consume",
        {
            "agent_id": "agent-1",
            "amount": "1.00",
            "reason": "work",
            "mission_id": "{mission_id}",
        },
    ),
    "credits refund": (
        "/api/credits/refund",
        {"agent_id": "agent-1", "amount": "1.00", "reason": "failed mission"},
    ),
    "robot register": (
        "/api/hardware/robots",
        {"robot_id": "b2-bravo", "name": "Bravo", "model": "unitree_b2"},
    ),
    "robot state": ("/api/hardware/robots/{robot_id}/state", state_body()),
    "robot command": (
        "/api/hardware/robots/{robot_id}/command",
        {"linear_x": 0.1, "linear_y": 0.0, "angular_z": 0.0},
    ),
    "command ack": (
        "/api/hardware/commands/{command_id}/ack",
        {"status": "acknowledged", "detail": "on it"},
    ),
    "agent register": (
        "/api/supervisor/agents",
        {"agent_id": "agent-2", "name": "Two", "role": "worker"},
    ),
    "agent heartbeat": (
        "/api/supervisor/agents/{agent_id}/heartbeat",
        {"state": "degraded"},
    ),
    "agent control": (
        "/api/supervisor/control",
        {"agent_id": "agent-1", "action": "pause", "reason": "maintenance"},
    ),
}

STORED_MODELS = (
    Mission,
    MissionLog,
    Account,
    LedgerEntry,
    Robot,
    RobotState,
    RobotCommand,
    Agent,
    EventLog,
)


def stored() -> dict[str, tuple]:
    """Rows of every domain table (and the event log), and their latest change."""
    snapshot = {}
    for model in STORED_MODELS:
        fields = {f.name for f in model._meta.get_fields()}
        latest = (
            model.objects.aggregate(latest=Max("updated_at"))["latest"]
            if "updated_at" in fields
            else None
        )
        snapshot[model.__name__] = (model.objects.count(), latest)
    return snapshot


def fill(template, values: dict[str, str]):
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    return template


def write(name: str, path_values: dict[str, str]) -> tuple[str, dict]:
    path, body = WRITES[name]
    return fill(path, path_values), fill(body, path_values)


def post_raw(api, path: str, raw, content_type: str = "application/json"):
    return api.post(path, raw, content_type=content_type)


def post_json(api, path: str, body):
    return post_raw(api, path, json.dumps(body))


@pytest.fixture
def api(api_as):
    return api_as("superuser", "root")


def assert_refused(response, status: int, *, naming: str, before: dict) -> None:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert naming in json.dumps(body, ensure_ascii=False), body
    assert stored() == before, "a refused request stored something"


# Each write as a whole ------------------------------------------------------------


@pytest.mark.parametrize("name", WRITES)
def test_the_valid_body_is_stored(api, path_values, name):
    """The harness's control: the same body, well formed, is accepted and stored."""
    path, body = write(name, path_values)
    before = stored()
    response = post_json(api, path, body)
    assert 200 <= response.status_code < 300, response.json()
    assert stored() != before


@pytest.mark.parametrize("name", WRITES)
def test_malformed_json_is_400(api, path_values, name):
    path, body = write(name, path_values)
    before = stored()
    response = post_raw(api, path, json.dumps(body)[:-1])
    assert_refused(response, 400, naming="JSON parse error", before=before)


@pytest.mark.parametrize("raw", ["null", "[]", '"text"', "5", "true"])
@pytest.mark.parametrize("name", WRITES)
def test_a_body_that_is_not_an_object_is_400(api, path_values, name, raw):
    path, _ = write(name, path_values)
    before = stored()
    response = post_raw(api, path, raw)
    assert response.status_code == 400, response.content
    assert response.json()
    assert stored() == before


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [
        ("application/x-www-form-urlencoded", lambda body: urlencode(body)),
        ("text/plain", json.dumps),
        ("application/xml", lambda body: "<?xml version='1.0'?><body>x</body>"),
        ("text/csv", lambda body: ",".join(body)),
    ],
)
@pytest.mark.parametrize("name", WRITES)
def test_a_body_that_is_not_json_is_415(api, path_values, name, content_type, encode):
    path, body = write(name, path_values)
    before = stored()
    response = post_raw(api, path, encode(body), content_type=content_type)
    assert_refused(response, 415, naming=content_type, before=before)


@pytest.mark.parametrize("name", WRITES)
def test_multipart_is_415(api, path_values, name):
    path, body = write(name, path_values)
    flat = {key: str(value) for key, value in body.items()}
    before = stored()
    response = api.post(path, flat, format="multipart")
    assert_refused(response, 415, naming="multipart/form-data", before=before)


@pytest.mark.parametrize("name", WRITES)
def test_an_oversized_body_is_413(api, path_values, settings, name):
    settings.MAX_REQUEST_BODY_BYTES = 2048
    path, body = write(name, path_values)
    before = stored()
    response = post_json(api, path, {**body, "padding": "x" * 4096})
    assert_refused(response, 413, naming="limit 2048", before=before)


def string_fields(body: dict) -> list[str]:
    return [key for key, value in body.items() if isinstance(value, str)]


def string_cases() -> list[tuple[str, str]]:
    return [
        (name, key) for name, (_, body) in WRITES.items() for key in string_fields(body)
    ]


@pytest.mark.parametrize(("name", "key"), string_cases())
def test_a_nul_character_in_any_string_is_400_naming_the_field(
    api, path_values, name, key
):
    path, body = write(name, path_values)
    value = body[key]
    before = stored()
    response = post_json(api, path, {**body, key: value[:1] + "\x00" + value[1:]})
    assert_refused(response, 400, naming="NUL", before=before)
    assert key in response.json()


@pytest.mark.parametrize(("name", "key"), string_cases())
def test_a_lone_surrogate_in_any_string_is_400_naming_the_field(
    api, path_values, name, key
):
    path, body = write(name, path_values)
    before = stored()
    response = post_json(api, path, {**body, key: body[key] + "\ud83d"})
    assert_refused(response, 400, naming="surrogate", before=before)
    assert key in response.json()


@pytest.mark.parametrize("name", WRITES)
def test_a_nul_character_in_a_key_is_400(api, path_values, name):
    path, body = write(name, path_values)
    before = stored()
    response = post_json(api, path, {**body, "na\x00me": "x"})
    assert_refused(response, 400, naming="key that contains a NUL", before=before)


# Field by field -------------------------------------------------------------------

HUGE_TEXT = [
    ("mission create", "name"),
    ("mission create", "description"),
    ("mission log", "message"),
    ("credits allocate", "reason"),
    ("credits allocate", "idempotency_key"),
    ("robot register", "name"),
    ("command ack", "detail"),
    ("agent register", "name"),
    ("agent register", "role"),
    ("agent control", "reason"),
    ("mission claim", "agent_id"),
    ("credits account", "agent_id"),
    ("robot register", "robot_id"),
]


@pytest.mark.parametrize(("name", "key"), HUGE_TEXT)
def test_a_one_megabyte_string_is_400_naming_the_field(api, path_values, name, key):
    path, body = write(name, path_values)
    before = stored()
    response = post_json(api, path, {**body, key: "x" * MB})
    assert_refused(response, 400, naming=f'"{key}"', before=before)


# (write, field, a JSON value with the problem inside, what the answer says)
NESTED = [
    ("mission create", "data", {"note": "a\x00b"}, "data.note contains a NUL"),
    ("mission create", "data", {"a\x00": 1}, "data has a key that contains a NUL"),
    ("mission create", "data", {"list": ["ok", "\udc00"]}, "data.list[1]"),
    ("mission create", "data", {"n": float("inf")}, "out of range"),
    ("mission log", "data", {"deep": {"er": "\x00"}}, "data.deep.er"),
    ("robot state", "imu_data", {"roll": "\x00"}, "imu_data.roll"),
    ("agent register", "meta", {"site": "\x00"}, "meta.site"),
    ("agent register", "capabilities", ["scan\x00"], "capabilities[0]"),
]


@pytest.mark.parametrize(("name", "key", "value", "says"), NESTED)
def test_unstorable_text_inside_json_is_400_naming_where(
    api, path_values, name, key, value, says
):
    path, body = write(name, path_values)
    before = stored()
    # json.dumps writes infinity as Infinity, which strict JSON refuses; 1e400 is
    # valid JSON that reads as infinity.
    raw = json.dumps({**body, key: value}).replace("Infinity", "1e400")
    response = post_raw(api, path, raw)
    assert_refused(response, 400, naming=says, before=before)
    assert key in response.json()


def test_a_log_batch_names_the_entry_with_the_problem(api, path_values):
    path, _ = write("mission log", path_values)
    batch = [{"message": "fine"}, {"message": "fine", "data": {"k": "\x00"}}]
    before = stored()
    response = post_json(api, path, batch)
    assert_refused(response, 400, naming="[1].data.k", before=before)


def test_deep_nesting_is_400_not_a_stack_overflow(api, path_values):
    before = stored()
    response = post_raw(api, "/api/missions", "[" * 100_000 + "]" * 100_000)
    assert_refused(response, 400, naming="nested deeper", before=before)
    nested = "x"
    for _ in range(100):
        nested = {"d": nested}
    response = post_json(api, "/api/missions", {"name": "deep", "data": nested})
    assert_refused(response, 400, naming="nested deeper", before=before)
    assert "data" in response.json()


def test_an_integer_too_long_to_read_is_400(api):
    before = stored()
    raw = '{"name": "big", "data": {"n": ' + "9" * 5000 + "}}"
    response = post_raw(api, "/api/missions", raw)
    assert_refused(response, 400, naming="JSON parse error", before=before)


def test_nan_is_400(api):
    before = stored()
    response = post_raw(api, "/api/missions", '{"name": "x", "data": {"n": NaN}}')
    assert_refused(response, 400, naming="NaN", before=before)


RTL_AND_EMOJI = "مهمة الاستطلاع 🚀 résumé ‮txet‬ 👩🏽‍🚀 שלום"


def test_right_to_left_text_and_emoji_are_stored_as_sent(api, path_values):
    mission = api.post(
        "/api/missions",
        {"name": RTL_AND_EMOJI, "data": {"تسمية": "🛰️", "note": RTL_AND_EMOJI}},
    )
    assert mission.status_code == 201, mission.json()
    stored_mission = api.get(f"/api/missions/{mission.json()['id']}").json()
    assert stored_mission["name"] == RTL_AND_EMOJI
    assert stored_mission["data"] == {"تسمية": "🛰️", "note": RTL_AND_EMOJI}
    log = api.post(
        f"/api/missions/{mission.json()['id']}/log", {"message": RTL_AND_EMOJI}
    )
    assert log.json()["log"][0]["message"] == RTL_AND_EMOJI
    agent = api.post(
        "/api/supervisor/agents",
        {"agent_id": "agent-9", "name": RTL_AND_EMOJI, "meta": {"ملاحظة": "🤖"}},
    )
    assert agent.status_code == 201
    assert Agent.objects.get(pk="agent-9").name == RTL_AND_EMOJI
    assert Agent.objects.get(pk="agent-9").meta == {"ملاحظة": "🤖"}
    allocated = api.post(
        "/api/credits/allocate",
        {"agent_id": "agent-1", "amount": "2.00", "reason": RTL_AND_EMOJI},
    )
    assert allocated.status_code == 200
    assert LedgerEntry.objects.get(pk=allocated.json()["transaction_id"]).reason == (
        RTL_AND_EMOJI
    )
    robot = api.post(
        "/api/hardware/robots",
        {"robot_id": "b2-emoji", "name": RTL_AND_EMOJI, "model": "unitree_b2"},
    )
    assert robot.json()["name"] == RTL_AND_EMOJI


# Ids ------------------------------------------------------------------------------

NOT_FOUND = [
    ("GET", "/api/missions/not-a-uuid", "not-a-uuid"),
    ("GET", "/api/missions/not-a-uuid/log", "not-a-uuid"),
    ("POST", "/api/missions/not-a-uuid/log", "not-a-uuid"),
    ("POST", "/api/missions/not-a-uuid/status", "not-a-uuid"),
    (
        "GET",
        "/api/missions/00000000-0000-4000-8000-000000000000",
        "00000000-0000-4000-8000-000000000000",
    ),
    ("POST", "/api/hardware/commands/not-a-uuid/ack", "not-a-uuid"),
    ("GET", "/api/hardware/robots/no-such-robot", "no-such-robot"),
    ("POST", "/api/hardware/robots/no-such-robot/command", "no-such-robot"),
    ("GET", "/api/credits/balance/nobody", "nobody"),
    ("GET", "/api/credits/history/nobody", "nobody"),
    ("GET", "/api/supervisor/agents/nobody", "nobody"),
    ("POST", "/api/supervisor/agents/nobody/heartbeat", "nobody"),
]

VALID_BODY = {
    "/log": {"message": "hello"},
    "/status": {"status": "RUNNING"},
    "/ack": {"status": "acknowledged"},
    "/command": {"linear_x": 0.1, "linear_y": 0.0, "angular_z": 0.0},
    "/heartbeat": {},
}


@pytest.mark.parametrize(("method", "path", "named"), NOT_FOUND)
def test_an_unknown_or_malformed_id_is_404_naming_it(
    api, path_values, method, path, named
):
    before = stored()
    if method == "GET":
        response = api.get(path)
    else:
        body = next(b for end, b in VALID_BODY.items() if path.endswith(end))
        response = post_json(api, path, body)
    assert_refused(response, 404, naming=named, before=before)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("mission create", "id"),
        ("credits consume", "mission_id"),
        ("agent heartbeat", "current_mission_id"),
    ],
)
def test_an_id_in_the_body_that_is_not_a_uuid_is_400_naming_the_field(
    api, path_values, name, key
):
    path, body = write(name, path_values)
    before = stored()
    response = post_json(api, path, {**body, key: "not-a-uuid"})
    assert_refused(response, 400, naming=key, before=before)
    assert "UUID" in json.dumps(response.json()[key])


# The URL --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/credits/balance/agent%00-1"),
        ("GET", "/api/supervisor/agents/agent-1%00"),
        ("GET", "/api/hardware/robots/%00"),
        ("GET", "/api/missions?search=a%00"),
        ("GET", "/api/missions?ordering=%00name"),
        ("POST", "/api/supervisor/agents/agent-1%00/heartbeat"),
        ("POST", "/api/hardware/robots/go2-alpha%00/state"),
    ],
)
def test_a_nul_character_in_the_url_is_400(api, path_values, method, path):
    before = stored()
    response = api.generic(method, path, "{}", content_type="application/json")
    assert_refused(response, 400, naming="NUL", before=before)


def test_invalid_utf8_in_the_url_is_not_a_crash(api, path_values):
    surrogate = quote(b"\xed\xa0\x80")  # UTF-8 cannot encode a surrogate
    assert api.get(f"/api/supervisor/agents/{surrogate}").status_code == 404
    assert api.get(f"/api/missions?search={surrogate}").status_code == 200


# Over the wire --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_real_server_refuses_a_body_over_the_limit_declared_or_not_with_413(
    live, make_user, settings
):
    wire = {"Authorization": f"Token {token_for(make_user('superuser'))}"}
    limit = settings.MAX_REQUEST_BODY_BYTES
    body = json.dumps({"name": "big", "description": "x" * limit})
    response = httpx.post(
        f"{live.url}/api/missions",
        content=body,
        headers={**wire, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert f"limit {limit}" in response.json()["detail"]

    def chunked():
        """A body sent in chunks, with no Content-Length to check in advance."""
        yield b'{"name": "big", "description": "'
        for _ in range(limit // (1024 * 1024) + 2):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    response = httpx.post(
        f"{live.url}/api/missions",
        content=chunked(),
        headers={**wire, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert f"limit {limit}" in response.json()["detail"]
    assert not Mission.objects.exists()
    response = httpx.get(f"{live.url}/api/credits/balance/a%00b", headers=wire)
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
