"""The OpenAPI schema a generator can trust: a client generated from it with
``openapi-python-client`` creates a mission by its priority's name, appends one log
entry and a batch, pages the log both ways, tails the event history from
``latest`` and reads ``meta.seq`` as a typed field, against a real server."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import token_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "brain_client"


@pytest.fixture
def client_package(tmp_path, live):
    """Generate the client from the running server's schema, and import it."""
    import httpx

    schema = tmp_path / "schema.json"
    schema.write_bytes(httpx.get(f"{live.url}/api/schema/?format=json").content)
    config = tmp_path / "config.yaml"
    config.write_text(f"post_hooks: []\npackage_name_override: {PACKAGE}\n")
    out = tmp_path / PACKAGE
    generator = Path(sys.executable).with_name("openapi-python-client")
    done = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(out),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_a_generated_client_creates_pages_and_tails(live, make_user, client_package):
    models = importlib.import_module(f"{PACKAGE}.models")
    create = importlib.import_module(f"{PACKAGE}.api.missions.missions_create")
    log_create = importlib.import_module(f"{PACKAGE}.api.missions.missions_log_create")
    log_read = importlib.import_module(f"{PACKAGE}.api.missions.missions_log_retrieve")
    history = importlib.import_module(f"{PACKAGE}.api.events.events_retrieve")
    client_module = importlib.import_module(f"{PACKAGE}.client")

    token = token_for(make_user("operator"))
    client = client_module.AuthenticatedClient(
        base_url=live.url, token=token, prefix="Token"
    )
    assert [p.name for p in models.PriorityEnum] == [
        "LOW",
        "NORMAL",
        "HIGH",
        "CRITICAL",
    ]

    start = history.sync(client=client, after=models.EventsRetrieveAfterType1.LATEST)
    assert start.results == [] and start.last_seq >= 0

    mission = create.sync(
        client=client,
        body=models.MissionCreateRequest(
            name="generated", priority=models.PriorityEnum.CRITICAL
        ),
    )
    assert mission.priority == models.PriorityEnum.CRITICAL
    one = models.LogEntryInputRequest(message="one entry")
    assert log_create.sync(str(mission.id), client=client, body=one) is not None
    batch = [models.LogEntryInputRequest(message=f"line {n}") for n in range(120)]
    appended = log_create.sync(str(mission.id), client=client, body=batch)
    assert len(appended.log) == 120

    messages, page_number = [], 1
    while True:
        page = log_read.sync(
            str(mission.id), client=client, page=page_number, page_size=50
        )
        messages += [line.message for line in page.log]
        if not page.next_:
            break
        page_number += 1
    assert messages[1] == "one entry" and messages[-1] == "line 119"
    assert len(messages) == page.count == 122

    tail = log_read.sync(str(mission.id), client=client, last=10)
    assert [line.message for line in tail.log][-1] == "line 119"
    assert tail.previous is not None

    found = history.sync(client=client, after=start.last_seq, types="mission.*")
    seqs = [event.meta.seq for event in found.results]
    assert seqs and all(isinstance(seq, int) for seq in seqs)
    assert seqs == sorted(seqs) and seqs[0] > start.last_seq
