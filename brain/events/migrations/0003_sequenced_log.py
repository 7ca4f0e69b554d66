"""Event core v2: ``seq`` drawn after commit, generic subjects, prune records.

The log moves to a new table shape: ``id`` is the insertion order, ``seq`` is null
until the event is numbered after its transaction commits, and the subjects an event
is about are one generic column (``mission_id``/``robot_id``/``agent_id`` go). Every
existing event is copied with its ``seq`` (and that as its ``id``), so clients resume
across the upgrade exactly.
"""

from django.db import migrations, models

import brain.events.models

SUBJECT_COLUMNS = (
    ("mission_id", "mission"),
    ("robot_id", "robot"),
    ("agent_id", "agent"),
)


def copy_events(apps, schema_editor):
    legacy = apps.get_model("events", "LegacyEventLog")
    event_log = apps.get_model("events", "EventLog")
    alias = schema_editor.connection.alias
    batch = []
    for old in legacy.objects.using(alias).order_by("seq").iterator(chunk_size=2000):
        subjects = [old.target] if old.target else []
        for column, kind in SUBJECT_COLUMNS:
            value = getattr(old, column)
            if value and f"{kind}_{value}" not in subjects:
                subjects.append(f"{kind}_{value}")
        batch.append(
            event_log(
                id=old.seq,
                seq=old.seq,
                event_id=old.event_id,
                type=old.type,
                source=old.source,
                target=old.target,
                occurred_at=old.occurred_at,
                payload=old.payload,
                meta=old.meta,
                subjects=subjects,
            )
        )
        if len(batch) >= 2000:
            event_log.objects.using(alias).bulk_create(batch)
            batch = []
    if batch:
        event_log.objects.using(alias).bulk_create(batch)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "SELECT setval(pg_get_serial_sequence('events_eventlog', 'id'), "
            "GREATEST(COALESCE(MAX(id), 0), 1), MAX(id) IS NOT NULL) "
            "FROM events_eventlog"
        )


def vendor_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX event_subjects_gin ON events_eventlog USING gin (subjects) "
            "WHERE seq IS NOT NULL"
        )
        schema_editor.execute(
            "CREATE INDEX event_occurred_brin ON events_eventlog USING brin "
            "(occurred_at)"
        )
    else:
        schema_editor.execute(
            "CREATE INDEX event_occurred ON events_eventlog (occurred_at)"
        )


def drop_vendor_indexes(apps, schema_editor):
    for name in ("event_subjects_gin", "event_occurred_brin", "event_occurred"):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0002_lean_indexes"),
    ]

    operations = [
        migrations.RenameModel("EventLog", "LegacyEventLog"),
        *(
            migrations.RemoveIndex(model_name="legacyeventlog", name=name)
            for name in (
                "event_type_seq",
                "event_target_seq",
                "event_mission_id_seq",
                "event_robot_id_seq",
                "event_agent_id_seq",
            )
        ),
        migrations.CreateModel(
            name="EventLog",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(blank=True, editable=False, null=True)),
                ("event_id", models.UUIDField(editable=False)),
                ("type", models.CharField(max_length=100)),
                ("source", models.CharField(max_length=64)),
                ("target", models.CharField(blank=True, max_length=200, null=True)),
                ("occurred_at", models.DateTimeField()),
                ("payload", models.JSONField()),
                ("meta", models.JSONField(default=dict)),
                ("subjects", brain.events.models.SubjectsField(blank=True)),
            ],
            options={
                "verbose_name": "event",
                "ordering": ["seq"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("seq__isnull", True)),
                        fields=["id"],
                        name="event_pending",
                    ),
                    models.Index(
                        condition=models.Q(("seq__isnull", False)),
                        fields=["type", "seq"],
                        name="event_type_seq",
                        opclasses=["varchar_pattern_ops", "int8_ops"],
                    ),
                    models.Index(
                        condition=models.Q(("seq__isnull", False)),
                        fields=["event_id"],
                        name="event_event_id",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("seq__isnull", False)),
                        fields=("seq",),
                        name="event_seq_unique",
                    )
                ],
            },
        ),
        migrations.RunPython(copy_events, migrations.RunPython.noop),
        migrations.DeleteModel("LegacyEventLog"),
        migrations.RunPython(vendor_indexes, drop_vendor_indexes),
        migrations.CreateModel(
            name="PruneRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("pruned_at", models.DateTimeField()),
                ("deleted", models.PositiveIntegerField()),
                ("through_seq", models.BigIntegerField(blank=True, null=True)),
            ],
            options={"ordering": ["-pruned_at"]},
        ),
    ]
