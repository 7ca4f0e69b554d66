"""The missions board in a real browser: live cards, transitions, read-only users."""

import httpx
import pytest
from django.test import Client
from playwright.sync_api import expect

from missions import services
from missions.models import Mission, MissionStatus
from tests.conftest import token_for
from tests.dashboard.browser import WITHIN_A_SECOND, off_loop, wait_live_state
from tests.missions.factories import make_mission

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def card(page, mission_id: str, status: str | None = None):
    column = f'[data-column="{status}"] ' if status else ""
    return page.locator(f'{column}[data-mission-id="{mission_id}"]')


ADMIN_MISSIONS = "/admin/missions/mission/"


def admin_post(staff: Client, path: str, data: dict) -> None:
    """Post an admin form as a browser would, away from Playwright's event loop."""
    response = off_loop(staff.post, path, data, follow=True)
    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert not errors, errors
    assert response.redirect_chain, "the admin did not accept the form"


def admin_change_form(staff: Client, mission_id: str, **changes) -> dict:
    """The change form's fields as the page fills them, inlines included."""
    page = staff.get(f"{ADMIN_MISSIONS}{mission_id}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update(
            {management.add_prefix(k): v for k, v in management.initial.items()}
        )
    return {**data, **changes}


def rest(server, user) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Token {token_for(user)}"},
        timeout=5,
    )


def test_a_mission_created_over_rest_appears_and_moves_without_reload(
    dash_server, pages, make_user
):
    operator = make_user("operator")
    page = pages.open(dash_server, operator, "/")
    with rest(dash_server, operator) as api:
        created = api.post("/api/missions", json={"name": "Survey the ridge"})
        assert created.status_code == 201, created.text
        mission_id = created.json()["id"]

        card(page, mission_id, "PENDING").wait_for(timeout=WITHIN_A_SECOND)
        assert card(page, mission_id).count() == 1

        moved = api.post(
            f"/api/missions/{mission_id}/status", json={"status": "RUNNING"}
        )
        assert moved.status_code == 200, moved.text

    card(page, mission_id, "RUNNING").wait_for(timeout=WITHIN_A_SECOND)
    assert card(page, mission_id, "PENDING").count() == 0
    assert card(page, mission_id).count() == 1
    buttons = card(page, mission_id).locator("button[data-to]")
    assert buttons.all_inner_texts() == ["Complete", "Fail", "Cancel"]
    page.wait_for_selector('#stats-total[data-total="1"]', timeout=WITHIN_A_SECOND)


def test_an_operator_click_on_start_changes_the_status_for_everyone(
    dash_server, pages, make_user
):
    mission = make_mission(name="Map the cave")
    operator, watcher = make_user("operator"), make_user("viewer")
    acting = pages.open(dash_server, operator, "/")
    watching = pages.open(dash_server, watcher, "/")

    start = card(acting, str(mission.id), "PENDING").get_by_role("button", name="Start")
    start.click()

    card(watching, str(mission.id), "RUNNING").wait_for(timeout=WITHIN_A_SECOND)
    card(acting, str(mission.id), "RUNNING").wait_for(timeout=WITHIN_A_SECOND)
    assert Mission.objects.get(pk=mission.id).status == MissionStatus.RUNNING


def test_a_viewer_sees_changes_live_but_no_controls(dash_server, pages, make_user):
    mission = make_mission(name="Inspect the pipeline")
    viewer = make_user("viewer")
    page = pages.open(dash_server, viewer, "/")
    card(page, str(mission.id), "PENDING").wait_for(timeout=2000)

    assert page.locator("#create-mission").count() == 0
    assert page.locator("button[data-to]").count() == 0
    assert page.locator("#read-only").is_visible()

    off_loop(
        services.mission_set_status, mission_id=mission.id, status=MissionStatus.RUNNING
    )
    card(page, str(mission.id), "RUNNING").wait_for(timeout=WITHIN_A_SECOND)
    assert page.locator("button[data-to]").count() == 0

    mission_page = pages.open(dash_server, viewer, f"/missions/{mission.id}/")
    assert mission_page.locator("#actions button").count() == 0


