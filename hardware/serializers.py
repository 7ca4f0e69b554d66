import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from brain.api.fields import BoundedJSONField, json_size
from hardware.models import (
    MOTOR_FIELDS,
    REPORTABLE_STATUSES,
    ROBOT_ID_PATTERN,
    VELOCITY_BOUNDS,
    CommandStatus,
    CommandType,
    Robot,
    RobotCommand,
    RobotModel,
    RobotState,
    number_error,
)
from hardware.services import StateReport

MAX_MOTORS = 64
# A robot's clock may run ahead of the server's by this much; further is refused,
# since the newest timestamp decides which report is the robot's state.
MAX_CLOCK_AHEAD = timedelta(minutes=5)


@extend_schema_field(OpenApiTypes.NUMBER)
class StrictNumberField(serializers.Field):
    """A finite JSON number (int or float); no strings, booleans or null."""

    def __init__(
        self, *, min_value: float | None = None, max_value: float | None = None, **kw
    ):
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kw)

    def to_internal_value(self, data):
        error = number_error(data, low=self.min_value, high=self.max_value)
        if error:
            raise serializers.ValidationError(error)
        return float(data)

    def to_representation(self, value):
        return value


@extend_schema_field(OpenApiTypes.INT)
class StrictIntegerField(serializers.Field):
    """A JSON integer; no strings, booleans, null or fractions."""

    def __init__(self, *, min_value: int | None = None, **kwargs):
        self.min_value = min_value
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            raise serializers.ValidationError("A JSON integer is required.")
        if self.min_value is not None and data < self.min_value:
            raise serializers.ValidationError(f"Must be at least {self.min_value}.")
        return data

    def to_representation(self, value):
        return value


class TimestampField(serializers.DateTimeField):
    """Unix seconds (a JSON number) or an ISO 8601 string; naive means UTC."""

    default_error_messages = {
        "invalid": "Expected Unix seconds (a number) or an ISO 8601 date-time.",
    }

    def to_internal_value(self, value):
        if isinstance(value, bool) or value is None:
            self.fail("invalid")
        if isinstance(value, int | float):
            try:
                if not math.isfinite(value) or value < 0:
                    raise ValueError
                return datetime.fromtimestamp(value, tz=UTC)
            except (ValueError, OverflowError, OSError):
                self.fail("invalid")
        if not isinstance(value, str):
            self.fail("invalid")
        return super().to_internal_value(value)


class ExactFieldsMixin:
    """Refuse keys the serializer does not know, naming each one."""

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            unknown = {
                key: ["Unknown field."] for key in data if key not in self.fields
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**unknown, **exc.detail}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class UrlRobotIdMixin:
    """An optional ``robot_id`` in the body must name the robot in the URL."""

    def validate_robot_id(self, value):
        expected = self.context.get("robot_id")
        if expected is not None and value != expected:
            raise serializers.ValidationError(
                f"Does not match the robot in the URL ({expected!r})."
            )
        return value


# Input ------------------------------------------------------------------------------


class RobotRegisterSerializer(ExactFieldsMixin, serializers.Serializer):
    robot_id = serializers.RegexField(
        ROBOT_ID_PATTERN,
        max_length=64,
        error_messages={
            "invalid": "Lower-case letters, digits, '-' and '_', starting with a "
            "letter or digit, at most 64 characters."
        },
    )
    name = serializers.CharField(max_length=200)
    model = serializers.ChoiceField(RobotModel.choices)


class MotorStateSerializer(ExactFieldsMixin, serializers.Serializer):
    motor_id = StrictIntegerField(min_value=0)
    angle = StrictNumberField()
    velocity = StrictNumberField()
    torque = StrictNumberField()
    temperature = StrictNumberField()


