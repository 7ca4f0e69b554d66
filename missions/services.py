"""Every write to missions and their logs. Views, admin and commands call these."""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from brain.db import bound_cursor, copy_with_ids, mark_saved
from brain.errors import Conflict, Forbidden, Invalid, NotFound
from brain.events.context import current_actor
from missions.models import (
    NAME_MAX_LENGTH,
    LogLevel,
    Mission,
    MissionLog,
    MissionPriority,
    MissionStatus,
    MissionStatusChange,
    TransitionRefused,
)
from missions.selectors import parse_mission_id
from missions.signals import (
    mission_created,
    mission_log_appended,
    mission_status_changed,
)

# From this many lines in one append, PostgreSQL gets them by COPY, not an INSERT.
COPY_MIN_LINES = 64


@dataclass(frozen=True)
class LogLine:
    message: str
    level: str = LogLevel.INFO
    data: dict[str, Any] = field(default_factory=dict)


LEVELS = frozenset(LogLevel.values)
PRIORITIES = frozenset(MissionPriority.values)


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", **{field: [message]})


def _check_mission_input(name: Any, description: Any, data: Any, priority: Any) -> None:
    """The API's rules on every path (shell, scripts, admin): the serializers word
    the same rules for REST; here they hold for every caller."""
    if not isinstance(name, str) or not name.strip():
        raise _invalid("name", "required, and not blank")
    if len(name) > NAME_MAX_LENGTH:
        raise _invalid("name", f"at most {NAME_MAX_LENGTH} characters")
    if not isinstance(description, str):
        raise _invalid("description", "must be text")
    if not isinstance(data, dict):
        raise _invalid("data", "must be a JSON object")
    if isinstance(priority, bool) or priority not in PRIORITIES:
        raise _invalid("priority", f"one of {sorted(PRIORITIES)}")


def _check_lines(lines: Sequence[Any]) -> None:
    for number, line in enumerate(lines):
        where = f"lines[{number}]"
        if not isinstance(line, LogLine):
            raise _invalid(where, "must be a LogLine")
        if not isinstance(line.message, str) or not line.message:
            raise _invalid(f"{where}.message", "required, and not empty")
        if line.level not in LEVELS:
            raise _invalid(f"{where}.level", f"one of {sorted(LEVELS)}")
        if not isinstance(line.data, dict):
            raise _invalid(f"{where}.data", "must be a JSON object")


def _locked_mission(mission_id: uuid.UUID | str) -> Mission:
    pk = parse_mission_id(mission_id)
    mission = Mission.objects.select_for_update().filter(pk=pk).first()
    if mission is None:
        raise NotFound(f"mission {mission_id} not found")
    return mission


@transaction.atomic
def mission_create(
    *,
    name: str,
    description: str = "",
    data: dict[str, Any] | None = None,
    priority: int = MissionPriority.NORMAL,
    mission_id: uuid.UUID | None = None,
) -> Mission:
    """Create a PENDING mission; a client-chosen id that exists is refused (409)."""
    description = description or ""
    data = data if data is not None else {}
    _check_mission_input(name, description, data, priority)
    mission = Mission(
        id=mission_id or uuid.uuid4(),
        name=name,
        description=description,
        data=data,
        priority=priority,
    )
    try:
        with transaction.atomic():
            mission.save(force_insert=True)
    except IntegrityError:
        # Only a taken id is a conflict; a failed check constraint stays an error.
        if not Mission.objects.filter(pk=mission.id).exists():
            raise
        raise Conflict(
            f"mission {mission.id} already exists", mission_id=str(mission.id)
        ) from None
    _record_status(mission, old_status="", reason="created")
    mission_created.send(sender=Mission, mission=mission)
    _append(
        mission.id,
        [
            LogLine(
                "Mission created",
                data={"name": mission.name, "description": mission.description},
            )
        ],
    )
    return mission


def _check_holder(mission: Mission, holder: str | None) -> None:
    """An agent acting with its own token writes only to the missions it holds."""
    if holder is None or mission.assigned_agent_id == holder:
        return
    owner = mission.assigned_agent_id
    raise Forbidden(
        f"mission {mission.pk} is "
        + (f"held by agent {owner}" if owner else "held by no agent")
        + f"; agent {holder} may only change the missions it holds",
        mission_id=str(mission.pk),
        assigned_agent=owner,
    )


@transaction.atomic
def mission_set_status(
    *,
    mission_id: uuid.UUID | str,
    status: str,
    reason: str | None = None,
    holder: str | None = None,
) -> Mission:
    """Move a mission along an allowed transition, under a row lock (409 otherwise).

    ``holder``: the agent acting with its own token, which may only change the
    missions it holds (403 otherwise); None for an operator.
    """
    mission = _locked_mission(mission_id)
    _check_holder(mission, holder)
    return _transition(mission, status, reason=reason)


