"""Admin: the event log, read-only and filterable by type, source and target."""

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from brain.events import emit
from brain.events.models import EventLog
from tests.conftest import number_pending

CHANGELIST = "/admin/events/eventlog/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]


@pytest.fixture
def staff(make_user) -> Client:
    """A staff member of the viewers group: may look at the log, nothing more."""
    user = make_user("viewer")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def root(make_user) -> Client:
    client = Client()
    client.force_login(make_user("superuser"))
    return client


def emit_mixed_log() -> dict[str, EventLog]:
    """Four events: three sources, four types, a robot, a widget and no target."""
    with transaction.atomic():
        log = {
            "widget_created": emit("widget.created", {"widget_id": 1, "name": "gear"}),
            "widget_changed": emit(
                "widget.state_changed",
                {"widget_id": 1, "old_state": "new", "new_state": "ready"},
            ),
            "robot_queried": emit(
                "hardware.state_reported",
                {
                    "robot_id": "go2-alpha",
                    "battery_percentage": 80.0,
                    "online": True,
                    "reported_at": 1703001300.5,
                    "reports": 1,
                },
            ),
            "info_queried": emit(
                "mission.created",
                {
                    "mission_id": "m1",
                    "name": "n",
                    "description": "",
                    "status": "PENDING",
                    "created_at": 1703001301.0,
                },
            ),
        }
    number_pending()
    for row in log.values():
        row.refresh_from_db()
    return log


def shown(client: Client, query: str = "") -> list[int]:
    response = client.get(f"{CHANGELIST}{query}")
    assert response.status_code == 200, response.content.decode()[:2000]
    return [row.seq for row in response.context["cl"].result_list]


def test_the_changelist_loads_for_staff_newest_first(staff):
    log = emit_mixed_log()
    response = staff.get(CHANGELIST)
    assert response.status_code == 200
    rows = response.context["cl"].result_list
    newest_first = sorted((event.seq for event in log.values()), reverse=True)
    assert [row.seq for row in rows] == newest_first
    html = response.content.decode()
    for column in ("column-type", "column-source", "column-target_link"):
        assert column in html
    assert "hardware.state_reported" in html
    # The target filter offers each declared kind of subject, and broadcasts.
    (target_filter,) = [
        spec for spec in response.context["cl"].filter_specs if spec.title == "target"
    ]
    kinds = dict(target_filter.lookup_choices)
    assert {"agent_", "mission_", "robot_", "widget_", "none"} <= set(kinds)


def test_filtering_by_type_source_and_target_narrows_the_rows(staff):
    log = emit_mixed_log()
    seq = {name: event.seq for name, event in log.items()}
    assert shown(staff, "?type=widget.created") == [seq["widget_created"]]
    assert shown(staff, "?source=hardware_service") == [seq["robot_queried"]]
    assert shown(staff, "?source=widgets_service&type=widget.state_changed") == [
        seq["widget_changed"]
    ]
    assert shown(staff, "?target_kind=robot_") == [seq["robot_queried"]]
    assert shown(staff, "?target_kind=widget_&source=hardware_service") == []
    assert shown(staff, "?source=missions_service") == [seq["info_queried"]]
    assert shown(staff, "?target_kind=none") == [
        seq["info_queried"],
        seq["widget_created"],
    ]
    # One subject's events: each target in the list links to exactly that filter.
    assert 'href="?target=robot_go2-alpha"' in staff.get(CHANGELIST).content.decode()
    assert shown(staff, "?target=robot_go2-alpha") == [seq["robot_queried"]]
    assert shown(staff, "?target=robot_other") == []


def test_the_log_cannot_be_added_to_changed_or_deleted(root):
    log = emit_mixed_log()
    event = log["robot_queried"]
    change_url = f"{CHANGELIST}{event.pk}/change/"
    assert root.get(f"{CHANGELIST}add/").status_code == 403
    view = root.get(change_url)
    assert view.status_code == 200
    assert view.context["has_change_permission"] is False
    assert b'name="_save"' not in view.content
    assert root.post(change_url, {"type": "forged.event"}).status_code == 403
    delete_url = f"{CHANGELIST}{event.pk}/delete/"
    assert root.get(delete_url).status_code == 403
    assert root.post(delete_url, {"post": "yes"}).status_code == 403
    changelist = root.get(CHANGELIST)
    assert changelist.context["action_form"] is None
    root.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    event.refresh_from_db()
    assert event.type == "hardware.state_reported"
    assert EventLog.objects.count() == len(log)


def changelist_queries(client: Client, events: int) -> int:
    with transaction.atomic():
        for i in range(events):
            emit(
                "hardware.state_reported",
                {
                    "robot_id": f"robot-{i}",
                    "battery_percentage": 50.0,
                    "online": True,
                    "reported_at": 1703001300.0 + i,
                    "reports": 1,
                },
            )
    number_pending()
    total = EventLog.objects.count()
    with CaptureQueriesContext(connection) as queries:
        assert len(shown(client)) == total
    return len(queries)


def test_the_changelist_query_count_does_not_grow_with_the_rows(staff):
    with_five = changelist_queries(staff, 5)
    with_fifty = changelist_queries(staff, 45)
    assert with_fifty == with_five
