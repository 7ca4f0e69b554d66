"""What the suite runs against and how big each scenario is, in full and quick mode."""

import os
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
WRK_DIR = BENCH_DIR / "wrk"

DATABASE_NAME = "brain_bench"
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
CHANNEL_LAYER_PREFIX = "brain-bench"
SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789"
BENCH_USER = "bench"


def production_uvicorn_args(run_script: Path = ROOT / "bin" / "run") -> tuple[str, ...]:
    """The uvicorn flags ``bin/run`` starts production with, minus host and port.

    The bench serves the app exactly as production does, so a flag added there (e.g.
    ``--ws-per-message-deflate false``) is measured here too. The access log is
    turned off: the bench measures the app, not the terminal.
    """
    args: list[str] = []
    try:
        lines = run_script.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        if "uvicorn" in line and "brain.asgi:application" in line:
            words = shlex.split(line, comments=True)
            args = words[words.index("brain.asgi:application") + 1 :]
            break
    kept: list[str] = []
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word in ("--host", "--port"):
            skip = True
        elif word == "--workers":
            # bin/run's production layout (PostgreSQL + Redis, as here): one
            # process per core, unless WEB_CONCURRENCY says otherwise.
            kept += [word, os.environ.get("WEB_CONCURRENCY") or str(os.cpu_count())]
            skip = True
        elif not word.startswith(("--host=", "--port=")):
            kept.append(word)
    if "--lifespan" not in kept:
        kept += ["--lifespan", "off"]
    return (*kept, "--no-access-log")


UVICORN_ARGS: tuple[str, ...] = production_uvicorn_args()


def single_process(args: tuple[str, ...]) -> tuple[str, ...]:
    """``args`` without ``--workers N`` (or ``--workers=N``)."""
    kept: list[str] = []
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word == "--workers":
            skip = True
        elif not word.startswith("--workers="):
            kept.append(word)
    return tuple(kept)


# The tests' servers: bin/run's flags in one process (a test kills, restarts and
# counts the sockets of the process it started).
TEST_UVICORN_ARGS: tuple[str, ...] = single_process(UVICORN_ARGS)


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every bench server and Django helper process."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "THROTTLE_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "CHANNEL_LAYER_PREFIX": CHANNEL_LAYER_PREFIX,
            "DEBUG": "0",
            "SECRET_KEY": SECRET_KEY,
            "THROTTLE_ANON": "1000000/min",
            "THROTTLE_USER_WRITE": "1000000/min",
            # The fan-out's thousands of sockets are all the bench user's.
            "EVENTS_MAX_SOCKETS_PER_USER": "0",
            # Scenario 4 posts 10,000 lines (about 1 MB) in one request.
            "MISSIONS_LOG_BATCH_MAX": "10000",
            "MAX_REQUEST_BODY_BYTES": str(16 * 1024 * 1024),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    if extra:
        env.update(extra)
    return env


@dataclass(frozen=True)
class Plan:
    """The size of every scenario; ``quick`` must finish in well under 90 s."""

    quick: bool
    # 1. fan-out: subscribers -> events sent to each
    fanout: dict[int, int] = field(default_factory=dict)
    fanout_client_procs: int = 2
    fanout_repeats: int = 3
    # 2. end-to-end latency: requests/s -> seconds of sending
    latency_rates: tuple[int, ...] = (50, 200)
    latency_seconds: float = 10.0
    latency_connections: int = 32
    # 3. REST: seconds per wrk run, connections
    wrk_seconds: int = 5
    wrk_warmup_seconds: int = 2
    rest_rounds: int = 3
    wrk_connections: int = 8
    list_seed_missions: int = 500
    # 4. bulk ingestion
    bulk_lines: int = 10_000
    bulk_repeats: int = 3
    # 5. idle connections
    idle_counts: tuple[int, ...] = (1000, 5000)
    idle_settle_seconds: float = 3.0
    # 6. queries per request
    query_page_sizes: tuple[int, int] = (10, 100)
    # 7. concurrent writers: threads per process, seconds per run, rounds
    writer_threads: int = 8
    writer_seconds: float = 5.0
    writer_rounds: int = 2
    writer_start_delay: float = 3.0
    writer_held: bool = True
    # 8. robot telemetry on the socket: robots per step, seconds per step, Hz
    telemetry_steps: tuple[int, ...] = (10, 25, 50, 100, 150)
    telemetry_seconds: float = 60.0
    telemetry_rate: float = 10.0
    telemetry_robots_per_proc: int = 50
    telemetry_settle_seconds: float = 10.0


def plan_for(quick: bool) -> Plan:
    if quick:
        return Plan(
            quick=True,
            fanout={100: 500},
            fanout_repeats=1,
            latency_seconds=1.5,
            wrk_seconds=2,
            wrk_warmup_seconds=0,
            rest_rounds=1,
            list_seed_missions=200,
            bulk_repeats=1,
            idle_counts=(500,),
            idle_settle_seconds=2.0,
            writer_seconds=1.5,
            writer_rounds=1,
            writer_start_delay=2.0,
            writer_held=False,
            telemetry_steps=(10,),
            telemetry_seconds=3.0,
            telemetry_settle_seconds=5.0,
        )
    return Plan(quick=False, fanout={100: 1000, 1000: 200})


def plan_with(plan: Plan, settings: list[str]) -> Plan:
    """``plan`` with ``NAME=VALUE`` overrides (``--set``), typed as each default.

    Tuples are comma-separated (``telemetry_steps=10,25``); ``fanout`` is
    ``subscribers:events`` pairs (``fanout=100:500``).
    """
    changes: dict = {}
    for item in settings:
        name, _, text = item.partition("=")
        if name not in Plan.__dataclass_fields__ or name == "quick":
            raise ValueError(f"--set {item!r}: no plan field {name!r}")
        current = getattr(plan, name)
        if isinstance(current, dict):
            pairs = (pair.split(":") for pair in text.split(",") if pair)
            value = {int(k): int(v) for k, v in pairs}
        elif isinstance(current, tuple):
            kind = type(current[0]) if current else int
            value = tuple(kind(x) for x in text.split(",") if x)
        elif isinstance(current, bool):
            value = text.lower() in ("1", "true", "yes", "on")
        else:
            value = type(current)(text)
        changes[name] = value
    return replace(plan, **changes)
