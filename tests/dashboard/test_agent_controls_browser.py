"""In Chromium: a paused agent has its own colour, the agent's detail lists the
missions it holds and the last control action with who took it, and Kill, Fail,
Cancel and Stop ask before they act."""

import pytest
from playwright.sync_api import expect

from hardware import services as hardware
from hardware.models import RobotCommand
from missions.models import Mission
from supervisor import services as supervisor
from supervisor.models import Agent
from tests.missions.factories import make_mission
from tests.supervisor.factories import make_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def answer_dialogs(page, accept: bool, asked: list[str]) -> None:
    def handle(dialog):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", handle)


def test_the_agent_detail_and_a_kill_that_asks_first(dash_server, pages, make_user):
    make_agent("scout-1", name="Scout")
    make_agent("inspector-3", name="Inspector")
    supervisor.agent_heartbeat(agent_id="inspector-3", state="degraded")
    make_agent("idle-4", name="Idle")
    supervisor.agent_control(agent_id="idle-4", action="pause", reason="lunch")
    held = make_mission(name="Survey sector 7")
    supervisor.agent_claim_mission(agent_id="scout-1")
    page = pages.open(
        dash_server, make_user("operator", "ada"), "/agents/?agent=scout-1"
    )

    paused = page.locator('#agent-rows tr[data-agent-id="idle-4"] .state')
    degraded = page.locator('#agent-rows tr[data-agent-id="inspector-3"] .state')
    expect(paused).to_have_text("paused")
    colour = "el => getComputedStyle(el).backgroundColor"
    assert paused.evaluate(colour) != degraded.evaluate(colour)

    detail = page.locator("#agent-detail")
    expect(detail.locator("#agent-missions li")).to_have_count(1)
    expect(detail.locator("#agent-missions")).to_contain_text("Survey sector 7")
    expect(detail.locator("#agent-last-control")).to_contain_text("No control action")

    kill = page.locator('#agent-rows tr[data-agent-id="scout-1"]').get_by_role(
        "button", name="Kill"
    )
    asked: list[str] = []
    answer_dialogs(page, False, asked)
    kill.click()
    assert asked and "Kill agent scout-1?" in asked[0]
    page.wait_for_timeout(300)
    assert Agent.objects.get(pk="scout-1").hold == ""
    assert Mission.objects.get(pk=held.pk).status == "RUNNING"

    answer_dialogs(page, True, asked)
    kill.click()
    expect(detail.locator("#agent-last-control")).to_contain_text("kill by ada")
    expect(detail.locator("#agent-missions li")).to_have_count(0)
    assert Agent.objects.get(pk="scout-1").hold == "killed"
    assert Mission.objects.get(pk=held.pk).status == "FAILED"

    page.locator('#agent-rows tr[data-agent-id="idle-4"] td').first.click()
    expect(detail.locator("#agent-last-control")).to_contain_text("pause by")
    expect(detail.locator("#agent-last-control")).to_contain_text("lunch")
    assert "agent=idle-4" in page.url


def test_cancel_and_stop_ask_before_they_act(dash_server, pages, make_user):
    mission = make_mission(name="Inspect the fence")
    hardware.robot_register(robot_id="go2-alpha", name="Alpha", model="unitree_go2")
    operator = make_user("operator")
    page = pages.open(dash_server, operator, f"/missions/{mission.id}/")
    cancel = page.locator("button[data-to=CANCELLED]")
    asked: list[str] = []
    answer_dialogs(page, False, asked)
    cancel.click()
    page.wait_for_timeout(300)
    assert Mission.objects.get(pk=mission.pk).status == "PENDING"
    answer_dialogs(page, True, asked)
    cancel.click()
    expect(page.locator("button[data-to]")).to_have_count(0)
    assert Mission.objects.get(pk=mission.pk).status == "CANCELLED"
    assert all("CANCELLED?" in question for question in asked), asked

    robots = pages.open(dash_server, operator, "/robots/")
    stop = robots.locator('#robot-rows tr[data-robot-id="go2-alpha"]').get_by_role(
        "button", name="Stop"
    )
    answer_dialogs(robots, False, asked)
    stop.click()
    robots.wait_for_timeout(300)
    assert not RobotCommand.objects.exists()
    answer_dialogs(robots, True, asked)
    stop.click()
    expect(robots.locator("#flash, .flash").first).to_contain_text("Stop sent")
    assert RobotCommand.objects.count() == 1
    assert "Stop robot go2-alpha?" in asked[-1]
