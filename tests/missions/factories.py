from missions import services
from missions.models import Mission, MissionLog, MissionStatus

# The path from PENDING to each status, along allowed transitions.
PATH_TO = {
    MissionStatus.PENDING: (),
    MissionStatus.RUNNING: (MissionStatus.RUNNING,),
    MissionStatus.COMPLETED: (MissionStatus.RUNNING, MissionStatus.COMPLETED),
    MissionStatus.FAILED: (MissionStatus.RUNNING, MissionStatus.FAILED),
    MissionStatus.CANCELLED: (MissionStatus.CANCELLED,),
}


def make_mission(**overrides) -> Mission:
    params = {"name": "Deploy v2.0", "description": "Deploy new version"}
    params.update(overrides)
    return services.mission_create(**params)


def mission_in(status: str, **overrides) -> Mission:
    """A mission brought to ``status`` through the services, as a client would."""
    mission = make_mission(**overrides)
    for step in PATH_TO[status]:
        mission = services.mission_set_status(mission_id=mission.pk, status=step)
    return Mission.objects.get(pk=mission.pk)


def stored() -> dict[str, int]:
    """What is stored: missions, log entries, events."""
    from brain.events.models import EventLog

    return {
        "missions": Mission.objects.count(),
        "log": MissionLog.objects.count(),
        "events": EventLog.objects.count(),
    }
