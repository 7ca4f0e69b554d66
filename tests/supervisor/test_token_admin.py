"""Tokens for agents and robots from admin: issued (shown once, in a message) and
revoked by admin actions, as by REST."""

import re

import pytest
from django.contrib.messages import get_messages
from rest_framework.test import APIClient

from tests.hardware.factories import make_robot
from tests.supervisor.factories import make_agent

pytestmark = pytest.mark.django_db


def run_action(client, url: str, action: str, pk: str):
    response = client.post(
        url, {"action": action, "_selected_action": [pk]}, follow=True
    )
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(
    ("kind", "url", "claim_url"),
    [
        ("agent", "/admin/supervisor/agent/", "/api/missions/claim"),
        ("robot", "/admin/hardware/robot/", "/api/hardware/robots/go2-one/state"),
    ],
)
def test_admin_issues_and_revokes_a_token(
    client, make_user, plain_static_files, kind, url, claim_url
):
    make_agent("agent-1")
    make_robot("go2-one")
    pk = "agent-1" if kind == "agent" else "go2-one"
    client.force_login(make_user("superuser"))
    messages = run_action(client, url, "issue_tokens", pk)
    (message,) = [m for m in messages if "shown only now" in m]
    token = re.search(r"shown only now\): (\w+)$", message).group(1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.post(claim_url, {}, format="json").status_code != 401
    messages = run_action(client, url, "revoke_tokens", pk)
    assert any("revoked" in m for m in messages), messages
    assert api.post(claim_url, {}, format="json").status_code == 401
