"""The endpoints API: who manages them, the secret shown once, the address rule."""

import pytest
from django.db import transaction

from tests.conftest import settle
from tests.webhooks.receiver import Answer
from webhooks import services
from webhooks.models import Endpoint, EndpointState

pytestmark = pytest.mark.django_db


def test_operators_register_and_viewers_see_them_without_secrets(api, api_as):
    created = api.post(
        "/api/webhooks/endpoints",
        {"url": "http://127.0.0.1:9/hook", "types": ["mission.*"], "description": "d"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    assert body["state"] == "active" and body["format"] == "charter"
    viewer = api_as("viewer")
    listed = viewer.get("/api/webhooks/endpoints").json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    detail = viewer.get(f"/api/webhooks/endpoints/{body['id']}").json()
    assert "secret" not in detail and detail["owner"] == "alice"
    assert (
        viewer.post("/api/webhooks/endpoints", {"url": "http://x"}).status_code == 403
    )
    refused = viewer.patch(f"/api/webhooks/endpoints/{body['id']}", {"enabled": False})
    assert refused.status_code == 403
    changed = api.patch(
        f"/api/webhooks/endpoints/{body['id']}",
        {"types": ["widget.*"], "format": "cloudevents"},
    )
    assert changed.status_code == 200
    assert changed.json()["types"] == ["widget.*"]
    assert changed.json()["format"] == "cloudevents"
    assert api.delete(f"/api/webhooks/endpoints/{body['id']}").status_code == 204
    assert api.get(f"/api/webhooks/endpoints/{body['id']}").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.20/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
    ],
)
def test_private_addresses_are_refused_unless_allowed(api, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    response = api.post("/api/webhooks/endpoints", {"url": url})
    assert response.status_code == 400, response.content
    assert "WEBHOOKS_ALLOW_PRIVATE_NETWORKS" in response.json()["detail"]
    assert not Endpoint.objects.exists()
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    assert api.post("/api/webhooks/endpoints", {"url": url}).status_code == 201


def test_bad_filters_and_schemes_are_refused(api):
    for body in (
        {"url": "ftp://127.0.0.1/x"},
        {"url": "http://127.0.0.1/x", "types": ["Bad!"]},
        {"url": "http://127.0.0.1/x", "subject": "nope"},
        {"url": "http://127.0.0.1/x", "format": "xml"},
    ):
        response = api.post("/api/webhooks/endpoints", body)
        assert response.status_code == 400, (body, response.content)


def test_replay_needs_a_range(api):
    endpoint = api.post("/api/webhooks/endpoints", {"url": "http://127.0.0.1/x"})
    url = f"/api/webhooks/endpoints/{endpoint.json()['id']}/replay"
    assert api.post(url, {"after": 5, "until": 5}).status_code == 400
    assert api.post(url, {"after": -1, "until": 5}).status_code == 400
    assert api.post(url, {"after": 4, "until": 5}).status_code == 202


# The event: webhooks.endpoint_failing -------------------------------------------


@pytest.fixture
def failing_endpoint(make_user, receiver, settings):
    settings.WEBHOOKS_RETRY_HORIZON_SECONDS = 0
    receiver.default["/hook"] = Answer(503)
    endpoint = services.endpoint_create(
        owner=make_user("operator"), url=receiver.url(), types=["widget.created"]
    )
    from tests.eventsapp.services import widget_create

    widget_create(name="w")
    settle()
    return endpoint


def test_failing_past_the_horizon_emits_endpoint_failing(
    failing_endpoint, events, django_capture_on_commit_callbacks, delivered
):
    events.skip_seen()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.endpoint_deliver(endpoint_id=failing_endpoint.id)
    assert outcome == "failed"
    endpoint = Endpoint.objects.get(id=failing_endpoint.id)
    assert endpoint.state == EndpointState.FAILING
    (event,) = events.all()
    assert event["type"] == "webhooks.endpoint_failing"
    assert event["target"] == f"webhook_{endpoint.id}"
    attempt = endpoint.attempts.get()
    assert event["payload"] == {
        "endpoint_id": str(endpoint.id),
        "url": endpoint.url,
        "seq": attempt.seq,
        "event_id": str(attempt.event_id),
        "attempts": 1,
        "first_failure_at": endpoint.first_failure_at.timestamp(),
        "last_status": 503,
    }
    assert [e.type for call in delivered for e in call] == ["webhooks.endpoint_failing"]


def test_a_rolled_back_delivery_emits_nothing(failing_endpoint, events, delivered):
    events.skip_seen()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.endpoint_deliver(endpoint_id=failing_endpoint.id)
        raise RuntimeError("rolled back")
    assert events.all() == []
    assert Endpoint.objects.get(id=failing_endpoint.id).state == EndpointState.ACTIVE
    assert delivered == []
