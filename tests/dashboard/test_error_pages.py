"""Styled 404, 500 and lockout pages for people; JSON for every other client."""

import re

import pytest
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from brain.urls import handler400, handler403, handler404, handler500  # noqa: F401

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}


def boom(request):
    raise RuntimeError("secret detail from deep inside")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [path("boom/", boom), path("fine/", fine)]


def test_a_browser_gets_a_styled_404_that_says_what_to_do(client):
    response = client.get("/missions/nowhere/", **BROWSER)
    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    text = response.content.decode()
    assert "BRAiN" in text and "404 · not found" in text
    assert "There is nothing at <code>/missions/nowhere/</code>" in text
    assert 'href="/"' in text  # the way back
    assert "/static/dashboard/css/dashboard." in text  # the dashboard's own style


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/api/nowhere", BROWSER),
        ("/nowhere/", {}),
        ("/nowhere/", {"HTTP_ACCEPT": "application/json"}),
    ],
)
def test_api_clients_keep_the_json_404(client, path, headers):
    response = client.get(path, **headers)
    assert response.status_code == 404
    assert response.json()["detail"] == f"not found: {path}"


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_browser_gets_a_styled_500_without_the_detail():
    response = Client(raise_request_exception=False).get("/boom/", **BROWSER)
    assert response.status_code == 500
    text = response.content.decode()
    assert "Something went wrong on the server" in text
    assert "secret detail" not in text and "Traceback" not in text


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_500_for_an_api_client_stays_json():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.json() == {"detail": "internal server error"}


def fail_to_sign_in(client, times, **headers):
    response = None
    for _ in range(times):
        response = client.post(
            "/login/", {"username": "ada", "password": "wrong"}, **headers
        )
    return response


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=0.25)
def test_the_lockout_page_says_when_to_retry(client, django_user_model):
    django_user_model.objects.create_user("ada", password="right-horse-battery")
    assert fail_to_sign_in(client, 2, **BROWSER).status_code == 200  # the form again
    locked = fail_to_sign_in(client, 1, **BROWSER)
    assert locked.status_code == 429
    assert 895 <= int(locked["Retry-After"]) <= 900  # 15 minutes from the last try
    text = locked.content.decode()
    assert "Sign-in is locked for now" in text
    assert "After 3 failed attempts" in text
    assert re.search(
        r"until\s+<time id=\"retry-at\"[^>]*>\d\d:\d\d:\d\d UTC</time>", text
    )
    assert "about 15 minutes" in text
    # The right password does not get through until then.
    again = client.post(
        "/login/", {"username": "ada", "password": "right-horse-battery"}, **BROWSER
    )
    assert again.status_code == 429


@override_settings(AXES_FAILURE_LIMIT=2, AXES_COOLOFF_TIME=0.25)
def test_the_lockout_answers_json_with_the_retry_time_to_other_clients(
    client, django_user_model
):
    django_user_model.objects.create_user("ada", password="right-horse-battery")
    locked = fail_to_sign_in(client, 2)
    assert locked.status_code == 429
    body = locked.json()
    assert body["detail"].startswith("too many failed sign-ins (2)")
    assert 895 <= body["retry_after"] <= 900
    assert locked["Retry-After"] == str(body["retry_after"])
