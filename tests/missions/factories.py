from missions import services
from missions.models import Mission


def make_mission(**overrides) -> Mission:
    params = {"name": "Deploy v2.0", "description": "Deploy new version"}
    params.update(overrides)
    return services.mission_create(**params)
