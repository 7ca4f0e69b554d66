"""Cursors and filters that say what is wrong: ``after=latest`` starts from now, a
cursor past the log's head is refused (REST 409, the socket's error frame and
4400), and unknown types or malformed subjects are refused by name (REST 400, the
socket 4400), never silently matching nothing."""

import pytest
import websockets
from asgiref.sync import sync_to_async

from brain.events.selectors import log_head
from tests.conftest import number_pending, token_for
from tests.missions.factories import make_mission
from tests.servers import next_frame, ws_connect

BAD_FILTERS = [
    ({"types": "nosuch.*"}, "types", "no event type matches 'nosuch.*'"),
    ({"types": "mission.nosuch"}, "types", "no event type matches"),
    ({"subject": "mission_notauuid"}, "subject", "is not a mission subject"),
    ({"subject": "robot_UPPER"}, "subject", "is not a robot subject"),
    ({"subject": "planet_mars"}, "subject", "no event is about a 'planet'"),
]


@pytest.mark.django_db
def test_after_latest_answers_the_head_and_no_events(api):
    for n in range(3):
        make_mission(name=f"m{n}")
    number_pending()
    head = log_head()
    assert head > 0
    body = api.get("/api/events", {"after": "latest"}).json()
    assert body == {"results": [], "last_seq": head}
    make_mission(name="after")
    number_pending()
    following = api.get("/api/events", {"after": body["last_seq"]}).json()
    assert [e["type"] for e in following["results"]] == [
        "mission.created",
        "mission.log_appended",
    ]


@pytest.mark.django_db
def test_a_cursor_past_the_head_is_a_409_saying_so(api):
    make_mission()
    number_pending()
    head = log_head()
    response = api.get("/api/events", {"after": head + 5})
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["last_seq"] == head
    assert f"{head + 5} is past the log's head ({head})" in body["detail"]
    assert api.get("/api/events", {"after": head}).json()["results"] == []
    for bad in ("-1", "soon", "1.5", "１２"):
        refused = api.get("/api/events", {"after": bad})
        assert refused.status_code == 400, bad
        assert "after" in refused.json()


@pytest.mark.django_db
@pytest.mark.parametrize(("params", "field", "says"), BAD_FILTERS)
def test_rest_refuses_unknown_types_and_malformed_subjects(api, params, field, says):
    response = api.get("/api/events", params)
    assert response.status_code == 400, response.content
    assert says in response.json()[field][0]


@pytest.mark.django_db
def test_good_filters_still_pass(api):
    for params in (
        {"types": "mission.*,credits.*"},
        {"types": "*"},
        {"subject": "mission_3f2b8c1e-0d4a-4c6e-9b7a-5e1f2d3c4b5a"},
        {"subject": "robot_go2-alpha"},
        {"subject": "agent_Rover:7"},
    ):
        assert api.get("/api/events", params).status_code == 200, params


async def _refused(live, token, query: str) -> tuple[dict, int]:
    async with await ws_connect(live, query, token=token) as ws:
        frame = await next_frame(ws)
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await next_frame(ws)
    return frame, closed.value.rcvd.code


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("params", "field", "says"), BAD_FILTERS)
async def test_the_socket_refuses_them_with_4400(live, make_user, params, field, says):
    from urllib.parse import urlencode

    token = await sync_to_async(token_for)(await sync_to_async(make_user)("viewer"))
    frame, code = await _refused(live, token, urlencode(params))
    assert frame["control"] == "error"
    assert says in frame["detail"] and frame["detail"].startswith(field)
    assert code == 4400


@pytest.mark.django_db(transaction=True)
async def test_the_socket_refuses_a_since_past_the_head(live, make_user):
    token = await sync_to_async(token_for)(await sync_to_async(make_user)("viewer"))
    head = await sync_to_async(log_head)()
    frame, code = await _refused(live, token, f"since={head + 1000}")
    assert frame["control"] == "error"
    assert f"since: {head + 1000} is past the log's head ({head})" in frame["detail"]
    assert code == 4400
    async with await ws_connect(live, f"since={head}", token=token) as ws:
        subscribed = await next_frame(ws)
        assert subscribed["control"] == "subscribed"
