"""Agents: the workers the supervisor watches through their heartbeats.

Two columns say what an agent is: ``state``, what its heartbeats (and the offline
check) last recorded — ``unknown``, ``healthy``, ``degraded`` or ``offline`` — and
``hold``, what an operator decided — nothing, ``paused`` or ``killed``. What the
agent counts as, wherever it is shown and wherever a rule is checked, is its
*effective* state (``effective_state_expression`` / ``Agent.effective_state_at``):

1. ``offline`` if it was killed;
2. ``offline`` if its state is recorded offline, or its heartbeat window has passed
   (the window runs from the later of its last heartbeat and its registration or
   last restart);
3. ``paused`` if an operator paused it;
4. else its recorded state.

The transitions are in ``supervisor/transitions.py`` and ``EVENTS.md``.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from brain.identifiers import (
    IDENTIFIER_MAX_LENGTH,
    IDENTIFIER_PATTERN,
    identifier_validator,
)

AGENT_ID_PATTERN = IDENTIFIER_PATTERN
MAX_CAPABILITIES = 100
MAX_META_ENTRIES = 50
MAX_LABEL_LENGTH = 100
MAX_META_VALUE_LENGTH = 1000


class AgentState(models.TextChoices):
    """What an agent counts as (its effective state)."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    PAUSED = "paused"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


# What the ``state`` column records: the agent's own report, or offline by silence.
RECORDED_STATES = (
    AgentState.UNKNOWN,
    AgentState.HEALTHY,
    AgentState.DEGRADED,
    AgentState.OFFLINE,
)
# The states in which an agent takes work.
WORKING_STATES = (AgentState.HEALTHY, AgentState.DEGRADED)


class AgentHold(models.TextChoices):
    """An operator's decision, kept until an operator changes it."""

    NONE = "", "none"
    PAUSED = "paused"
    KILLED = "killed"


def validate_capabilities(value) -> None:
    if not isinstance(value, list):
        raise ValidationError("must be a list of strings")
    if len(value) > MAX_CAPABILITIES:
        raise ValidationError(f"at most {MAX_CAPABILITIES} capabilities")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValidationError("every capability must be a non-empty string")
        if len(item) > MAX_LABEL_LENGTH:
            raise ValidationError(
                f"a capability is at most {MAX_LABEL_LENGTH} characters"
            )


