"""The performance paths give exactly what the plain paths give.

Issue 9 made a large log batch cheaper: its input is checked without DRF's per-field
machinery when every entry is plainly valid, its response is built directly, and on
PostgreSQL its rows and events are written with ``COPY``. Each test here compares a
fast path with the path it replaces, on the same data.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from brain.events import emit_many, publish, registered_types
from brain.events.contracts.examples import example_payload
from brain.events.models import EventLog
from missions import services
from missions.models import LogLevel, MissionLog
from missions.serializers import (
    LogEntryInputSerializer,
    LogEntrySerializer,
    log_entries_data,
    log_entries_input,
)
from tests.conftest import number_pending, settle
from tests.delivery import assert_delivered_as_stored
from tests.missions.factories import make_mission

BIG = max(services.COPY_MIN_LINES, publish.COPY_MIN_EVENTS) + 6

ENTRIES = [
    {"message": "plain"},
    {"message": "  padded  ", "level": "warning"},
    {"message": "ünïcödé ✓", "level": "debug", "data": {"k": [1, 2, {"x": None}]}},
    {"message": "x" * 10000, "extra": "ignored"},
    {"message": " " + "y" * 10000 + " "},
    {"message": "y" * 10001},
    {"message": ""},
    {"message": "   "},
    {"message": "nul \x00 inside"},
    {"message": "lone \ud800 surrogate"},
    {"message": 42},
    {"message": True},
    {"message": None},
    {},
    {"message": "m", "level": "loud"},
    {"message": "m", "level": None},
    {"message": "m", "level": 1},
    {"message": "m", "level": "INFO"},
    {"message": "m", "data": []},
    {"message": "m", "data": None},
    {"message": "m", "data": "{}"},
    {"message": "m", "data": {}},
    ["not", "an", "object"],
    "text",
    None,
]


@pytest.mark.parametrize("entry", ENTRIES, ids=range(len(ENTRIES)))
def test_fast_input_check_agrees_with_the_serializer(entry):
    for batch in ([entry], [{"message": "first"}, entry]):
        serializer = LogEntryInputSerializer(data=batch, many=True)
        valid = serializer.is_valid()
        fast = log_entries_input(batch)
        if fast is not None:
            assert valid, serializer.errors
            assert fast == [dict(item) for item in serializer.validated_data]
            for item, expected in zip(fast, serializer.validated_data, strict=True):
                assert type(item["level"]) is type(expected["level"])


def test_fast_input_check_takes_plain_batches():
    batch = [
        {"message": f"line {i}", "level": LogLevel.values[i % 4], "data": {"i": i}}
        for i in range(500)
    ]
    serializer = LogEntryInputSerializer(data=batch, many=True)
    assert serializer.is_valid()
    assert log_entries_input(batch) == [dict(x) for x in serializer.validated_data]
    assert log_entries_input([{"message": "m"}]) == [
        {"level": LogLevel.INFO, "message": "m", "data": {}}
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 3, BIG])
def test_fast_entry_data_equals_the_serializer(count):
    mission = make_mission()
    lines = [
        services.LogLine(f"line {i}", LogLevel.values[i % 4], {"i": i})
        for i in range(count)
    ]
    entries = services.mission_log_append(mission_id=mission.id, lines=lines)
    assert log_entries_data(entries) == LogEntrySerializer(entries, many=True).data
    stored = list(
        MissionLog.objects.filter(mission=mission, message__startswith="line")
    )
    assert log_entries_data(stored) == LogEntrySerializer(stored, many=True).data
    assert [e.id for e in entries] == [e.id for e in stored]


def _envelopes_without_identity(rows) -> list[dict]:
    out = []
    for envelope in rows:
        envelope = dict(envelope)
        envelope.pop("id")
        envelope.pop("timestamp")
        envelope["payload"] = {
            k: v for k, v in envelope["payload"].items() if k != "appended_at"
        }
        envelope["meta"] = {
            k: v
            for k, v in envelope["meta"].items()
            if k not in ("seq", "correlation_id")
        }
        out.append(envelope)
    return out


def log_events_of(mission) -> list[EventLog]:
    """The mission's ``mission.log_appended`` events, in the order stored."""
    return list(
        EventLog.objects.filter(
            subjects__has=f"mission_{mission.id}", type="mission.log_appended"
        ).order_by("id")
    )


