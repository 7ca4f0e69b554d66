"""Webhooks in admin: endpoints are registered and changed through the services, and
the attempts console replays what an operator selects."""

import pytest
from django.test import Client

from tests.conftest import settle
from tests.eventsapp.services import widget_create
from tests.webhooks.receiver import Answer
from webhooks import services
from webhooks.models import Attempt, Endpoint, Replay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]


@pytest.fixture
def operator(make_user) -> Client:
    user = make_user("operator")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def test_an_endpoint_added_in_admin_gets_a_secret_and_starts_at_the_head(operator):
    widget_create(name="before")
    settle()
    response = operator.post(
        "/admin/webhooks/endpoint/add/",
        {
            "url": "http://127.0.0.1:9/hook",
            "description": "from admin",
            "types": '["widget.*"]',
            "subject": "",
            "format": "charter",
            "enabled": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    endpoint = Endpoint.objects.get()
    assert endpoint.owner == operator.user and endpoint.types == ["widget.*"]
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()  # shown once, as a message
    from brain.events.selectors import log_head

    assert endpoint.cursor == log_head()
    page = operator.get(f"/admin/webhooks/endpoint/{endpoint.id}/change/")
    assert page.status_code == 200
    assert endpoint.secret not in page.content.decode()


def test_the_console_lists_attempts_and_replays_the_selected(operator, receiver):
    receiver.default["/hook"] = Answer(200)
    endpoint = services.endpoint_create(
        owner=operator.user, url=receiver.url(), types=["widget.created"]
    )
    widget_create(name="w")
    settle()
    assert services.endpoint_deliver(endpoint_id=endpoint.id) == "delivered 1"
    attempt = Attempt.objects.get()
    page = operator.get(f"/admin/webhooks/endpoint/{endpoint.id}/change/")
    assert "1 attempts" in page.content.decode()
    listing = operator.get(
        f"/admin/webhooks/attempt/?endpoint__id__exact={endpoint.id}"
    )
    assert listing.status_code == 200 and str(attempt.seq) in listing.content.decode()
    operator.post(
        "/admin/webhooks/attempt/",
        {"action": "replay", "_selected_action": [attempt.pk]},
    )
    replay = Replay.objects.get()
    assert (replay.endpoint_id, replay.after, replay.until) == (
        endpoint.id,
        attempt.seq - 1,
        attempt.seq,
    )
    assert services.endpoint_deliver(endpoint_id=endpoint.id) == "delivered 1"
    assert len(receiver.at()) == 2
    assert receiver.at()[1].headers["webhook-id"] == str(attempt.event_id)
