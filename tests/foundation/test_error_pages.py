"""No request answers with an HTML error page: 400, 403 (CSRF included), 404 and
500 are JSON, and a 500 tells nothing of the code."""

import pytest
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from brain.urls import handler400, handler403, handler404, handler500  # noqa: F401

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("secret detail from deep inside")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [path("boom/", boom), path("fine/", fine)]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_an_unexpected_error_is_a_json_500_without_a_traceback():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "internal server error"}
    assert b"secret detail" not in response.content
    assert b"Traceback" not in response.content


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_an_unknown_path_is_a_json_404():
    response = Client().get("/nowhere/")
    assert response.status_code == 404
    assert response.json()["detail"] == "not found: /nowhere/"


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_a_form_post_without_its_csrf_token_is_a_json_403(path):
    client = Client(enforce_csrf_checks=True)
    response = client.post(path, {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("CSRF verification failed")
