"""Missions and their append-only logs.

Plain models: every write goes through ``missions.services``, which checks the
rules and sends the signals. What must never happen whoever writes (a log line
edited or deleted, a status moved off ``TRANSITIONS``) the database refuses, with
the triggers in each ``Meta.triggers`` (PostgreSQL only; installed by migrations).
"""

import uuid

import pgtrigger
from django.db import models
from django.utils import timezone

from brain.errors import Conflict


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
    # Who holds the mission: set by a claim (``supervisor.services``), the one record
    # of it; an agent's current missions are derived from it. Named by string, so
    # the missions app imports nothing of the supervisor.
    assigned_agent = models.ForeignKey(
        "supervisor.Agent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_column="assigned_agent",
        related_name="missions",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

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
        triggers = [
            # The database's last line under the service's check (TransitionRefused):
            # no UPDATE, from any client, moves a status off the table.
            pgtrigger.FSM(
                name="mission_status_transitions",
                field="status",
                transitions=[
                    (str(current), str(target))
                    for current, targets in TRANSITIONS.items()
                    for target in targets
                ],
                condition=pgtrigger.Q(old__status__df=pgtrigger.F("new__status")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

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

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["mission", "id"], name="mission_log_order")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(message=""), name="mission_log_message_not_empty"
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="mission_log_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.level}] {self.message[:60]}"