def _transition(
    mission: Mission,
    status: str,
    *,
    assigned_agent: str | None = None,
    reason: str | None = None,
) -> Mission:
    old_status = mission.status
    if status not in mission.allowed_transitions:
        raise TransitionRefused(current=old_status, requested=status)
    mission.status = status
    update_fields = ["status", "updated_at"]
    if assigned_agent is not None:
        mission.assigned_agent_id = assigned_agent
        update_fields.append("assigned_agent")
    mission.save(update_fields=update_fields)
    _record_status(mission, old_status=old_status, reason=reason or "")
    mission_status_changed.send(
        sender=Mission, mission=mission, old_status=old_status, new_status=status
    )
    data = {"from": old_status, "to": status}
    if reason:
        data["reason"] = reason
    _append(mission.id, [LogLine("Mission status changed", data=data)])
    return mission


def _record_status(mission: Mission, *, old_status: str, reason: str) -> None:
    MissionStatusChange.objects.create(
        mission=mission,
        old_status=old_status,
        new_status=mission.status,
        changed_at=mission.updated_at,
        actor=current_actor(),
        agent_id=mission.assigned_agent_id,
        reason=reason[:500],
    )


@transaction.atomic
def mission_assign_next(*, agent_id: str) -> Mission | None:
    """Give the agent the highest-priority, oldest PENDING mission, now RUNNING.

    Whether the agent may take work is the supervisor's rule: claims go through
    ``supervisor.services.agent_claim_mission``, which locks and checks the agent
    and then calls this. ``skip_locked`` lets concurrent claims pass each other on
    PostgreSQL, so two agents never get the same mission and neither waits. SQLite
    ignores it, but its writers run one at a time.
    """
    mission = (
        Mission.objects.select_for_update(skip_locked=True)
        .filter(status=MissionStatus.PENDING)
        .order_by("-priority", "created_at")
        .first()
    )
    if mission is None:
        return None
    return _transition(
        mission,
        MissionStatus.RUNNING,
        assigned_agent=agent_id,
        reason=f"claimed by {agent_id}",
    )


@transaction.atomic
def mission_log_append(
    *,
    mission_id: uuid.UUID | str,
    lines: Sequence[LogLine],
    holder: str | None = None,
) -> list[MissionLog]:
    """Append lines to a mission's log, all or none, one event per line in order.

    ``holder``: the agent acting with its own token, which may only write to the
    logs of the missions it holds (403 otherwise); None for an operator.
    """
    pk = parse_mission_id(mission_id)
    _check_lines(lines)
    if holder is None:
        if len(lines) == 1 and connection.vendor == "postgresql":
            # The INSERT itself checks that the mission exists: one statement.
            return _append_one(pk, lines[0], mission_id)
        if not Mission.objects.filter(pk=pk).exists():
            raise NotFound(f"mission {mission_id} not found")
    else:
        mission = Mission.objects.filter(pk=pk).only("pk", "assigned_agent").first()
        if mission is None:
            raise NotFound(f"mission {mission_id} not found")
        _check_holder(mission, holder)
    return _append(pk, lines)


def _append(mission_id: uuid.UUID, lines: Sequence[LogLine]) -> list[MissionLog]:
    now = timezone.now()
    entries = [
        MissionLog(
            mission_id=mission_id,
            timestamp=now,
            level=line.level,
            message=line.message,
            data=line.data,
        )
        for line in lines
    ]
    if len(entries) >= COPY_MIN_LINES and connection.vendor == "postgresql":
        _copy_entries(entries)
    elif len(entries) == 1:
        entries[0].save(force_insert=True)
    else:
        MissionLog.objects.bulk_create(entries, batch_size=2000)
    mission_log_appended.send(sender=MissionLog, mission_id=mission_id, entries=entries)
    return entries


_LOG_TABLE = MissionLog._meta.db_table
_MISSION_TABLE = Mission._meta.db_table
# Table names from the models' metadata; every value is a parameter.
_APPEND_IF_MISSION = (
    f'INSERT INTO "{_LOG_TABLE}" (mission_id, timestamp, level, message, data) '  # noqa: S608  # nosec B608
    "SELECT CAST(%s AS uuid), CAST(%s AS timestamptz), CAST(%s AS varchar), "
    "CAST(%s AS text), CAST(%s AS jsonb) "
    f'WHERE EXISTS (SELECT 1 FROM "{_MISSION_TABLE}" WHERE id = CAST(%s AS uuid)) '
    "RETURNING id"
)


def _append_one(pk: uuid.UUID, line: LogLine, mission_id) -> list[MissionLog]:
    """One line, inserted only if its mission exists (PostgreSQL, prepared)."""
    entry = MissionLog(
        mission_id=pk,
        timestamp=timezone.now(),
        level=line.level,
        message=line.message,
        data=line.data,
    )
    with bound_cursor(connection) as cursor:
        cursor.execute(
            _APPEND_IF_MISSION,
            [
                pk,
                entry.timestamp,
                entry.level,
                entry.message,
                json.dumps(entry.data),
                pk,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound(f"mission {mission_id} not found")
    entry.id = row[0]
    entry._state.adding = False
    entry._state.db = connection.alias
    mission_log_appended.send(sender=MissionLog, mission_id=pk, entries=[entry])
    return [entry]


def _copy_entries(entries: list[MissionLog]) -> None:
    ids = copy_with_ids(
        connection,
        _LOG_TABLE,
        ("mission_id", "timestamp", "level", "message", "data"),
        (
            (e.mission_id, e.timestamp, e.level, e.message, json.dumps(e.data))
            for e in entries
        ),
    )
    mark_saved(entries, ids, connection.alias)
