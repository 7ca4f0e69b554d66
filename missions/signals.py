"""Mission signals, sent by the services, and the receivers that emit Charter events.

Services send these after each change; the receivers below are the only producers of
the mission events, so every path that goes through the services (REST, admin,
management commands, the shell) emits the same events. Each receiver does that and
nothing else; no other app's receiver writes rows inside a mission transaction.
"""

from django.dispatch import Signal, receiver

from brain.events import emit, emit_many
from missions.events import (
    MISSION_CREATED,
    MISSION_LOG_APPENDED,
    MISSION_STATUS_CHANGED,
)

# mission: Mission
mission_created = Signal()
# mission: Mission, old_status: str, new_status: str
mission_status_changed = Signal()
# mission_id: UUID, entries: list[MissionLog]
mission_log_appended = Signal()


@receiver(mission_created, dispatch_uid="missions.emit_created")
def emit_mission_created(sender, mission, **kwargs) -> None:
    emit(
        MISSION_CREATED.name,
        {
            "mission_id": str(mission.id),
            "name": mission.name,
            "description": mission.description or "",
            "status": mission.status,
            "created_at": mission.created_at.timestamp(),
        },
    )


@receiver(mission_status_changed, dispatch_uid="missions.emit_status_changed")
def emit_mission_status_changed(
    sender, mission, old_status, new_status, **kwargs
) -> None:
    emit(
        MISSION_STATUS_CHANGED.name,
        {
            "mission_id": str(mission.id),
            "old_status": old_status,
            "new_status": new_status,
            "changed_at": mission.updated_at.timestamp(),
        },
    )


@receiver(mission_log_appended, dispatch_uid="missions.emit_log_appended")
def emit_mission_log_appended(sender, mission_id, entries, **kwargs) -> None:
    emit_many(
        (
            MISSION_LOG_APPENDED.name,
            {
                "mission_id": str(mission_id),
                "log_level": entry.level,
                "message": entry.message,
                "appended_at": entry.timestamp.timestamp(),
            },
        )
        for entry in entries
    )
