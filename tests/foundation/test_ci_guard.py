"""In CI a missing service fails the run; it is never skipped. (The suite's own
start-up check, run here in a child pytest.)"""

import os
import subprocess
import sys

import pytest

from tests.servers import ROOT, free_port

pytestmark = pytest.mark.slow


def child_pytest(**env_changes: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "tests/foundation/test_requirements.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unreachable_redis_fails_the_run():
    result = child_pytest(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert result.returncode == 4, result.stdout[-2000:]
    assert "Redis is not reachable" in result.stdout + result.stderr


def test_an_unreachable_postgres_fails_the_run():
    result = child_pytest(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/x")
    assert result.returncode == 4, result.stdout[-2000:]
    assert "PostgreSQL is not reachable" in result.stdout + result.stderr


def test_ci_without_services_fails_unless_it_is_the_embedded_smoke_run(tmp_path):
    bare = {"DATABASE_URL": None, "REDIS_URL": None, "CI": "true"}
    result = child_pytest(**bare, BRAIN_DATA_DIR=str(tmp_path))
    assert result.returncode == 4, result.stdout[-2000:]
    assert "CI=true but DATABASE_URL is not set" in result.stdout + result.stderr
    smoke = child_pytest(**bare, BRAIN_DATA_DIR=str(tmp_path), BRAIN_EMBEDDED_SMOKE="1")
    assert smoke.returncode == 0, smoke.stdout[-2000:]
