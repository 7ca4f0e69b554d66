"""The event log: the durable truth every delivery path reads from."""

import json

from django.db import models
from django.db.models import Lookup

SCHEMA_VERSION = 1


class SubjectsField(models.Field):
    """What an event is about (``mission_<id>``, ``robot_<id>``, ...), as a list.

    ``text[]`` with a GIN index on PostgreSQL; JSON text on SQLite. Filter with
    ``subjects__has="mission_<id>"``. The core stores subjects generically, so a new
    app's subjects need no change here: they are declared with its event types.
    """

    description = "a list of subject strings"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def db_type(self, connection) -> str:
        return "text[]" if connection.vendor == "postgresql" else "text"

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        value = [str(item) for item in value]
        return value if connection.vendor == "postgresql" else json.dumps(value)

    def from_db_value(self, value, expression, connection):
        if value is None or isinstance(value, list):
            return value
        return json.loads(value)

    def to_python(self, value):
        if isinstance(value, str):
            return json.loads(value)
        return value


@SubjectsField.register_lookup
class HasSubject(Lookup):
    lookup_name = "has"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            # ``@>`` is what the GIN index serves.
            return f"{lhs} @> ARRAY[%s]::text[]", [*lhs_params, str(self.rhs)]
        return (
            # The column is the compiled left-hand side; the value is a parameter.
            f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = %s)",  # noqa: S608  # nosec B608
            [*lhs_params, str(self.rhs)],
        )


class EventLog(models.Model):
    """One Charter event of a durable type.

    ``seq`` is its position in the log: drawn after the writing transaction commits,
    in commit order, by ``brain.events.sequencer``, so it only grows and every ``seq``
    below one a reader has seen is final. Until then it is null and no reader sees
    the row (every read is ``seq > N``). ``id`` is only the insertion order.
    """

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(null=True, blank=True, editable=False)
    event_id = models.UUIDField(editable=False)
    type = models.CharField(max_length=100)
    source = models.CharField(max_length=64)
    target = models.CharField(max_length=200, null=True, blank=True)
    occurred_at = models.DateTimeField()
    payload = models.JSONField()
    meta = models.JSONField(default=dict)
    subjects = SubjectsField(blank=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = "event"
        # Every read is "after seq N, in seq order", optionally narrowed by type or
        # subject. An insert touches only the primary key and ``event_pending``: the
        # other indexes hold sequenced rows only, so a row enters them once, when it
        # gets its ``seq``. The GIN index on ``subjects`` and the BRIN index on
        # ``occurred_at`` (retention) are PostgreSQL's, made in migration 0003.
        indexes = [
            models.Index(
                fields=["id"],
                name="event_pending",
                condition=models.Q(seq__isnull=True),
            ),
            models.Index(
                fields=["type", "seq"],
                name="event_type_seq",
                # Serves both ``type = x`` and ``type LIKE 'x.%'`` on PostgreSQL.
                opclasses=["varchar_pattern_ops", "int8_ops"],
                condition=models.Q(seq__isnull=False),
            ),
            models.Index(
                fields=["event_id"],
                name="event_event_id",
                condition=models.Q(seq__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["seq"],
                name="event_seq_unique",
                condition=models.Q(seq__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type}"

    def envelope(self) -> dict:
        """The Charter v1.0 envelope: exactly seven keys."""
        meta = dict(self.meta)
        if self.seq is not None:
            meta["seq"] = self.seq
        return {
            "id": str(self.event_id),
            "type": self.type,
            "source": self.source,
            "target": self.target,
            "timestamp": self.occurred_at.timestamp(),
            "payload": self.payload,
            "meta": meta,
        }

    def encode(self) -> str:
        return json.dumps(self.envelope(), separators=(",", ":"), default=str)


class PruneRecord(models.Model):
    """One run of ``prune_events``: how many events it deleted, up to which ``seq``."""

    pruned_at = models.DateTimeField()
    deleted = models.PositiveIntegerField()
    # The highest seq deleted; a resume from below it gets a ``reset``.
    through_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-pruned_at"]

    def __str__(self) -> str:
        return f"pruned {self.deleted} events through seq {self.through_seq}"
