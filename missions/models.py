"""Missions and their append-only logs."""

import uuid

from django.db import models
from django.utils import timezone

from brain.errors import Conflict
from brain.guards import require_service


class MissionStatus(models.TextChoices):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class MissionPriority(models.IntegerChoices):
    LOW = 10
    NORMAL = 20
    HIGH = 30
    CRITICAL = 40


# The only status changes there are; COMPLETED, FAILED and CANCELLED are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    MissionStatus.PENDING: (MissionStatus.RUNNING, MissionStatus.CANCELLED),
    MissionStatus.RUNNING: (
        MissionStatus.COMPLETED,
        MissionStatus.FAILED,
        MissionStatus.CANCELLED,
    ),
    MissionStatus.COMPLETED: (),
    MissionStatus.FAILED: (),
    MissionStatus.CANCELLED: (),
}
FINAL_STATUSES = tuple(s for s, targets in TRANSITIONS.items() if not targets)


class TransitionRefused(Conflict):
    def __init__(self, *, current: str, requested: str) -> None:
        allowed = list(TRANSITIONS[current])
        super().__init__(
            f"cannot change status from {current} to {requested}; allowed: "
            + (", ".join(allowed) if allowed else f"none, {current} is final"),
            current_status=current,
            requested_status=requested,
            allowed_transitions=allowed,
        )


class MissionQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        require_service(objs, "missions.services.mission_create", "missions")
        return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs):
        if "status" in kwargs:
            raise TypeError(
                "status changes go through missions.services.mission_set_status, "
                "which checks the transition and emits the event"
            )
        return super().update(**kwargs)


NAME_MAX_LENGTH = 200


class Mission(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16,
        choices=MissionStatus.choices,
        default=MissionStatus.PENDING,
        db_index=True,
    )
    priority = models.IntegerField(
        choices=MissionPriority.choices, default=MissionPriority.NORMAL
    )
    assigned_agent = models.CharField(
        max_length=64, null=True, blank=True, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MissionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The work queue: highest priority, oldest first, among PENDING.
            models.Index(fields=["status", "-priority", "created_at"], name="queue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=MissionStatus.values),
                name="mission_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(priority__in=MissionPriority.values),
                name="mission_priority_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    def save(self, *args, **kwargs):
        """Refuse a status change the transition table does not allow, on any path,
        and any insert or status change that is not its service's."""
        if self._state.adding:
            require_service([self], "missions.services.mission_create", "missions")
        update_fields = kwargs.get("update_fields")
        saves_status = update_fields is None or "status" in update_fields
        if saves_status and not self._state.adding:
            loaded = getattr(self, "_loaded_status", None)
            if loaded is None and "status" in self.__dict__:
                # Loaded with the status deferred, then assigned: check the stored one.
                loaded = (
                    type(self)
                    ._base_manager.filter(pk=self.pk)
                    .values_list("status", flat=True)
                    .first()
                )
            if loaded is not None and loaded != self.status:
                if self.status not in TRANSITIONS[loaded]:
                    raise TransitionRefused(current=loaded, requested=self.status)
                require_service(
                    [self], "missions.services.mission_set_status", "status changes"
                )
        super().save(*args, **kwargs)
        if saves_status:
            self._loaded_status = self.status

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        """Reload, and check later status changes from the status read now."""
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None or "status" in fields:
            self._loaded_status = self.__dict__.get("status")

    @property
    def allowed_transitions(self) -> list[str]:
        return list(TRANSITIONS[self.status])

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class MissionStatusChange(models.Model):
    """One step of a mission's life: the history pages and the API show, kept here
    (not read from the event log, which retention prunes). The first row of a
    mission is its creation (``old_status`` empty)."""

    mission = models.ForeignKey(
        Mission, on_delete=models.CASCADE, related_name="status_changes", db_index=False
    )
    old_status = models.CharField(max_length=16, blank=True, default="")
    new_status = models.CharField(max_length=16, choices=MissionStatus.choices)
    changed_at = models.DateTimeField()
    actor = models.CharField(max_length=150, null=True, blank=True)
    agent_id = models.CharField(max_length=64, null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["mission", "id"], name="mission_status_change_order")
        ]

    def __str__(self) -> str:
        return f"{self.old_status or 'created'} → {self.new_status}"


class LogLevel(models.TextChoices):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class AppendOnly(Exception):
    """Mission logs are never edited or deleted."""


class MissionLogQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        require_service(objs, "missions.services.mission_log_append", "log entries")
        return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs):
        raise AppendOnly("mission log entries cannot be edited")

    def delete(self):
        raise AppendOnly("mission log entries cannot be deleted")


class MissionLog(models.Model):
    # No index of its own: ``mission_log_order`` (mission, id) serves every lookup.
    mission = models.ForeignKey(
        Mission, on_delete=models.PROTECT, related_name="log_entries", db_index=False
    )
    timestamp = models.DateTimeField(default=timezone.now)
    level = models.CharField(
        max_length=8, choices=LogLevel.choices, default=LogLevel.INFO
    )
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)

    objects = MissionLogQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["mission", "id"], name="mission_log_order")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(message=""), name="mission_log_message_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.level}] {self.message[:60]}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("mission log entries cannot be edited")
        require_service([self], "missions.services.mission_log_append", "log entries")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("mission log entries cannot be deleted")