class StateReportSerializer(UrlRobotIdMixin, ExactFieldsMixin, serializers.Serializer):
    robot_id = serializers.CharField(required=False)
    battery_voltage = StrictNumberField(min_value=0)
    battery_percentage = StrictNumberField(min_value=0, max_value=100)
    motor_states = MotorStateSerializer(many=True, max_length=MAX_MOTORS)
    imu_data = BoundedJSONField()
    timestamp = TimestampField(required=False)

    def validate_motor_states(self, value):
        seen = set()
        for motor in value:
            if motor["motor_id"] in seen:
                raise serializers.ValidationError(
                    f"motor_id {motor['motor_id']} appears more than once."
                )
            seen.add(motor["motor_id"])
        return [{field: motor[field] for field in MOTOR_FIELDS} for motor in value]

    def validate_imu_data(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value

    def validate_timestamp(self, value):
        if value > timezone.now() + MAX_CLOCK_AHEAD:
            raise serializers.ValidationError(
                "Is more than "
                f"{int(MAX_CLOCK_AHEAD.total_seconds())} s ahead of the server clock."
            )
        return value


class MovementCommandSerializer(
    UrlRobotIdMixin, ExactFieldsMixin, serializers.Serializer
):
    robot_id = serializers.CharField(required=False)
    command_type = serializers.ChoiceField(CommandType.choices, required=False)
    linear_x = StrictNumberField(
        min_value=VELOCITY_BOUNDS["linear_x"][0],
        max_value=VELOCITY_BOUNDS["linear_x"][1],
    )
    linear_y = StrictNumberField(
        min_value=VELOCITY_BOUNDS["linear_y"][0],
        max_value=VELOCITY_BOUNDS["linear_y"][1],
    )
    angular_z = StrictNumberField(
        min_value=VELOCITY_BOUNDS["angular_z"][0],
        max_value=VELOCITY_BOUNDS["angular_z"][1],
    )


class CommandAckSerializer(ExactFieldsMixin, serializers.Serializer):
    status = serializers.ChoiceField(
        [(status, CommandStatus(status).label) for status in REPORTABLE_STATUSES]
    )
    detail = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000
    )


# Output -----------------------------------------------------------------------------


class RobotStateSerializer(serializers.ModelSerializer):
    robot_id = serializers.CharField(read_only=True)

    class Meta:
        model = RobotState
        fields = [
            "id",
            "robot_id",
            "battery_voltage",
            "battery_percentage",
            "motor_states",
            "imu_data",
            "timestamp",
            "received_at",
        ]
        read_only_fields = fields


class CommandSerializer(serializers.ModelSerializer):
    command_id = serializers.UUIDField(source="id", read_only=True)
    robot_id = serializers.CharField(read_only=True)
    sent_by = serializers.SerializerMethodField()

    class Meta:
        model = RobotCommand
        fields = [
            "command_id",
            "robot_id",
            "command_type",
            "linear_x",
            "linear_y",
            "angular_z",
            "status",
            "detail",
            "sent_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_sent_by(self, command: RobotCommand) -> str | None:
        return command.sent_by.get_username() if command.sent_by else None


class CommandSummarySerializer(serializers.ModelSerializer):
    command_id = serializers.UUIDField(source="id", read_only=True)

    class Meta:
        model = RobotCommand
        fields = [
            "command_id",
            "command_type",
            "linear_x",
            "linear_y",
            "angular_z",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RobotSerializer(serializers.ModelSerializer):
    online = serializers.BooleanField(read_only=True)
    state = RobotStateSerializer(source="latest_state", read_only=True, allow_null=True)
    last_command = CommandSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Robot
        fields = [
            "robot_id",
            "name",
            "model",
            "online",
            "last_seen",
            "created_at",
            "state",
            "last_command",
        ]
        read_only_fields = fields


class RobotStateViewSerializer(serializers.Serializer):
    """``GET``/``POST .../state``: the robot's liveness and one state report."""

    robot_id = serializers.CharField()
    online = serializers.BooleanField()
    last_seen = serializers.DateTimeField(allow_null=True)
    state = RobotStateSerializer(allow_null=True)


class CommandSentSerializer(serializers.Serializer):
    robot_id = serializers.CharField()
    command_id = serializers.UUIDField()
    status = serializers.CharField()
    command = CommandSerializer()


class HardwareInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    supported_platforms = serializers.ListField(child=serializers.CharField())
    features = serializers.ListField(child=serializers.CharField())


class RobotTokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="send as Authorization: Token <token>; shown only now"
    )


class StateBatchStoredSerializer(serializers.Serializer):
    robot_id = serializers.CharField()
    stored = serializers.IntegerField(help_text="how many reports were stored")
    ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="the stored reports' ids, in order"
    )
    online = serializers.BooleanField()
    last_seen = serializers.DateTimeField()


