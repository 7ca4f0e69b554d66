"""``manage.py simulate`` at a person's pace: progress that only grows, bounded
data, a rate option for load (issue 17)."""

import io

import pytest
from django.core.management import call_command

from missions.models import Mission, MissionLog

pytestmark = pytest.mark.django_db


def simulate(*args) -> str:
    out = io.StringIO()
    call_command("simulate", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_missions_progress_only_grows_and_ends_at_100():
    simulate("--seconds=3", "--seed=5", "--interval=0.1", "--agents=3", "--robots=0")
    worked = 0
    for mission in Mission.objects.filter(data__simulated=True):
        progress = [
            entry.data["progress"]
            for entry in MissionLog.objects.filter(mission=mission).order_by("id")
            if "progress" in entry.data
        ]
        if not progress:
            continue
        worked += 1
        assert progress == sorted(progress), f"{mission.name}: {progress}"
        assert 0 < progress[0] and progress[-1] <= 100
        if mission.status in ("COMPLETED", "FAILED"):
            assert progress[-1] == 100, f"{mission.name} ended at {progress[-1]}"
    assert worked >= 2


def test_the_demo_stops_at_its_mission_budget_and_says_so():
    printed = simulate(
        "--seconds=5", "--interval=0.05", "--agents=3", "--robots=1", "--max-missions=4"
    )
    assert Mission.objects.filter(data__simulated=True).count() == 4
    assert "4 demo missions exist (--max-missions)" in printed
    # A second run counts what the first left: the budget holds across runs.
    printed = simulate("--seconds=2", "--interval=0.05", "--max-missions=4")
    assert Mission.objects.filter(data__simulated=True).count() == 4
    assert "stopped after 0 ticks" in printed


def test_the_default_pace_is_a_turn_every_15_seconds_and_rate_multiplies_it():
    assert "a turn each every 15 s" in simulate("--seconds=0.01", "--agents=0")
    assert "a turn each every 1.5 s" in simulate(
        "--seconds=0.01", "--agents=0", "--robots=0", "--rate=10"
    )