def test_the_server_refuses_a_viewers_write_and_the_page_says_why(
    dash_server, pages, make_user
):
    """Controls rendered for an operator who lost the right meanwhile: a 403, shown."""
    mission = make_mission(name="Calibrate sensors")
    operator = make_user("operator")
    page = pages.open(dash_server, operator, "/")
    operator.groups.clear()
    operator.groups.add(operator.groups.model.objects.get(name="viewers"))
    pages.allow(r"status of 403")

    card(page, str(mission.id)).get_by_role("button", name="Start").click()

    page.wait_for_selector("#flash:not([hidden])", timeout=2000)
    assert "Not allowed" in page.locator("#flash").inner_text()
    assert Mission.objects.get(pk=mission.id).status == MissionStatus.PENDING


def test_the_create_form_adds_a_mission_and_filters_live_in_the_url(
    dash_server, pages, make_user
):
    operator = make_user("operator")
    page = pages.open(dash_server, operator, "/")
    page.fill("#new-name", "Patrol the perimeter")
    page.select_option("#new-priority", "30")
    page.get_by_role("button", name="Create").click()
    page.wait_for_selector(
        '[data-column="PENDING"] .mission-card', timeout=WITHIN_A_SECOND
    )
    mission = Mission.objects.get(name="Patrol the perimeter")
    assert mission.priority == 30
    assert card(page, str(mission.id)).count() == 1

    off_loop(make_mission, name="Unrelated errand")
    page.fill("#search", "perimeter")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/?*search=perimeter*")
    page.check('input[name="status"][value="PENDING"]')  # submits the form
    page.wait_for_url("**status=PENDING**")
    wait_live_state(page)
    assert page.locator("[data-column]").count() == 1
    assert page.locator(".mission-card").count() == 1
    off_loop(make_mission, name="Second perimeter sweep")
    off_loop(make_mission, name="Another errand")
    expect(page.locator(".mission-card")).to_have_count(2, timeout=WITHIN_A_SECOND)
    page.reload()
    wait_live_state(page)
    assert page.locator('input[name="search"]').input_value() == "perimeter"
    expect(page.locator(".mission-card")).to_have_count(2)


def test_changes_made_in_django_admin_show_on_an_open_board_without_reload(
    dash_server, pages, make_user
):
    """Created, started by the bulk action, completed on the change form: live."""
    page = pages.open(dash_server, make_user("viewer"), "/")
    staff = Client()
    staff.force_login(make_user("superuser"))

    admin_post(
        staff,
        f"{ADMIN_MISSIONS}add/",
        {
            "name": "Check the antenna",
            "description": "",
            "data": "{}",
            "priority": "30",
            "log_entries-TOTAL_FORMS": "0",
            "log_entries-INITIAL_FORMS": "0",
            "_save": "Save",
        },
    )
    mission_id = str(Mission.objects.get(name="Check the antenna").id)
    card(page, mission_id, "PENDING").wait_for(timeout=WITHIN_A_SECOND)

    admin_post(
        staff,
        ADMIN_MISSIONS,
        {"action": "mission_start", "_selected_action": [mission_id]},
    )
    card(page, mission_id, "RUNNING").wait_for(timeout=WITHIN_A_SECOND)

    form = off_loop(admin_change_form, staff, mission_id, status="COMPLETED")
    admin_post(staff, f"{ADMIN_MISSIONS}{mission_id}/change/", form)
    card(page, mission_id, "COMPLETED").wait_for(timeout=WITHIN_A_SECOND)
    assert card(page, mission_id).count() == 1
    assert Mission.objects.get(pk=mission_id).status == MissionStatus.COMPLETED
