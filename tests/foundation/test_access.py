"""Who may do what: anonymous, viewers, operators, superusers."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_anonymous_gets_401_with_a_json_body(anon):
    for path in ("/api/missions", "/api/events", "/api/missions/stats"):
        response = anon.get(path)
        assert response.status_code == 401, path
        assert response.json() == {
            "detail": "Authentication credentials were not provided."
        }
        assert response["WWW-Authenticate"] == "Token"


def test_health_endpoints_are_public(anon):
    assert anon.get("/api/missions/health").json() == {"status": "ok"}
    assert anon.get("/api/health").status_code == 200


def test_a_viewer_reads_but_cannot_write(api_as):
    viewer = api_as("viewer")
    assert viewer.get("/api/missions").status_code == 200
    response = viewer.post("/api/missions", {"name": "nope"}, format="json")
    assert response.status_code == 403
    assert "permission" in response.json()["detail"]


def test_an_operator_writes(api):
    response = api.post("/api/missions", {"name": "yes"}, format="json")
    assert response.status_code == 201


def test_a_signed_in_user_without_a_permission_reads_nothing(api_as):
    plain = api_as("plain")
    assert plain.get("/api/missions").status_code == 403
    assert plain.post("/api/missions", {"name": "x"}, format="json").status_code == 403
    assert plain.get("/api/events").json()["results"] == []


def test_superuser_writes(api_as):
    root = api_as("superuser")
    assert (
        root.post("/api/missions", {"name": "root"}, format="json").status_code == 201
    )


def test_session_auth_needs_csrf_for_writes(make_user):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(make_user("operator"))
    assert client.get("/api/missions").status_code == 200
    response = client.post("/api/missions", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_groups_carry_the_domain_permissions():
    from django.contrib.auth.models import Group

    viewers = set(
        Group.objects.get(name="viewers").permissions.values_list("codename", flat=True)
    )
    operators = set(
        Group.objects.get(name="operators").permissions.values_list(
            "codename", flat=True
        )
    )
    assert {"view_mission", "view_missionlog", "view_eventlog"} <= viewers
    assert not {p for p in viewers if not p.startswith("view_")}
    assert {"add_mission", "change_mission", "add_missionlog"} <= operators
    assert not {p for p in operators if p.startswith("delete_")}


def test_the_groups_cover_the_apps_the_setting_lists(settings):
    from django.contrib.auth.models import Group

    from brain.access.groups import sync_group_permissions

    for group in Group.objects.filter(name__in=("viewers", "operators")):
        group.permissions.clear()
    settings.BRAIN_DOMAIN_APPS = ["missions"]
    sync_group_permissions()

    viewers = Group.objects.get(name="viewers").permissions
    apps = set(viewers.values_list("content_type__app_label", flat=True))
    assert apps == {"missions", "events"}
    operators = Group.objects.get(name="operators").permissions
    assert not operators.filter(content_type__app_label="events").exclude(
        codename__startswith="view_"
    )
    assert operators.filter(codename="change_mission").exists()
    assert not operators.filter(codename="change_account").exists()


def test_a_domain_app_that_is_not_installed_fails_the_checks(settings):
    from brain.access.groups import check_domain_apps

    assert check_domain_apps() == []
    settings.BRAIN_DOMAIN_APPS = ["missions", "misions"]
    assert [error.id for error in check_domain_apps()] == ["access.E001"]
    assert "'misions'" in check_domain_apps()[0].msg
