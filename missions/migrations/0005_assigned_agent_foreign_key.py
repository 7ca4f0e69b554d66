"""``Mission.assigned_agent`` becomes a foreign key to the agent holding it.

Before the column is constrained, every holder named by a mission that is not a
registered agent is registered (offline, named after its id, ``meta.registered_by``
saying so), so no mission loses its holder; empty holders become NULL.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone


def register_unknown_holders(apps, schema_editor):
    Mission = apps.get_model("missions", "Mission")
    Agent = apps.get_model("supervisor", "Agent")
    Mission.objects.filter(assigned_agent="").update(assigned_agent=None)
    named = set(
        Mission.objects.exclude(assigned_agent=None)
        .values_list("assigned_agent", flat=True)
        .distinct()
    )
    known = set(Agent.objects.filter(pk__in=named).values_list("pk", flat=True))
    now = timezone.now()
    Agent.objects.bulk_create(
        Agent(
            agent_id=agent_id,
            name=agent_id,
            state="offline",
            started_at=now,
            created_at=now,
            meta={"registered_by": "migration missions 0005 (held a mission)"},
        )
        for agent_id in sorted(named - known)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("missions", "0004_status_and_log_triggers"),
        ("supervisor", "0003_hold_and_controls"),
    ]

    operations = [
        migrations.RunPython(register_unknown_holders, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="mission",
            name="assigned_agent",
            field=models.ForeignKey(
                blank=True,
                db_column="assigned_agent",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="missions",
                to="supervisor.agent",
            ),
        ),
    ]
