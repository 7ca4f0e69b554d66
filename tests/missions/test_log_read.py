"""Reading a long log: the newest lines first with older ones on request, a search
the server does (with where each match is), levels filtered by the server, and the
whole log as a streamed download in text or JSON Lines."""

import json

import httpx
import pytest
from asgiref.sync import sync_to_async

from missions import services
from tests.conftest import token_for
from tests.missions.factories import make_mission

LEVELS = ("debug", "info", "warning", "error")


def fill(mission, count: int) -> None:
    """``count`` lines after the creation line: "line <n>", every 7th mentions a
    Lidar, levels in turn."""
    lines = [
        services.LogLine(
            f"line {n}" + (" LIDAR dropout, lidar again" if n % 7 == 0 else ""),
            level=LEVELS[n % 4],
            data={"n": n},
        )
        for n in range(count)
    ]
    for start in range(0, count, 500):
        services.mission_log_append(
            mission_id=mission.pk, lines=lines[start : start + 500]
        )


@pytest.fixture
def long_mission(db):
    mission = make_mission(name="long")
    fill(mission, 3000)
    return mission


def url(mission) -> str:
    return f"/api/missions/{mission.pk}/log"


def test_the_newest_lines_come_first_and_older_ones_follow(api, long_mission):
    page = api.get(url(long_mission), {"last": 300}).json()
    assert page["count"] == 3001  # the creation line too
    messages = [line["message"] for line in page["log"]]
    assert len(messages) == 300
    assert messages[0].startswith("line 2700") and messages[-1] == "line 2999"
    seen = [line["id"] for line in page["log"]]
    assert page["next"] is None
    while page["previous"]:
        page = api.get(page["previous"]).json()
        seen = [line["id"] for line in page["log"]] + seen
    assert len(seen) == 3001 and seen == sorted(seen)
    assert page["next"] is not None  # from the oldest lines, the newer ones
    newer = api.get(page["next"]).json()
    assert newer["log"][0]["id"] == page["log"][-1]["id"] + 1


def test_a_search_is_done_by_the_server_and_says_where(api, long_mission):
    page = api.get(url(long_mission), {"q": "lidar", "last": 1000}).json()
    assert page["count"] == len(range(0, 3000, 7))
    line = page["log"][-1]
    assert line["message"] == "line 2996 LIDAR dropout, lidar again"
    assert line["matches"] == [[10, 15], [25, 30]]
    paged = api.get(url(long_mission), {"q": "LIDAR", "page_size": 5}).json()
    assert paged["count"] == page["count"]
    assert all(entry["matches"] for entry in paged["log"])
    plain = api.get(url(long_mission), {"last": 1}).json()
    assert "matches" not in plain["log"][0]


def test_levels_are_filtered_by_the_server(api, long_mission):
    page = api.get(url(long_mission), {"level": "warning,error", "last": 1000}).json()
    assert page["count"] == 1500
    assert {line["level"] for line in page["log"]} == {"warning", "error"}
    single = api.get(url(long_mission), {"level": "error", "page_size": 10}).json()
    assert single["count"] == 750
    bad = api.get(url(long_mission), {"level": "warning,loud"})
    assert bad.status_code == 400
    assert "level" in bad.json()


@pytest.mark.parametrize(
    ("params", "field"),
    [({"last": 0}, "last"), ({"last": 1001}, "last"), ({"before": "x"}, "before")],
)
def test_bad_read_parameters_are_400_naming_them(api, long_mission, params, field):
    response = api.get(url(long_mission), params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["query", "accept"])
async def test_the_whole_log_downloads_as_text_and_json_lines(live, make_user, how):
    user = await sync_to_async(make_user)("viewer")
    token = await sync_to_async(token_for)(user)

    def set_up():
        mission = make_mission(name="download")
        fill(mission, 4500)
        return mission

    mission = await sync_to_async(set_up)()
    headers = {"Authorization": f"Token {token}"}
    got = {}
    async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=60) as c:
        for fmt, media in (("txt", "text/plain"), ("jsonl", "application/jsonl")):
            if how == "query":
                request = c.stream("GET", url(mission), params={"format": fmt})
            else:
                request = c.stream("GET", url(mission), headers={"Accept": media})
            async with request as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith(media)
                assert (
                    f"mission-{mission.pk}" in response.headers["content-disposition"]
                )
                chunks = [chunk async for chunk in response.aiter_raw()]
            got[fmt] = b"".join(chunks).decode().splitlines()
        filtered = await c.get(
            url(mission), params={"format": "jsonl", "level": "error", "q": "lidar"}
        )
    text, records = got["txt"], [json.loads(line) for line in got["jsonl"]]
    assert len(text) == len(records) == 4501
    assert text[2].endswith(' INFO    line 1 {"n": 1}'), text[2]
    assert text[8].endswith(' ERROR   line 7 LIDAR dropout, lidar again {"n": 7}')
    assert [r["data"].get("n") for r in records[1:]] == list(range(4500))
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)
    wanted = [n for n in range(4500) if n % 4 == 3 and n % 7 == 0]
    assert [json.loads(x)["data"]["n"] for x in filtered.text.splitlines()] == wanted


@pytest.mark.parametrize("fmt", ["txt", "jsonl"])
def test_a_download_that_fails_answers_json_as_documented(api, fmt):
    response = api.get("/api/missions/0/log", {"format": fmt})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "not found" in response.json()["detail"]
