"""A write's answer comes after its events are numbered: a client that got its 201
finds them at once in ``GET /api/events`` (and may resume from their ``seq``).

On a real server, where ``seq`` is drawn after commit by the process's numbering
thread: without the wait, a GET sent right after the 201 often misses the events
still being numbered (seen in CI: the last two of a mission's events missing).
"""

import httpx

from tests.conftest import token_for

ROUNDS = 60


def test_each_answered_write_is_in_the_history_at_once(live, make_user):
    token = token_for(make_user("operator"))
    with httpx.Client(
        base_url=live.url, headers={"Authorization": f"Token {token}"}, timeout=10
    ) as http:
        created = http.post("/api/missions", json={"name": "read your writes"})
        assert created.status_code == 201
        subject = f"mission_{created.json()['id']}"
        missing = []
        for n in range(ROUNDS):
            before = http.get(
                "/api/events", params={"subject": subject, "page_size": 500}
            ).json()
            response = http.post(
                f"/api/missions/{created.json()['id']}/log",
                json={"message": f"line {n}"},
            )
            assert response.status_code == 201, response.text
            after = http.get(
                "/api/events", params={"subject": subject, "page_size": 500}
            ).json()
            if len(after["results"]) != len(before["results"]) + 1:
                missing.append((n, len(before["results"]), len(after["results"])))
    assert missing == []
    assert after["results"][-1]["payload"]["message"] == f"line {ROUNDS - 1}"
