"""PostgreSQL: a sequence that remembers the highest ``seq`` ever drawn, so numbers
never go back even when the log is emptied (see ``brain/events/sequencer.py``)."""

from django.db import migrations


def create_floor(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE SEQUENCE IF NOT EXISTS events_eventlog_seq_floor "
        "MINVALUE 0 START WITH 0"
    )
    schema_editor.execute(
        "SELECT setval('events_eventlog_seq_floor', COALESCE(MAX(seq), 0)) "
        "FROM events_eventlog"
    )


def drop_floor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS events_eventlog_seq_floor")


class Migration(migrations.Migration):
    dependencies = [("events", "0003_sequenced_log")]

    operations = [migrations.RunPython(create_floor, drop_floor)]
