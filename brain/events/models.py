"""The event log: the durable truth every delivery path reads from."""

import json

from django.db import models

SCHEMA_VERSION = 1


class EventLog(models.Model):
    """One Charter event. ``seq`` is its position in the log and only grows."""

    seq = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True, editable=False)
    type = models.CharField(max_length=100, db_index=True)
    source = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=200, null=True, blank=True, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    payload = models.JSONField()
    meta = models.JSONField(default=dict)
    # The entities the payload names, indexed for the ``subject`` filter.
    mission_id = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    robot_id = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    agent_id = models.CharField(max_length=64, null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = "event"

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
