"""``GET /metrics``: who may scrape it, and series that move with the traffic of
several processes (prometheus-client multiprocess mode), parsed with its parser."""

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from brain.events import sequencer
from brain.events.models import EventLog
from brain.events.selectors import log_head
from brain.events.services import events_prune
from missions.services import mission_create
from tests.conftest import server_env, token_for
from tests.servers import next_frame, ws_connect
from tests.webhooks.conftest import WORKER_ENV, WorkerProcess
from tests.webhooks.receiver import Receiver


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """``{(name, sorted labels): value}`` of every sample."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            found[(sample.name, labels)] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_only_the_token_or_an_allowed_address_may_scrape(settings):
    client = Client()
    response = client.get("/metrics")  # the test client is 127.0.0.1
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {"brain_events_log_head_seq", "brain_events_stored"} <= names
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"] == "Bearer"
    right = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token", REMOTE_ADDR="10.1.2.3"
    )
    assert right.status_code == 200


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_series_add_up_over_server_and_worker_processes(
    start_server, make_user, tmp_path, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    shared = {
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "METRICS_TOKEN": "t0ken",
        "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "1",
    }
    one = start_server(**shared)
    two = start_server(**shared)
    operator = make_user("operator")
    token = token_for(operator)
    receiver = Receiver()
    worker = WorkerProcess({**server_env(), **WORKER_ENV, **shared}, threads=2)
    headers = {"Authorization": f"Token {token}"}
    scrape_headers = {"Authorization": "Bearer t0ken"}
    try:
        with httpx.Client(timeout=10) as http:
            # A cursor retention pruned past, for a reset.
            pruned_from = log_head()
            now = timezone.now()
            with time_machine.travel(now - timedelta(days=40)):
                mission_create(name="old")
            mission_create(name="kept")
            assert sequencer.drain()
            events_prune(now=now, default_days=30)
            hook = http.post(
                f"{two.url}/api/webhooks/endpoints",
                json={"url": receiver.url(), "types": ["mission.created"]},
                headers=headers,
            )
            assert hook.status_code == 201, hook.text
            before = samples(
                http.get(f"{one.url}/metrics", headers=scrape_headers).text
            )

            async def traffic():
                async with await ws_connect(one, "types=mission.*", token=token) as ws:
                    await next_frame(ws)  # subscribed
                    async with httpx.AsyncClient(timeout=10) as client:
                        async with client.stream(
                            "GET",
                            f"{two.url}/api/events/stream?since={pruned_from}",
                            headers=headers,
                        ) as sse:
                            lines = sse.aiter_lines()
                            while "reset" not in await anext(lines):
                                pass
                            during = await client.get(
                                f"{one.url}/metrics", headers=scrape_headers
                            )
                            for n in range(5):
                                created = await client.post(
                                    f"{two.url}/api/missions",
                                    json={"name": f"m{n}"},
                                    headers=headers,
                                )
                                assert created.status_code == 201
                            for _ in range(10):  # created + its log line, 5 times
                                await next_frame(ws)
                    return during.text

            during = samples(asyncio.run(traffic()))
            receiver.wait_for(lambda got: len(got) >= 5)
            time.sleep(0.5)
            after = samples(http.get(f"{one.url}/metrics", headers=scrape_headers).text)
    finally:
        worker.stop()
        receiver.stop()
    assert value(during, "brain_sockets_open", transport="websocket") == 1
    assert value(during, "brain_sockets_open", transport="sse") == 1
    assert value(after, "brain_sockets_open", transport="websocket") == 0
    # Counted by server two (the writer), read from server one.
    stored = "brain_events_stored_total"
    assert (
        value(after, stored, type="mission.created")
        - value(before, stored, type="mission.created")
        == 5
    )
    delivered = "brain_events_delivered_total"
    assert value(after, delivered) - value(before, delivered) >= 10
    resets = "brain_socket_resets_total"
    assert (
        value(after, resets, transport="sse") - value(before, resets, transport="sse")
        == 1
    )
    # The worker's deliveries, counted in its own process.
    outcome = "brain_webhook_deliveries_total"
    assert (
        value(after, outcome, outcome="delivered")
        - value(before, outcome, outcome="delivered")
        == 5
    )
    head = EventLog.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert value(after, "brain_events_log_head_seq") == head
    latency = "brain_http_request_duration_seconds_count"
    assert (
        value(after, latency, view="mission-list", method="POST")
        - value(before, latency, view="mission-list", method="POST")
        == 5
    )
    assert value(after, "brain_webhook_retries_pending") == 0
    lags = [v for (name, _), v in during.items() if name == "brain_hub_lag_events"]
    assert lags and all(lag >= 0 for lag in lags)


@pytest.mark.django_db
def test_the_grafana_dashboard_plots_series_that_exist():
    import json
    import re

    from tests.servers import ROOT

    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    used = {
        re.sub(r"_(total|bucket|count|sum)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"brain_[a-z_]+", target["expr"])
    }
    text = Client().get("/metrics").text
    exported = {family.name for family in text_string_to_metric_families(text)}
    assert used and used <= exported, used - exported
