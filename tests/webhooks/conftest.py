"""Webhook fixtures: a real receiver, real worker processes on the test database."""

import subprocess
import sys
import threading

import pytest

from tests.conftest import server_env
from tests.servers import ROOT
from tests.webhooks.receiver import Receiver

# Fast retries and short timeouts so the tests see several attempts in seconds.
WORKER_ENV = {
    "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "1",
    "WEBHOOKS_RETRY_BASE_SECONDS": "0.2",
    "WEBHOOKS_RETRY_MAX_DELAY_SECONDS": "1",
    "WEBHOOKS_TIMEOUT_SECONDS": "3",
    "WEBHOOKS_SWEEP_SECONDS": "2",
}


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _private_networks(settings):
    """The receiver is on 127.0.0.1, which endpoints may not use by default."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 0.2
    settings.WEBHOOKS_RETRY_MAX_DELAY_SECONDS = 1.0
    settings.WEBHOOKS_TIMEOUT_SECONDS = 3.0


class WorkerProcess:
    def __init__(self, env: dict[str, str], threads: int) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "webhooks_worker",
                "--threads",
                str(threads),
                "--interval",
                "0.1",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith("webhooks worker"):
                break
        else:
            raise RuntimeError("the worker did not start: " + "".join(self.output))
        # Keep reading, so the worker never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def start_worker(transactional_db):
    """``start_worker(threads=4, **env)``: a ``manage.py webhooks_worker`` process."""
    started: list[WorkerProcess] = []

    def start(threads: int = 4, **env: str) -> WorkerProcess:
        worker = WorkerProcess({**server_env(), **WORKER_ENV, **env}, threads)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
