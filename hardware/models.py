"""Robots, the state reports they send, and the movement commands sent to them."""

import math
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from brain.errors import Conflict

ROBOT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"

# Inclusive bounds of a movement command, per velocity field.
VELOCITY_BOUNDS: dict[str, tuple[float, float]] = {
    "linear_x": (-1.0, 1.0),
    "linear_y": (-1.0, 1.0),
    "angular_z": (-2.0, 2.0),
}
MOTOR_FIELDS = ("motor_id", "angle", "velocity", "torque", "temperature")


class RobotModel(models.TextChoices):
    UNITREE_GO1 = "unitree_go1", "Unitree Go1"
    UNITREE_GO2 = "unitree_go2", "Unitree Go2"
    UNITREE_B2 = "unitree_b2", "Unitree B2"


class CommandType(models.TextChoices):
    MOVEMENT = "movement"


class CommandStatus(models.TextChoices):
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    EXECUTED = "executed"
    FAILED = "failed"


# What a robot may report next; a robot may skip the ack and report the outcome.
COMMAND_TRANSITIONS: dict[str, tuple[str, ...]] = {
    CommandStatus.SENT: (
        CommandStatus.ACKNOWLEDGED,
        CommandStatus.EXECUTED,
        CommandStatus.FAILED,
    ),
    CommandStatus.ACKNOWLEDGED: (CommandStatus.EXECUTED, CommandStatus.FAILED),
    CommandStatus.EXECUTED: (),
    CommandStatus.FAILED: (),
}
# What a robot may report about a command (``sent`` is set by the server).
REPORTABLE_STATUSES = (
    CommandStatus.ACKNOWLEDGED,
    CommandStatus.EXECUTED,
    CommandStatus.FAILED,
)


class CommandTransitionRefused(Conflict):
    def __init__(self, *, command_id: uuid.UUID, current: str, requested: str) -> None:
        allowed = list(COMMAND_TRANSITIONS[current])
        super().__init__(
            f"command {command_id} is {current}; cannot report {requested}; allowed: "
            + (", ".join(allowed) if allowed else f"none, {current} is final"),
            command_id=str(command_id),
            current_status=current,
            requested_status=requested,
            allowed_transitions=allowed,
        )


def offline_cutoff(now: datetime | None = None) -> datetime:
    """A robot last seen at or before this moment is offline."""
    window = timedelta(seconds=settings.HARDWARE_OFFLINE_AFTER_SECONDS)
    return (now or timezone.now()) - window


def seen_recently(last_seen: datetime | None, now: datetime | None = None) -> bool:
    return last_seen is not None and last_seen > offline_cutoff(now)


def number_error(
    value: object, *, low: float | None = None, high: float | None = None
) -> str | None:
    """Why ``value`` is not a finite JSON number within the inclusive bounds, or None.

    Strings, booleans and null are refused, unlike DRF's ``FloatField``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "A JSON number is required."
    try:
        number = float(value)
    except OverflowError:
        return "Must be a finite number."
    if not math.isfinite(number):
        return "Must be a finite number."
    if low is not None and high is not None and not low <= number <= high:
        return f"Must be between {low:g} and {high:g} inclusive."
    if low is not None and number < low:
        return f"Must be at least {low:g}."
    if high is not None and number > high:
        return f"Must be at most {high:g}."
    return None


def velocity_error(field: str, value: object) -> str | None:
    low, high = VELOCITY_BOUNDS[field]
    return number_error(value, low=low, high=high)


class RobotQuerySet(models.QuerySet):
    def with_online(self, now: datetime | None = None) -> "RobotQuerySet":
        """Annotate ``is_online``, computed now, so a list stays one query."""
        return self.annotate(
            is_online=models.Case(
                models.When(last_seen__gt=offline_cutoff(now), then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )


class Robot(models.Model):
    robot_id = models.CharField(
        primary_key=True,
        max_length=64,
        validators=[
            RegexValidator(
                ROBOT_ID_PATTERN,
                "Lower-case letters, digits, '-' and '_', starting with a letter "
                "or digit, at most 64 characters.",
            )
        ],
    )
    name = models.CharField(max_length=200)
    model = models.CharField(max_length=32, choices=RobotModel.choices)
    # When the last state report arrived (server time); ``online`` derives from it.
    last_seen = models.DateTimeField(null=True, blank=True, db_index=True)
    # The report with the newest ``timestamp`` and the newest command, kept by the
    # services so that a list of robots reads them with one join.
    latest_state = models.ForeignKey(
        "RobotState",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    last_command = models.ForeignKey(
        "RobotCommand",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RobotQuerySet.as_manager()

    class Meta:
        ordering = ["robot_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(model__in=RobotModel.values),
                name="robot_model_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.robot_id})"

    @property
    def online(self) -> bool:
        if "is_online" in self.__dict__:
            return self.is_online
        return seen_recently(self.last_seen)


class RobotState(models.Model):
    """One state report; the history is kept, the robot points at the newest."""

    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, related_name="states")
    battery_voltage = models.FloatField()
    battery_percentage = models.FloatField()
    motor_states = models.JSONField(default=list, blank=True)
    imu_data = models.JSONField(default=dict, blank=True)
    # When the robot measured the state (its clock), or arrival time if it sent none.
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(
                fields=["robot", "-timestamp", "-id"], name="robot_state_history"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(battery_percentage__gte=0)
                & models.Q(battery_percentage__lte=100),
                name="robot_state_battery_percentage_range",
            ),
            models.CheckConstraint(
                condition=models.Q(battery_voltage__gte=0),
                name="robot_state_battery_voltage_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.robot_id} at {self.timestamp:%Y-%m-%d %H:%M:%S}"


class RobotCommand(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, related_name="commands")
    command_type = models.CharField(
        max_length=16, choices=CommandType.choices, default=CommandType.MOVEMENT
    )
    linear_x = models.FloatField()
    linear_y = models.FloatField()
    angular_z = models.FloatField()
    status = models.CharField(
        max_length=16,
        choices=CommandStatus.choices,
        default=CommandStatus.SENT,
        db_index=True,
    )
    detail = models.TextField(blank=True, default="")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["robot", "-created_at", "-id"], name="robot_command_history"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=CommandStatus.values),
                name="robot_command_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(command_type__in=CommandType.values),
                name="robot_command_type_valid",
            ),
            *(
                models.CheckConstraint(
                    condition=models.Q(**{f"{field}__gte": low, f"{field}__lte": high}),
                    name=f"robot_command_{field}_range",
                )
                for field, (low, high) in VELOCITY_BOUNDS.items()
            ),
        ]

    def __str__(self) -> str:
        return f"{self.command_type} → {self.robot_id} ({self.status})"

    @property
    def velocity(self) -> dict[str, float]:
        return {field: getattr(self, field) for field in VELOCITY_BOUNDS}