_REPORT_KEYS = frozenset(
    ("robot_id", "battery_voltage", "battery_percentage", "motor_states", "imu_data")
)
_REPORT_REQUIRED = _REPORT_KEYS - {"robot_id"}
_MOTOR_KEYS = frozenset(MOTOR_FIELDS)


def _plain_number(value, low=None, high=None) -> bool:
    return (
        type(value) in (int, float)
        and math.isfinite(value)
        and (low is None or value >= low)
        and (high is None or value <= high)
    )


def state_report_fast(item, robot_id: str) -> dict | None:
    """``StateReportSerializer(data=item).validated_data`` for a plainly valid report,
    or ``None``: then the serializer decides and words the errors. Robots send
    thousands of reports a second; DRF's nested validation was most of a report's
    CPU (``tests/hardware/test_state_input.py`` holds the two to the same answers).
    """
    if type(item) is not dict:
        return None
    keys = item.keys()
    if not _REPORT_REQUIRED <= keys or not keys - {"timestamp"} <= _REPORT_KEYS:
        return None
    if "robot_id" in item and item["robot_id"] != robot_id:
        return None
    voltage, percentage = item["battery_voltage"], item["battery_percentage"]
    if not _plain_number(voltage, 0) or not _plain_number(percentage, 0, 100):
        return None
    motors = item["motor_states"]
    if type(motors) is not list or len(motors) > MAX_MOTORS:
        return None
    seen = set()
    validated_motors = []
    for motor in motors:
        if type(motor) is not dict or motor.keys() != _MOTOR_KEYS:
            return None
        motor_id = motor["motor_id"]
        if type(motor_id) is not int or motor_id < 0 or motor_id in seen:
            return None
        seen.add(motor_id)
        out = {"motor_id": motor_id}
        for field in MOTOR_FIELDS[1:]:
            value = motor[field]
            if not _plain_number(value):
                return None
            out[field] = float(value)
        validated_motors.append(out)
    imu = item["imu_data"]
    if type(imu) is not dict or json_size(imu) > settings.API_JSON_FIELD_MAX_BYTES:
        return None
    validated = {
        "battery_voltage": float(voltage),
        "battery_percentage": float(percentage),
        "motor_states": validated_motors,
        "imu_data": imu,
    }
    if "robot_id" in item:
        validated["robot_id"] = robot_id
    if "timestamp" in item:
        stamp = item["timestamp"]
        if not _plain_number(stamp, 0):
            return None
        try:
            when = datetime.fromtimestamp(stamp, tz=UTC)
        except (ValueError, OverflowError, OSError):
            return None
        if when > timezone.now() + MAX_CLOCK_AHEAD:
            return None
        validated["timestamp"] = when
    return validated


def state_report_validated(item, robot_id: str) -> dict:
    """A report's validated data (fast when plainly valid); raises the serializer's
    ``ValidationError`` otherwise."""
    validated = state_report_fast(item, robot_id)
    if validated is None:
        serializer = StateReportSerializer(data=item, context={"robot_id": robot_id})
        serializer.is_valid(raise_exception=True)
        validated = dict(serializer.validated_data)
    return validated


def state_reports_input(batch: list, robot_id: str) -> list:
    """A REST batch of state reports, validated as single reports are; the errors
    of the bad ones by index (400), nothing stored."""
    limit = settings.HARDWARE_STATE_BATCH_MAX
    if not batch:
        raise serializers.ValidationError({"non_field_errors": ["no reports given"]})
    if len(batch) > limit:
        raise serializers.ValidationError(
            {"non_field_errors": [f"at most {limit} reports per request"]}
        )
    reports, errors = [], {}
    for number, item in enumerate(batch):
        try:
            params = state_report_validated(item, robot_id)
        except serializers.ValidationError as exc:
            errors[str(number)] = exc.detail
            continue
        params.pop("robot_id", None)
        reports.append(StateReport(robot_id=robot_id, **params))
    if errors:
        raise serializers.ValidationError({"reports": errors})
    return reports