def validate_meta(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError("must be a JSON object of strings")
    if len(value) > MAX_META_ENTRIES:
        raise ValidationError(f"at most {MAX_META_ENTRIES} entries")
    for key, item in value.items():
        if not key or len(key) > MAX_LABEL_LENGTH:
            raise ValidationError(f"keys are 1 to {MAX_LABEL_LENGTH} characters")
        if not isinstance(item, str):
            raise ValidationError(f"value of {key!r} must be a string")
        if len(item) > MAX_META_VALUE_LENGTH:
            raise ValidationError(
                f"value of {key!r} is longer than {MAX_META_VALUE_LENGTH} characters"
            )


def heartbeat_window() -> timedelta:
    return timedelta(seconds=settings.SUPERVISOR_HEARTBEAT_WINDOW_SECONDS)


def last_sign_of_life_expression() -> Greatest:
    """The later of the last heartbeat and the (re)start, in SQL.

    ``Coalesce`` first, because SQLite's ``MAX()`` is NULL when any argument is.
    """
    return Greatest(Coalesce("last_heartbeat", "started_at"), "started_at")


def effective_state_expression(now: datetime) -> models.Case:
    """What the agent counts as (see the module's docstring), in SQL.

    Mirrors ``Agent.effective_state_at``; a test keeps the two in step.
    """
    return models.Case(
        models.When(
            models.Q(hold=AgentHold.KILLED)
            | models.Q(state=AgentState.OFFLINE)
            | models.Q(last_sign_of_life__lt=now - heartbeat_window()),
            then=models.Value(AgentState.OFFLINE),
        ),
        models.When(hold=AgentHold.PAUSED, then=models.Value(AgentState.PAUSED)),
        default=models.F("state"),
        output_field=models.CharField(),
    )


def running_missions(agent_id) -> models.QuerySet:
    """The RUNNING missions an agent holds: ``Mission.assigned_agent`` (a foreign
    key to the agent) is the one record of who holds a mission."""
    from missions.models import Mission, MissionStatus

    return Mission.objects.filter(
        assigned_agent=agent_id, status=MissionStatus.RUNNING
    ).order_by("-updated_at")


class AgentQuerySet(models.QuerySet):
    def with_effective_state(self, now: datetime | None = None) -> "AgentQuerySet":
        """Annotate ``effective_state`` (what the agent counts as right now) and
        ``running_mission_id`` (its current mission, derived from the missions)."""
        return (
            self.alias(last_sign_of_life=last_sign_of_life_expression())
            .annotate(effective_state=effective_state_expression(now or timezone.now()))
            .annotate(
                running_mission_id=models.Subquery(
                    running_missions(models.OuterRef("pk")).values("pk")[:1]
                )
            )
        )

    def stale(self, now: datetime) -> "AgentQuerySet":
        """Agents whose last sign of life is older than the heartbeat window."""
        return self.alias(last_sign_of_life=last_sign_of_life_expression()).filter(
            last_sign_of_life__lt=now - heartbeat_window()
        )


class Agent(models.Model):
    agent_id = models.CharField(
        primary_key=True,
        max_length=IDENTIFIER_MAX_LENGTH,
        validators=[identifier_validator],
    )
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=100, blank=True, default="")
    capabilities = models.JSONField(
        default=list, blank=True, validators=[validate_capabilities]
    )
    # The recorded state. What the agent counts as is ``effective_state``: offline
    # once the heartbeat window has passed, even before the check records it.
    state = models.CharField(
        max_length=16,
        choices=[(value, value) for value in RECORDED_STATES],
        default=AgentState.UNKNOWN,
        db_index=True,
    )
    hold = models.CharField(
        max_length=16,
        choices=AgentHold.choices,
        default=AgentHold.NONE,
        blank=True,
        help_text="An operator's pause or kill; only an operator lifts it.",
    )
    last_heartbeat = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the agent was registered or last restarted; the heartbeat "
        "window is counted from the later of this and the last heartbeat.",
    )
    meta = models.JSONField(default=dict, blank=True, validators=[validate_meta])
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AgentQuerySet.as_manager()

    class Meta:
        ordering = ["agent_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=RECORDED_STATES),
                name="agent_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(hold__in=AgentHold.values),
                name="agent_hold_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} ({self.name})"

    @property
    def last_sign_of_life(self) -> datetime:
        if self.last_heartbeat is None:
            return self.started_at
        return max(self.last_heartbeat, self.started_at)

    @property
    def current_mission_id(self):
        """The RUNNING mission the agent holds (the latest, if several), or None."""
        if "running_mission_id" in self.__dict__:
            return self.running_mission_id
        return running_missions(self.agent_id).values_list("pk", flat=True).first()

    def is_stale(self, now: datetime) -> bool:
        return self.last_sign_of_life < now - heartbeat_window()

    def effective_state_at(self, now: datetime) -> str:
        """What the agent counts as at ``now``; mirrors the SQL expression."""
        if self.hold == AgentHold.KILLED:
            return AgentState.OFFLINE
        if self.state == AgentState.OFFLINE or self.is_stale(now):
            return AgentState.OFFLINE
        if self.hold == AgentHold.PAUSED:
            return AgentState.PAUSED
        return self.state

    @property
    def killed(self) -> bool:
        return self.hold == AgentHold.KILLED


class AgentControl(models.Model):
    """One control action an operator took on an agent: the agent's page shows the
    last one and who took it; kept here, not read from the pruned event log."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="controls")
    action = models.CharField(max_length=16)
    reason = models.CharField(max_length=1000, blank=True, default="")
    actor = models.CharField(max_length=150, blank=True, default="")
    old_state = models.CharField(max_length=16)
    new_state = models.CharField(max_length=16)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["agent", "-at"], name="agent_controls")]

    def __str__(self) -> str:
        return f"{self.action} {self.agent_id} by {self.actor or 'unknown'}"
