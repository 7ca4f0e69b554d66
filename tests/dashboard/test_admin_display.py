"""Admin as staff read it (issue 17): its name, the transitions a status may take,
times to the second."""

import re

import pytest

from brain.events.models import EventLog
from missions import services
from tests.conftest import number_pending
from tests.missions.factories import make_mission

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, make_user):
    client.force_login(make_user("superuser"))
    return client


def test_the_header_says_brain_mission_control(staff):
    page = staff.get("/admin/").content.decode()
    assert '<a href="/admin/">BRAiN Mission Control</a>' in page
    assert "Django administration" not in page
    assert "<title>Missions, credits, robots, agents and events | BRAiN" in page


@pytest.mark.parametrize(
    "path, offered",
    [
        ((), ["PENDING", "RUNNING", "CANCELLED"]),
        (("RUNNING",), ["RUNNING", "COMPLETED", "FAILED", "CANCELLED"]),
        (("RUNNING", "COMPLETED"), ["COMPLETED"]),
    ],
)
def test_the_status_drop_down_offers_only_the_allowed_transitions(staff, path, offered):
    mission = make_mission(name="Survey")
    for status in path:
        services.mission_set_status(mission_id=mission.id, status=status)
    page = staff.get(f"/admin/missions/mission/{mission.id}/change/").content.decode()
    select = re.search(r'<select name="status"[^>]*>(.*?)</select>', page, re.S)
    assert re.findall(r'<option value="(\w+)"', select.group(1)) == offered


@pytest.mark.django_db(transaction=True)
def test_event_and_mission_times_show_seconds(staff):
    mission = make_mission(name="Timed")
    number_pending()
    event = EventLog.objects.filter(seq__isnull=False).order_by("-seq").first()
    stamp = event.occurred_at.strftime("%Y-%m-%d %H:%M:%S")
    listing = staff.get("/admin/events/eventlog/").content.decode()
    assert stamp in listing
    detail = staff.get(f"/admin/events/eventlog/{event.pk}/change/").content.decode()
    assert stamp in detail
    missions = staff.get("/admin/missions/mission/").content.decode()
    assert mission.created_at.strftime("%Y-%m-%d %H:%M:%S") in missions
    change = staff.get(f"/admin/missions/mission/{mission.id}/change/").content.decode()
    log = mission.log_entries.get()
    assert log.timestamp.strftime("%Y-%m-%d %H:%M:%S") in change
