"""The dashboard's pages as HTML: sign-in required, controls by permission, CSP-safe."""

import re
import uuid

import pytest
from django.test import Client

from tests.missions.factories import make_mission

pytestmark = pytest.mark.smoke

PAGES = ["/", "/events/", "/agents/", "/robots/", "/credits/"]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*PAGES, "/missions/{id}/"])
def test_every_page_needs_a_signed_in_user(path):
    path = path.format(id=make_mission().id)
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "operator"])
@pytest.mark.parametrize("path", [*PAGES, "/missions/{id}/"])
def test_every_page_renders_for_each_role(make_user, role, path):
    path = path.format(id=make_mission().id)
    response = client_for(make_user(role)).get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="conn-state"' in html
    # The Content-Security-Policy allows no inline code: every script is a file
    # or a JSON data block, and no element carries an event handler.
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert " src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html)
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_viewer_gets_no_controls(make_user):
    mission = make_mission()
    viewer = client_for(make_user("viewer"))
    board = viewer.get("/").content.decode()
    assert 'id="create-mission"' not in board
    assert 'data-can-change="false"' in board
    assert 'id="read-only"' in board
    assert (
        'data-can-change="false"'
        in viewer.get(f"/missions/{mission.id}/").content.decode()
    )
    assert 'data-can-control="false"' in viewer.get("/agents/").content.decode()
    assert 'data-can-command="false"' in viewer.get("/robots/").content.decode()


@pytest.mark.django_db
def test_an_operator_gets_the_controls(make_user):
    mission = make_mission()
    operator = client_for(make_user("operator"))
    board = operator.get("/").content.decode()
    assert 'id="create-mission"' in board
    assert 'data-can-change="true"' in board
    assert 'id="read-only"' not in board
    assert (
        'data-can-change="true"'
        in operator.get(f"/missions/{mission.id}/").content.decode()
    )
    assert 'data-can-control="true"' in operator.get("/agents/").content.decode()
    assert 'data-can-command="true"' in operator.get("/robots/").content.decode()


@pytest.mark.django_db
def test_the_board_keeps_its_filters_from_the_url(make_user):
    html = client_for(make_user("viewer")).get(
        "/?status=RUNNING&status=BOGUS&search=ridge"
    )
    html = html.content.decode()
    assert 'data-column="RUNNING"' in html
    assert 'data-column="PENDING"' not in html
    assert 'value="RUNNING" checked' in html
    assert 'value="ridge"' in html


@pytest.mark.django_db
def test_the_event_feed_offers_every_declared_type(make_user):
    html = (
        client_for(make_user("viewer")).get("/events/?types=mission.*").content.decode()
    )
    assert 'value="mission.*" checked' in html
    assert 'value="mission.status_changed"' in html
    assert 'data-types="mission.*"' in html


@pytest.mark.django_db
def test_an_unknown_mission_is_404(make_user):
    response = client_for(make_user("viewer")).get(f"/missions/{uuid.uuid4()}/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_sign_in_and_sign_out_with_django_auth(make_user):
    user = make_user("viewer", name="lin")
    user.set_password("a-long-password-9")
    user.save()
    client = Client()
    assert client.get("/login/").status_code == 200
    wrong = client.post("/login/", {"username": "lin", "password": "nope"})
    assert wrong.status_code == 200
    assert "Please enter a correct username and password" in wrong.content.decode()
    signed_in = client.post(
        "/login/",
        {"username": "lin", "password": "a-long-password-9", "next": "/robots/"},
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/robots/"
    assert client.get("/").status_code == 200
    assert client.get("/logout/").status_code == 405  # sign-out is a POST
    signed_out = client.post("/logout/")
    assert signed_out["Location"] == "/login/"
    assert client.get("/").status_code == 302
