"""Scenario 6: SQL queries per request of every list endpoint, at two page sizes.

Run in a Django process of its own (``python -m bench.scenarios.queries``) on the
bench database: it seeds more rows than the larger page through the services (so
every row has its related rows and events), then requests each list with Django's
test client and counts the queries with ``CaptureQueriesContext``. A list whose count
grows with the page has an N+1. The last line of stdout is the JSON result.
"""

import json
import subprocess
import sys

from bench import config
from bench.clients import HarnessError
from bench.scenarios import Context

SEED = "qbench"


def _seed(rows: int) -> dict:
    from django.contrib.auth.models import User

    from credits import services as credits
    from hardware import services as hardware
    from missions import services as missions
    from supervisor import services as supervisor

    user = User.objects.get(username=config.BENCH_USER)
    mission_ids = [
        missions.mission_create(name=f"{SEED} mission {i}").id for i in range(rows)
    ]
    missions.mission_log_append(
        mission_id=mission_ids[0],
        lines=[missions.LogLine(f"{SEED} line {i}") for i in range(rows)],
    )
    for i in range(rows):
        credits.account_create(agent_id=f"{SEED}-agent-{i:03d}", initial_credits=100)
    for i in range(rows):
        credits.credits_allocate(
            agent_id=f"{SEED}-agent-000", amount=1, reason=f"seed {i}"
        )
    for i in range(rows):
        robot_id = f"{SEED}-robot-{i:03d}"
        hardware.robot_register(
            robot_id=robot_id, name=f"Robot {i}", model="unitree_go2"
        )
        hardware.robot_report_state(
            robot_id=robot_id,
            battery_voltage=24.0,
            battery_percentage=80.0,
            motor_states=[],
            imu_data={},
        )
    for i in range(rows):
        hardware.robot_command_send(
            robot_id=f"{SEED}-robot-000",
            linear_x=0.1 * (i % 5),
            linear_y=0.0,
            angular_z=0.0,
            sent_by=user,
        )
    for i in range(rows):
        agent_id = f"{SEED}-agent-{i:03d}"
        supervisor.agent_register(agent_id=agent_id, name=f"Agent {i}", role="worker")
        if i % 2 == 0:
            supervisor.agent_heartbeat(agent_id=agent_id, state="healthy")
    return {"mission": str(mission_ids[0]), "agent": f"{SEED}-agent-000"}


def _endpoints(ids: dict) -> list[tuple[str, str, str, str]]:
    """(name, path, page-size parameter, key of the page's items)."""
    return [
        ("/api/missions", "/api/missions", "page_size", "results"),
        (
            "/api/missions/{id}/log",
            f"/api/missions/{ids['mission']}/log",
            "page_size",
            "log",
        ),
        ("/api/events", "/api/events", "limit", "results"),
        ("/api/credits/balances", "/api/credits/balances", "page_size", "results"),
        (
            "/api/credits/history/{agent}",
            f"/api/credits/history/{ids['agent']}",
            "limit",
            "transactions",
        ),
        ("/api/hardware/robots", "/api/hardware/robots", "page_size", "results"),
        (
            "/api/hardware/robots/{id}/commands",
            f"/api/hardware/robots/{SEED}-robot-000/commands",
            "page_size",
            "results",
        ),
        ("/api/supervisor/agents", "/api/supervisor/agents", "page_size", "results"),
    ]


def measure(page_sizes: tuple[int, ...]) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    ids = _seed(max(page_sizes) + 10)
    token = Token.objects.get(user__username=config.BENCH_USER).key
    client = APIClient(SERVER_NAME="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    rows = []
    for name, path, param, key in _endpoints(ids):
        counts, items = {}, {}
        for size in page_sizes:
            client.get(path, {param: size})  # warm caches shared by both sizes
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, {param: size})
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.content}")
            counts[str(size)] = len(captured.captured_queries)
            items[str(size)] = len(response.json()[key])
        values = list(counts.values())
        rows.append(
            {
                "endpoint": name,
                "queries": counts,
                "items": items,
                "full_pages": all(items[str(s)] == s for s in page_sizes),
                "equal": len(set(values)) == 1,
            }
        )
    return {"page_sizes": list(page_sizes), "endpoints": rows}


def run(ctx: Context) -> dict:
    sizes = [str(s) for s in ctx.plan.query_page_sizes]
    done = subprocess.run(
        [sys.executable, "-m", "bench.scenarios.queries", *sizes],
        cwd=config.ROOT,
        env=config.server_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise HarnessError(f"queries scenario failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["all_equal"] = all(row["equal"] for row in result["endpoints"])
    result["met"] = result["all_equal"]
    return result


if __name__ == "__main__":
    print(json.dumps(measure(tuple(int(s) for s in sys.argv[1:]) or (10, 100))))
