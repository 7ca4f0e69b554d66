"""Admin: missions change only through the services, with the same rules and events."""

import pytest
from django.contrib.messages import constants
from django.test import Client

from missions import admin as admin_module
from missions import services
from missions.models import Mission, MissionLog
from tests.conftest import EventLogView, settle
from tests.delivery import assert_delivered_as_stored
from tests.missions.factories import make_mission, mission_in, stored
from tests.supervisor.factories import claim

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]

CHANGELIST = "/admin/missions/mission/"
# The (empty, read-only) log inline's management form, which the add page includes.
NO_LOG_FORMS = {"log_entries-TOTAL_FORMS": "0", "log_entries-INITIAL_FORMS": "0"}


@pytest.fixture
def staff(make_user) -> Client:
    client = Client()
    client.force_login(make_user("superuser", name="root"))
    return client


def change_url(mission) -> str:
    return f"{CHANGELIST}{mission.pk}/change/"


def change_form_data(staff: Client, mission, **changes) -> dict:
    """The change form as the page shows it (inline management forms included)."""
    page = staff.get(change_url(mission))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update(
            {management.add_prefix(k): v for k, v in management.initial.items()}
        )
        for entry_form in formset.forms:
            for name in entry_form.fields:
                value = entry_form[name].value()
                if value is not None:
                    data[entry_form.add_prefix(name)] = value
    data.update(changes)
    return data


def act(staff: Client, action: str, *missions):
    return staff.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(m.pk) for m in missions]},
        follow=True,
    )


def messages_of(response) -> list[tuple[int, str]]:
    return [(m.level, str(m)) for m in response.context["messages"]]


def comparable(events: list[dict]) -> list[tuple]:
    """What must match between two paths: type, source, target and payload shape."""
    return [
        (e["type"], e["source"], e["target"] is None, sorted(e["payload"]))
        for e in events
    ]


def rest_status_change_events(api, status_path: tuple[str, ...]) -> list[dict]:
    mission = make_mission(name="via rest")
    events = EventLogView()
    for status in status_path:
        response = api.post(f"/api/missions/{mission.id}/status", {"status": status})
        assert response.status_code == 200
    return events.all()


# The list -----------------------------------------------------------------------------


def test_changelist_shows_status_priority_agent_and_created(staff):
    make_mission(name="Survey north", priority=40)
    claim("rover-7")
    make_mission(name="Deploy west", priority=10)
    response = staff.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("Survey north", "Deploy west", "RUNNING", "PENDING", "rover-7"):
        assert text in page
    for column in ("column-status", "column-priority", "column-assigned_agent"):
        assert column in page
    assert "column-created_at" in page
    assert "Critical" in page and "Low" in page
    rows = list(response.context["cl"].result_list)
    assert [m.name for m in rows] == ["Deploy west", "Survey north"]


def test_changelist_filters_by_status_and_priority(staff):
    make_mission(name="low pending", priority=10)
    mission_in("RUNNING", name="high running", priority=30)
    mission_in("RUNNING", name="low running", priority=10)
    response = staff.get(
        CHANGELIST, {"status__exact": "RUNNING", "priority__exact": 10}
    )
    assert [m.name for m in response.context["cl"].result_list] == ["low running"]


def test_search_by_name_and_by_id(staff):
    survey = make_mission(name="Survey north")
    deploy = make_mission(name="Deploy west")
    by_name = staff.get(CHANGELIST, {"q": "survey"})
    assert by_name.status_code == 200
    assert [m.pk for m in by_name.context["cl"].result_list] == [survey.pk]
    by_id = staff.get(CHANGELIST, {"q": str(deploy.pk)})
    assert by_id.status_code == 200
    assert [m.pk for m in by_id.context["cl"].result_list] == [deploy.pk]
    by_upper_id = staff.get(CHANGELIST, {"q": str(deploy.pk).upper()})
    assert [m.pk for m in by_upper_id.context["cl"].result_list] == [deploy.pk]
    nothing = staff.get(CHANGELIST, {"q": "no such thing"})
    assert list(nothing.context["cl"].result_list) == []


# The change form ----------------------------------------------------------------------


