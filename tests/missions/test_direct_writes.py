"""Missions and log lines are plain models written by ``missions.services``, which
check the rules and send the signals; what must never happen, whoever writes (an
ORM call, raw SQL, another client), the database refuses: a log line is never
edited or deleted. The services hold every caller to the API's input rules.

That the project's own code writes these models only through the services is
``tests/foundation/test_service_writes.py``; status changes off the transition
table are ``tests/missions/test_transitions.py``."""

import pytest
from django.db import connection

from brain.errors import Invalid
from missions import services
from missions.models import MissionLog
from missions.services import LogLine
from tests.missions.factories import make_mission, stored
from tests.triggers import refused_by_the_database

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

LOG_TABLE = MissionLog._meta.db_table


def test_a_log_line_cannot_be_edited_or_deleted_through_the_orm():
    mission = make_mission()
    entry = MissionLog.objects.get(mission=mission)
    entry.message = "rewritten"
    refused = "Cannot update or delete rows from missions_missionlog table"
    with refused_by_the_database(refused):
        entry.save()
    with refused_by_the_database():
        entry.save(update_fields=["message"])
    with refused_by_the_database():
        entry.delete()
    entries = MissionLog.objects.filter(mission=mission)
    with refused_by_the_database():
        entries.update(message="rewritten")
    with refused_by_the_database():
        entries.delete()
    with refused_by_the_database():
        MissionLog.objects.all().delete()
    assert list(entries.values_list("pk", "message")) == [(entry.pk, "Mission created")]


def test_a_log_line_cannot_be_edited_or_deleted_in_sql():
    mission = make_mission()
    (entry,) = MissionLog.objects.filter(mission=mission)
    with refused_by_the_database(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {LOG_TABLE} SET message = 'rewritten' WHERE id = %s", [entry.pk]
        )
    with refused_by_the_database(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LOG_TABLE} WHERE id = %s", [entry.pk])
    assert MissionLog.objects.get(pk=entry.pk).message == "Mission created"
    assert MissionLog.objects.count() == 1


def test_log_lines_are_still_appended_through_the_service():
    mission = make_mission()
    services.mission_log_append(
        mission_id=mission.pk, lines=[LogLine("one"), LogLine("two")]
    )
    messages = MissionLog.objects.filter(mission=mission).values_list(
        "message", flat=True
    )
    assert list(messages) == ["Mission created", "one", "two"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 5}, "name"),
        ({"description": ["no"]}, "description"),
        ({"data": [1, 2]}, "data"),
        ({"data": "text"}, "data"),
        ({"priority": 15}, "priority"),
        ({"priority": True}, "priority"),
    ],
)
def test_the_service_refuses_what_the_api_refuses(overrides, field):
    before = stored()
    with pytest.raises(Invalid) as refused:
        services.mission_create(**{"name": "ok", **overrides})
    assert field in refused.value.detail
    assert stored() == before


def test_the_longest_name_is_accepted():
    assert services.mission_create(name="x" * 200).name == "x" * 200


@pytest.mark.parametrize(
    "line, field",
    [
        (LogLine(""), "lines[1].message"),
        (LogLine("x", level="fatal"), "lines[1].level"),
        (LogLine("x", data=[1]), "lines[1].data"),
        ("just text", "lines[1]"),
    ],
)
def test_log_lines_are_checked_whole_batch_or_nothing(line, field):
    mission = make_mission()
    before = stored()
    with pytest.raises(Invalid) as refused:
        services.mission_log_append(
            mission_id=mission.pk, lines=[LogLine("fine"), line]
        )
    assert refused.value.detail.startswith(field)
    assert stored() == before