@pytest.mark.django_db
def test_copied_batch_stores_what_an_insert_stores(
    django_capture_on_commit_callbacks, delivered
):
    assert connection.vendor == "postgresql", "the COPY path is PostgreSQL's"
    mission = make_mission()
    lines = [
        services.LogLine(f"line {i} \\ tab\there\nnewline", "info", {"i": i, "s": "\\"})
        for i in range(BIG)
    ]
    settle()
    with django_capture_on_commit_callbacks(execute=True):
        copied = services.mission_log_append(mission_id=mission.id, lines=lines)
    settle()
    inserted = []
    for line in lines:
        inserted += services.mission_log_append(mission_id=mission.id, lines=[line])
    number_pending()
    stored = {e.id: e for e in MissionLog.objects.filter(mission=mission)}
    for entry, line in zip(copied, lines, strict=True):
        assert entry.pk is not None and not entry._state.adding
        row = stored[entry.id]
        assert (row.message, row.level, row.data) == (
            line.message,
            line.level,
            line.data,
        )
        assert row.timestamp == entry.timestamp
    assert [e.id for e in copied] == sorted(e.id for e in copied)
    assert max(e.id for e in copied) < min(e.id for e in inserted)

    events = log_events_of(mission)
    copied_events, inserted_events = events[1 : BIG + 1], events[BIG + 1 :]
    assert [e.payload["message"] for e in copied_events] == [
        line.message for line in lines
    ]
    assert _envelopes_without_identity(
        e.envelope() for e in copied_events
    ) == _envelopes_without_identity(e.envelope() for e in inserted_events)

    # What goes on the wire: one text per event, equal to the stored envelope.
    assert_delivered_as_stored(delivered, copied_events)
    assert {item.subjects for item in delivered[0]} == {
        frozenset({f"mission_{mission.id}"})
    }


@pytest.mark.django_db
def test_copied_events_of_several_types_keep_their_own_meta(
    django_capture_on_commit_callbacks, delivered
):
    assert connection.vendor == "postgresql", "the COPY path is PostgreSQL's"
    types = registered_types()
    # The stored ones: a live-only type is never written, by COPY or otherwise.
    names = sorted(name for name, spec in types.items() if spec.durable)
    items = [
        (names[i % len(names)], example_payload(types[names[i % len(names)]]))
        for i in range(BIG)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        rows = emit_many(items)
    assert len(rows) == BIG
    stored = {e.id: e for e in EventLog.objects.filter(id__in=[r.id for r in rows])}
    assert len(stored) == BIG
    for row, (name, payload) in zip(rows, items, strict=True):
        assert row.envelope() == stored[row.id].envelope()
        assert row.type == name and row.payload == payload
        assert row.subjects == stored[row.id].subjects
        assert row.subjects == types[name].subjects_for(row.target, payload)
        assert row.meta["producer"] == types[name].source
        assert row.meta["source_module"] == row.source.removesuffix("_service")
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    # Numbered at commit in the order written, and delivered as stored.
    assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + BIG))
    assert_delivered_as_stored(delivered, [stored[r.id] for r in rows])


@pytest.mark.django_db
def test_rolled_back_copy_leaves_nothing(django_capture_on_commit_callbacks, delivered):
    mission = make_mission()
    settle()
    before = (MissionLog.objects.count(), EventLog.objects.count())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            services.mission_log_append(
                mission_id=mission.id,
                lines=[services.LogLine(f"gone {i}") for i in range(BIG)],
            )
            transaction.set_rollback(True)
    assert callbacks == []
    assert delivered == []
    assert (MissionLog.objects.count(), EventLog.objects.count()) == before


@pytest.mark.django_db
def test_copy_errors_are_django_errors():
    """The database's refusal inside COPY (past the service's own input check,
    which would refuse an empty message first) is Django's IntegrityError."""
    mission = make_mission()
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            services._append(mission.id, [services.LogLine("")] * BIG)


@pytest.mark.django_db
def test_a_large_batch_through_the_api_keeps_the_request_meta(api):
    mission = make_mission()
    response = api.post(
        f"/api/missions/{mission.id}/log",
        [{"message": f"m{i}", "data": {"i": i}} for i in range(BIG)],
        format="json",
        HTTP_X_REQUEST_ID="req-issue-9",
    )
    assert response.status_code == 201, response.content
    stored = MissionLog.objects.filter(mission=mission, message__startswith="m")
    assert response.json()["log"] == LogEntrySerializer(stored, many=True).data
    events = log_events_of(mission)[1:]
    assert [e.payload["message"] for e in events] == [f"m{i}" for i in range(BIG)]
    assert {e.meta["correlation_id"] for e in events} == {"req-issue-9"}
    assert {e.meta["actor"] for e in events} == {"alice"}