def test_change_form_shows_the_log_inline_read_only_newest_last(staff):
    mission = make_mission()
    services.mission_set_status(mission_id=mission.id, status="RUNNING")
    services.mission_log_append(
        mission_id=mission.id, lines=[services.LogLine("Step 1/3", level="warning")]
    )
    page = staff.get(change_url(mission))
    assert page.status_code == 200
    (inline,) = page.context["inline_admin_formsets"]
    assert inline.has_add_permission is False
    assert inline.has_change_permission is False
    assert inline.has_delete_permission is False
    messages = [form.instance.message for form in inline.formset.forms]
    assert messages == ["Mission created", "Mission status changed", "Step 1/3"]
    content = page.content.decode()
    assert content.index("Mission created") < content.index("Step 1/3")
    # Only the status is editable after creation.
    assert list(page.context["adminform"].form.fields) == ["status"]


def test_the_log_cannot_be_edited_through_the_change_form(staff):
    mission = make_mission()
    entry = MissionLog.objects.get(mission=mission)
    data = change_form_data(staff, mission)
    data["log_entries-0-message"] = "rewritten"
    data["log_entries-0-DELETE"] = "on"
    data["log_entries-TOTAL_FORMS"] = "2"
    data["log_entries-1-message"] = "added"
    response = staff.post(change_url(mission), data)
    assert response.status_code in (200, 302)
    assert list(MissionLog.objects.filter(mission=mission)) == [entry]
    assert MissionLog.objects.get().message == "Mission created"


