"""The event log: the durable truth every delivery path reads from."""

import json

from django.db import models

SCHEMA_VERSION = 1


class EventLog(models.Model):
    """One Charter event. ``seq`` is its position in the log and only grows."""

    seq = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True, editable=False)
    type = models.CharField(max_length=100)
    source = models.CharField(max_length=64)
    target = models.CharField(max_length=200, null=True, blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    payload = models.JSONField()
    meta = models.JSONField(default=dict)
    # The entities the payload names, indexed for the ``subject`` filter.
    mission_id = models.CharField(max_length=64, null=True, blank=True)
    robot_id = models.CharField(max_length=64, null=True, blank=True)
    agent_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = "event"
        # Every read is "after seq N, in seq order", optionally narrowed by type or
        # subject, so each index ends in ``seq``. Subject columns are indexed only
        # where set, and none gets Django's extra LIKE index: an event row costs
        # six index entries, not fifteen (the bulk and append benchmarks).
        indexes = [
            models.Index(
                fields=["type", "seq"],
                name="event_type_seq",
                # Serves both ``type = x`` and ``type LIKE 'x.%'`` on PostgreSQL.
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            *(
                models.Index(
                    fields=[column, "seq"],
                    name=f"event_{column}_seq",
                    condition=models.Q(**{f"{column}__isnull": False}),
                )
                for column in ("target", "mission_id", "robot_id", "agent_id")
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type}"

    def envelope(self) -> dict:
        """The Charter v1.0 envelope: exactly seven keys."""
        return {
            "id": str(self.event_id),
            "type": self.type,
            "source": self.source,
            "target": self.target,
            "timestamp": self.occurred_at.timestamp(),
            "payload": self.payload,
            "meta": {**self.meta, "seq": self.seq},
        }

    def encode(self) -> str:
        return json.dumps(self.envelope(), separators=(",", ":"), default=str)
