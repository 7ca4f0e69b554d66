"""The bench's own database, Redis, superuser token and uvicorn server processes."""

import fcntl
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psycopg
import redis

from bench import config
from bench.clients import HarnessError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_open_files_limit(wanted: int = 65536) -> int:
    """Sockets are files: lift the soft (and, as root, the hard) limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else max(hard, wanted)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, target))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def ensure_wrk() -> str:
    """The path of ``wrk``; install it from Debian's packages when it is missing."""
    path = shutil.which("wrk")
    if path:
        return path
    print(
        "bench: wrk (the HTTP load generator of scenario 3) is not installed; "
        "installing it with `apt-get install -y wrk` ...",
        flush=True,
    )
    command = ["apt-get", "install", "-y", "wrk"]
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    path = shutil.which("wrk")
    if not path:
        raise HarnessError(
            "wrk is missing and `apt-get install -y wrk` failed; install it (Debian "
            f"package wrk) and rerun.\n{done.stdout[-500:]}{done.stderr[-500:]}"
        )
    return path


@contextmanager
def exclusive_run(wait_seconds: float = 900.0):
    """One bench run at a time per database: a second one waits for the first.

    Both would drop and recreate the same database and flush the same Redis db.
    """
    _, name = _admin_dsn(config.DATABASE_URL)
    path = Path(tempfile.gettempdir()) / f"brain-bench-{name}.lock"
    with open(path, "w") as handle:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise HarnessError(
                        f"another bench run holds {path} for over {wait_seconds:.0f} s"
                    ) from None
                if not told:
                    print(f"bench: waiting for another run to finish ({path})")
                    told = True
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# Database and Redis -------------------------------------------------------------------


def _admin_dsn(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    return admin, name


def recreate_database(url: str | None = None) -> None:
    """A fresh database per run: every run starts from the same empty log."""
    admin, name = _admin_dsn(url or config.DATABASE_URL)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise HarnessError(f"unexpected bench database name {name!r}")
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis(url: str | None = None) -> None:
    client = redis.Redis.from_url(url or config.REDIS_URL, socket_connect_timeout=2)
    client.flushdb()
    client.close()


def manage(*args: str, timeout: float = 180) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=config.ROOT,
        env=config.server_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise HarnessError(
            f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}"
            f"{done.stderr[-2000:]}"
        )
    return done.stdout


def prepare_database() -> str:
    """Recreate and migrate the bench database; return a superuser's API token."""
    recreate_database()
    manage("migrate", "--noinput", "-v", "0")
    env_password = {"DJANGO_SUPERUSER_PASSWORD": "bench-only-password-8d1e"}
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createsuperuser",
            "--noinput",
            "--username",
            config.BENCH_USER,
            "--email",
            "bench@example.invalid",
        ],
        cwd=config.ROOT,
        env=config.server_env(env_password),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise HarnessError(f"createsuperuser failed: {done.stderr[-2000:]}")
    output = manage("drf_create_token", config.BENCH_USER)
    match = re.search(r"Generated token (\w+) for user", output)
    if not match:
        raise HarnessError(f"no token in drf_create_token's output: {output!r}")
    return match.group(1)


def db_connect() -> psycopg.Connection:
    return psycopg.connect(config.DATABASE_URL, connect_timeout=5)


# Processes (from /proc) ---------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    # The command name (field 2) may hold spaces and parentheses: split after it.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants that are alive, from ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(entry.name))[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _cpu_seconds(pid: int) -> float:
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    return 0


def process_cpu_seconds(pid: int) -> float:
    """CPU time of one process (and its descendants)."""
    return sum(_cpu_seconds(p) for p in process_tree(pid))


# Servers ------------------------------------------------------------------------------


class Server:
    """``uvicorn <app>`` in a process of its own, on a free port of 127.0.0.1."""

    def __init__(
        self,
        app: str = "brain.asgi:application",
        *,
        args: tuple[str, ...] = config.UVICORN_ARGS,
        env: dict[str, str] | None = None,
        health: str = "/api/missions/health",
        port: int | None = None,
    ) -> None:
        self.app = app
        self.args = args
        self.env = env or config.server_env()
        self.health = health
        # A fixed port lets a test restart a killed server where its clients were.
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(
            prefix=f"bench-uvicorn-{self.port}-", suffix=".log", delete=False
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self, timeout: float = 30.0) -> "Server":
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                self.app,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *self.args,
            ],
            cwd=config.ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"{self.app} exited early:\n{self.output()}")
            try:
                httpx.get(self.url + self.health, timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise HarnessError(f"{self.app} did not answer in {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.full_output()[-5000:]

    def full_output(self) -> str:
        """All the server printed, from every start of this object."""
        return Path(self.log.name).read_text(errors="replace")

    def pids(self) -> list[int]:
        """The server's process and every descendant (``--workers N`` forks them)."""
        return process_tree(self.pid)

    def rss_kb(self) -> int:
        """Resident memory of every process of the server, summed."""
        return sum(_rss_kb(pid) for pid in self.pids())

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of every process of the server, summed.

        A worker that exited is no longer counted; the bench's servers keep theirs.
        """
        return sum(_cpu_seconds(pid) for pid in self.pids())

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s. The log stays for ``output``."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """``kill -9``: no clean shutdown."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def close(self) -> None:
        """Stop, and delete the log."""
        self.stop()
        try:
            os.unlink(self.log.name)
        except OSError:
            pass

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