def test_status_change_in_the_form_emits_the_same_events_as_rest(
    staff, api, delivered, django_capture_on_commit_callbacks
):
    via_rest = rest_status_change_events(api, ("RUNNING",))
    mission = make_mission()
    data = change_form_data(staff, mission, status="RUNNING")
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(change_url(mission), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    fresh = Mission.objects.get(pk=mission.pk)
    assert fresh.status == "RUNNING"
    via_admin = events.all()
    assert [e["type"] for e in via_admin] == [
        "mission.status_changed",
        "mission.log_appended",
    ]
    assert comparable(via_admin) == comparable(via_rest)
    changed, appended = via_admin
    assert changed["target"] == f"mission_{mission.pk}"
    assert changed["payload"] == {
        "mission_id": str(mission.pk),
        "old_status": "PENDING",
        "new_status": "RUNNING",
        "changed_at": fresh.updated_at.timestamp(),
    }
    entry = MissionLog.objects.filter(mission=mission).last()
    assert entry.data == {"from": "PENDING", "to": "RUNNING"}
    assert appended["payload"] == {
        "mission_id": str(mission.pk),
        "log_level": "info",
        "message": "Mission status changed",
        "appended_at": entry.timestamp.timestamp(),
    }
    assert {e["meta"]["actor"] for e in via_admin} == {"root"}
    assert_delivered_as_stored(delivered, events.rows())
    assert {e.subjects for e in delivered[0]} == {frozenset({f"mission_{mission.pk}"})}


def test_saving_the_form_without_a_status_change_emits_nothing(staff):
    mission = make_mission()
    data = change_form_data(staff, mission)
    before = stored()
    response = staff.post(change_url(mission), data)
    assert response.status_code == 302
    assert stored() == before
    fresh = Mission.objects.get(pk=mission.pk)
    assert (fresh.status, fresh.updated_at) == ("PENDING", mission.updated_at)


@pytest.mark.parametrize(
    ("current", "target"),
    [("PENDING", "COMPLETED"), ("COMPLETED", "RUNNING"), ("CANCELLED", "PENDING")],
)
def test_refused_transition_in_the_form_shows_an_error_and_changes_nothing(
    staff, current, target
):
    mission = mission_in(current)
    data = change_form_data(staff, mission, status=target)
    before = stored()
    response = staff.post(change_url(mission), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["status"]
    assert f"Cannot change status from {current} to {target}" in errors["status"][0]
    assert "Cannot change status from" in response.content.decode()
    assert stored() == before
    fresh = Mission.objects.get(pk=mission.pk)
    assert (fresh.status, fresh.updated_at) == (current, mission.updated_at)


def test_a_mission_moved_on_since_the_form_was_shown_is_refused_by_the_form(staff):
    """Another client cancelled the mission between showing the form and saving it."""
    mission = make_mission()
    data = change_form_data(staff, mission, status="RUNNING")
    services.mission_set_status(mission_id=mission.id, status="CANCELLED")
    before = stored()
    response = staff.post(change_url(mission), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Cannot change status from CANCELLED to RUNNING" in errors["status"][0]
    assert stored() == before
    assert Mission.objects.get(pk=mission.pk).status == "CANCELLED"


def test_a_transition_refused_while_saving_is_an_error_message(staff, monkeypatch):
    """The form checked the status it read; the service, under the row lock, finds
    another client got there first. The admin's change is rolled back whole."""
    mission = make_mission()
    data = change_form_data(staff, mission, status="RUNNING")
    read_by_the_form = Mission.objects.get(pk=mission.pk)
    services.mission_set_status(mission_id=mission.id, status="CANCELLED")
    real_get_object = admin_module.MissionAdmin.get_object

    def read_before_the_other_client(self, request, object_id, from_field=None):
        if request.method == "POST":
            return read_by_the_form
        return real_get_object(self, request, object_id, from_field)

    monkeypatch.setattr(
        admin_module.MissionAdmin, "get_object", read_before_the_other_client
    )
    before = stored()
    events = EventLogView()
    response = staff.post(change_url(mission), data, follow=True)
    assert response.redirect_chain == [(change_url(mission), 302)]
    errors = [text for level, text in messages_of(response) if level == constants.ERROR]
    assert errors == [
        "cannot change status from CANCELLED to RUNNING; allowed: none, "
        "CANCELLED is final"
    ]
    assert [level for level, _ in messages_of(response)] == [constants.ERROR]
    assert Mission.objects.get(pk=mission.pk).status == "CANCELLED"
    assert stored() == before
    assert events.all() == []


def test_admin_add_without_data_stores_an_empty_object(staff):
    response = staff.post(
        f"{CHANGELIST}add/", {"name": "no data", "priority": 20, **NO_LOG_FORMS}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Mission.objects.get().data == {}


def test_a_data_value_that_is_not_an_object_is_refused_on_add(staff):
    before = stored()
    response = staff.post(
        f"{CHANGELIST}add/",
        {"name": "list data", "data": "[1, 2]", "priority": 20, **NO_LOG_FORMS},
    )
    assert response.status_code == 200
    assert "data" in response.context["adminform"].form.errors
    assert stored() == before


# Bulk actions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "start", "rest_path", "target"),
    [
        ("mission_start", "PENDING", ("RUNNING",), "RUNNING"),
        ("mission_complete", "RUNNING", ("RUNNING", "COMPLETED"), "COMPLETED"),
        ("mission_fail", "RUNNING", ("RUNNING", "FAILED"), "FAILED"),
        ("mission_cancel", "PENDING", ("CANCELLED",), "CANCELLED"),
        ("mission_cancel", "RUNNING", ("RUNNING", "CANCELLED"), "CANCELLED"),
    ],
)
def test_bulk_action_emits_the_same_events_as_rest_for_each_mission(
    staff,
    api,
    delivered,
    django_capture_on_commit_callbacks,
    action,
    start,
    rest_path,
    target,
):
    rest_events = rest_status_change_events(api, rest_path)
    via_rest = rest_events[-2:]
    first = mission_in(start, name="first")
    second = mission_in(start, name="second")
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        response = act(staff, action, first, second)
    assert response.status_code == 200
    label = action.removeprefix("mission_").capitalize()
    assert messages_of(response) == [
        (constants.INFO, f"{label}: 2 mission(s) → {target}.")
    ]
    via_admin = events.all()
    assert len(via_admin) == 4
    by_mission = {}
    for event in via_admin:
        by_mission.setdefault(event["payload"]["mission_id"], []).append(event)
    assert set(by_mission) == {str(first.pk), str(second.pk)}
    for mission in (first, second):
        emitted = by_mission[str(mission.pk)]
        assert comparable(emitted) == comparable(via_rest)
        fresh = Mission.objects.get(pk=mission.pk)
        assert fresh.status == target
        changed, appended = emitted
        assert changed["target"] == f"mission_{mission.pk}"
        assert changed["payload"] == {
            "mission_id": str(mission.pk),
            "old_status": start,
            "new_status": target,
            "changed_at": fresh.updated_at.timestamp(),
        }
        entry = MissionLog.objects.filter(mission=mission).last()
        assert entry.data == {"from": start, "to": target}
        assert appended["payload"]["message"] == "Mission status changed"
        assert appended["payload"]["appended_at"] == entry.timestamp.timestamp()
        assert changed["meta"]["actor"] == appended["meta"]["actor"] == "root"
    # Each mission commits on its own; the test's one transaction holds both.
    assert_delivered_as_stored(delivered, events.rows())
    assert [e.subjects for e in delivered[0]] == [
        frozenset({f"mission_{e['payload']['mission_id']}"}) for e in via_admin
    ]


def test_bulk_action_refuses_per_mission_with_an_error_message(staff):
    pending = make_mission(name="pending")
    done = mission_in("COMPLETED", name="done")
    cancelled = mission_in("CANCELLED", name="cancelled")
    events = EventLogView()
    response = act(staff, "mission_complete", pending, done, cancelled)
    assert response.status_code == 200
    messages = messages_of(response)
    assert all(level == constants.ERROR for level, _ in messages)
    assert sorted(text for _, text in messages) == [
        "Complete refused: cannot change status from CANCELLED to COMPLETED; "
        "allowed: none, CANCELLED is final",
        "Complete refused: cannot change status from COMPLETED to COMPLETED; "
        "allowed: none, COMPLETED is final",
        "Complete refused: cannot change status from PENDING to COMPLETED; "
        "allowed: RUNNING, CANCELLED",
    ]
    assert events.all() == []
    for mission in (pending, done, cancelled):
        fresh = Mission.objects.get(pk=mission.pk)
        assert (fresh.status, fresh.updated_at) == (mission.status, mission.updated_at)


def test_bulk_action_applies_the_allowed_and_reports_the_refused(staff):
    pending = make_mission(name="pending")
    running = mission_in("RUNNING", name="running")
    events = EventLogView()
    response = act(staff, "mission_start", pending, running)
    levels = sorted(level for level, _ in messages_of(response))
    assert levels == [constants.INFO, constants.ERROR]
    assert Mission.objects.get(pk=pending.pk).status == "RUNNING"
    fresh = Mission.objects.get(pk=running.pk)
    assert (fresh.status, fresh.updated_at) == ("RUNNING", running.updated_at)
    assert events.types() == ["mission.status_changed", "mission.log_appended"]


# Add and delete -----------------------------------------------------------------------


def test_admin_add_creates_through_the_service(
    staff, delivered, django_capture_on_commit_callbacks
):
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            f"{CHANGELIST}add/",
            {
                "name": "Made in admin",
                "description": "by hand",
                "data": '{"zone": 4}',
                "priority": 30,
                **NO_LOG_FORMS,
            },
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    mission = Mission.objects.get()
    assert response["Location"] == CHANGELIST
    assert (mission.name, mission.description, mission.data, mission.priority) == (
        "Made in admin",
        "by hand",
        {"zone": 4},
        30,
    )
    assert mission.status == "PENDING"
    created, appended = events.all()
    assert created["type"] == "mission.created"
    assert created["payload"] == {
        "mission_id": str(mission.pk),
        "name": "Made in admin",
        "description": "by hand",
        "status": "PENDING",
        "created_at": mission.created_at.timestamp(),
    }
    assert appended["type"] == "mission.log_appended"
    assert appended["payload"]["message"] == "Mission created"
    assert created["meta"]["actor"] == "root"
    (entry,) = MissionLog.objects.filter(mission=mission)
    assert entry.data == {"name": "Made in admin", "description": "by hand"}
    assert_delivered_as_stored(delivered, events.rows())


def test_admin_add_refuses_a_missing_or_long_name(staff):
    before = stored()
    for name in ("", "n" * 201):
        response = staff.post(
            f"{CHANGELIST}add/", {"name": name, "priority": 20, **NO_LOG_FORMS}
        )
        assert response.status_code == 200
        assert "name" in response.context["adminform"].form.errors
    assert stored() == before


def test_missions_cannot_be_deleted_in_admin(staff):
    mission = make_mission()
    assert staff.get(f"{change_url(mission)[:-7]}delete/").status_code == 403
    page = staff.get(CHANGELIST)
    assert "delete_selected" not in page.content.decode()
    response = staff.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [str(mission.pk)],
            "post": "yes",
        },
    )
    assert response.status_code in (200, 302)
    assert Mission.objects.filter(pk=mission.pk).exists()
    assert MissionLog.objects.filter(mission=mission).count() == 1


def test_the_log_is_not_editable_in_its_own_admin(staff):
    """Logs have no admin of their own: they are seen only inline."""
    mission = make_mission()
    entry = MissionLog.objects.get(mission=mission)
    response = staff.get(f"/admin/missions/missionlog/{entry.pk}/change/")
    assert response.status_code == 404
