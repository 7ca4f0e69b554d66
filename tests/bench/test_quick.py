"""The benchmark suite runs end to end in quick mode, so it cannot rot.

This starts real servers (uvicorn on the bench's own PostgreSQL database and Redis
db 9) through ``python -m bench --quick``; it checks that the harness works and that
no event was lost or duplicated. It never checks speed: the figures are noisy on a
shared machine and CI does not pass or fail on them.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = {
    "fanout",
    "latency",
    "rest",
    "bulk",
    "idle",
    "queries",
    "writers",
    "telemetry",
}

pytestmark = pytest.mark.slow


@pytest.mark.timeout(240)
def test_quick_bench_runs_every_scenario_and_loses_no_event(tmp_path):
    results = tmp_path / "results"
    # In a session of its own: if it overruns, its servers are stopped with it,
    # not left running (and holding database connections) for the rest of the run.
    bench = subprocess.Popen(
        [sys.executable, "-m", "bench", "--quick", "--results-dir", str(results)],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = bench.communicate(timeout=220)
    except subprocess.TimeoutExpired:
        os.killpg(bench.pid, signal.SIGKILL)
        stdout, stderr = bench.communicate()
        pytest.fail("bench --quick overran 220 s:\n" + stdout[-4000:] + stderr[-4000:])
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(bench.pid, signal.SIGKILL)  # whatever it left behind
    assert bench.returncode == 0, stdout[-4000:] + stderr[-4000:]
    latest = json.loads((results / "latest.json").read_text())
    assert (results / "latest.png").stat().st_size > 0
    assert set(latest["scenarios"]) == SCENARIOS
    for name, result in latest["scenarios"].items():
        assert "error" not in result, (name, result)
    assert latest["ok"] is True
    assert latest["errors"] == []
    assert latest["lost_events"] == 0
    assert latest["duplicate_events"] == 0
    for run in latest["scenarios"]["fanout"]["runs"]:
        assert run["all_delivered"], run
        assert run["app"]["received"] == run["app"]["expected"] > 0
    for run in latest["scenarios"]["latency"]["runs"]:
        assert run["app"]["delivered"] == run["app"]["requests"] > 0
        assert run["app"]["sender"]["cpu_seconds"] > 0
    rest = latest["scenarios"]["rest"]
    assert rest["peer"]["requests_per_second"] > 0
    assert rest["endpoints"]["robot_state"]["non_2xx"] == 0
    bulk = latest["scenarios"]["bulk"]
    assert bulk["all_delivered"]
    assert all(r["events"] == bulk["lines"] for r in bulk["app"]["runs"])
    assert all(run["sockets"] > 0 for run in latest["scenarios"]["idle"]["runs"])
    assert len(latest["scenarios"]["queries"]["endpoints"]) == 8
    writers = latest["scenarios"]["writers"]
    assert writers["delivered_in_order"] and writers["events_logged"] > 0
    # Every frame sent and answered, nothing acknowledged lost; how fast is not
    # checked (a late answer on a loaded machine is speed, not a defect).
    for step in latest["scenarios"]["telemetry"]["steps"]:
        assert step["sent"] == step["expected"] > 0, step
        assert step["acked"] > 0 and step["errors"] == 0, step
        assert step["lost"] == 0, step
        assert step["dashboard_events"] > 0, step
    numbers = [row["row"] for row in latest["targets"]]
    assert numbers == ["1", "2", "3", "3", "4", "5", "6", "7"]
