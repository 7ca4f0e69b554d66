"""Agents, robots, credits and every page once: live values, controls, no JS errors."""

import pytest
from playwright.sync_api import expect

from credits import services as credits
from hardware import services as hardware
from hardware.models import RobotCommand
from missions import services as missions
from supervisor import services as supervisor
from supervisor.models import Agent
from tests.dashboard.browser import off_loop, screenshot, wait_live_state
from tests.missions.factories import make_mission

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def report(robot_id: str, battery: float) -> None:
    hardware.robot_report_state(
        robot_id=robot_id,
        battery_voltage=24.0 * battery / 100,
        battery_percentage=battery,
        motor_states=[],
        imu_data={},
    )


def seed() -> dict:
    """A small living system: agents with missions, robots, accounts."""
    for agent_id, name, role in (
        ("scout-1", "Scout", "surveyor"),
        ("hauler-2", "Hauler", "courier"),
        ("inspector-3", "Inspector", "inspector"),
    ):
        supervisor.agent_register(
            agent_id=agent_id, name=name, role=role, capabilities=["survey", "map"]
        )
        supervisor.agent_heartbeat(agent_id=agent_id)
        credits.account_create(agent_id=agent_id, initial_credits="100.00")
    supervisor.agent_control(agent_id="inspector-3", action="pause")
    for name, status in (
        ("Map the depot", "COMPLETED"),
        ("Sample soil at the old quarry", "FAILED"),
        ("Patrol pipeline 3", "CANCELLED"),
    ):
        mission = make_mission(name=name)
        if status != "CANCELLED":
            missions.mission_set_status(mission_id=mission.id, status="RUNNING")
        missions.mission_set_status(mission_id=mission.id, status=status)
    running = make_mission(name="Survey sector 7", priority=30)
    supervisor.agent_claim_mission(agent_id="scout-1")
    make_mission(name="Calibrate the lidar")
    supervisor.agent_claim_mission(agent_id="hauler-2")
    make_mission(name="Inspect the fence")
    make_mission(name="Deliver parts to dock B", priority=40)
    missions.mission_log_append(
        mission_id=running.id,
        lines=[
            missions.LogLine("Took off", data={"altitude_m": 0}),
            missions.LogLine("Reached waypoint 1", data={"altitude_m": 120}),
            missions.LogLine("Wind gusts above limit", level="warning"),
            missions.LogLine("Lidar dropout", level="error"),
            missions.LogLine("Lidar back", level="info"),
        ],
    )
    for amount in ("12.50", "8.25", "20.00"):
        credits.credits_consume(
            agent_id="scout-1", amount=amount, reason="compute", mission_id=running.id
        )
    credits.credits_consume(agent_id="hauler-2", amount="35.00", reason="compute")
    credits.credits_allocate(agent_id="scout-1", amount="50.00", reason="top-up")
    for robot_id, model, battery in (
        ("go2-alpha", "unitree_go2", 87.0),
        ("b2-beta", "unitree_b2", 15.0),
    ):
        hardware.robot_register(robot_id=robot_id, name=robot_id.title(), model=model)
        for level in (battery + 9, battery + 7, battery + 4, battery + 2, battery):
            report(robot_id, level)
    hardware.robot_command_send(
        robot_id="go2-alpha", linear_x=0.5, linear_y=0, angular_z=0.2
    )
    return {"running": running}


def test_every_page_renders_live_without_javascript_errors(
    dash_server, pages, make_user
):
    data = seed()
    operator = make_user("operator", name="ada")
    for name, path in (
        ("board", "/"),
        ("mission", f"/missions/{data['running'].id}/"),
        ("events", "/events/"),
        ("agents", "/agents/"),
        ("robots", "/robots/?robot=go2-alpha"),
        ("credits", "/credits/?agent=scout-1"),
    ):
        page = pages.open(dash_server, operator, path)
        page.wait_for_load_state("networkidle")
        screenshot(page, name, full_page=name != "events")
    viewer_page = pages.open(dash_server, make_user("viewer", name="grace"), "/")
    screenshot(viewer_page, "board-read-only")


def test_the_login_page_signs_in_and_out(dash_server, pages, make_user):
    user = make_user("viewer", name="lin")
    user.set_password("a-long-password-9")
    user.save()
    page = pages.open(dash_server, None, "/robots/", wait_live=False)
    page.wait_for_url("**/login/?next=/robots/")
    screenshot(page, "login")
    page.fill("#id_username", "lin")
    page.fill("#id_password", "a-long-password-9")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/robots/")
    wait_live_state(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")


def test_agents_change_state_live_and_operators_control_them(
    dash_server, pages, make_user
):
    supervisor.agent_register(agent_id="scout-1", name="Scout")
    supervisor.agent_heartbeat(agent_id="scout-1")
    operator = pages.open(dash_server, make_user("operator"), "/agents/")
    viewer = pages.open(dash_server, make_user("viewer"), "/agents/")
    row = '#agent-rows tr[data-agent-id="scout-1"]'
    expect(viewer.locator(row)).to_have_attribute("data-state", "healthy")
    assert viewer.locator(f"{row} button").count() == 0

    operator.locator(row).get_by_role("button", name="Pause").click()
    expect(viewer.locator(row)).to_have_attribute("data-state", "paused")
    # Paused is the operator's hold, not a state the agent reported.
    scout = Agent.objects.get(pk="scout-1")
    assert (scout.state, scout.hold) == ("healthy", "paused")
    expect(operator.locator(f"{row} button")).to_have_text(
        ["Resume", "Kill", "Restart"]
    )

    off_loop(supervisor.agent_register, agent_id="hauler-2", name="Hauler")
    expect(viewer.locator('#agent-rows tr[data-agent-id="hauler-2"]')).to_have_count(1)


def test_robots_show_battery_live_and_stop_sends_a_zero_velocity_command(
    dash_server, pages, make_user
):
    hardware.robot_register(robot_id="go2-alpha", name="Alpha", model="unitree_go2")
    report("go2-alpha", 80.0)
    page = pages.open(dash_server, make_user("operator"), "/robots/")
    viewer = pages.open(dash_server, make_user("viewer"), "/robots/?robot=go2-alpha")
    row = '#robot-rows tr[data-robot-id="go2-alpha"]'
    expect(page.locator(f"{row} [data-battery]")).to_have_attribute(
        "data-battery", "80"
    )
    assert viewer.locator(f"{row} button").count() == 0

    off_loop(report, "go2-alpha", 42.5)
    expect(page.locator(f"{row} [data-battery]")).to_have_attribute(
        "data-battery", "42.5"
    )
    points = viewer.locator("#battery-chart")
    expect(points).to_be_visible()

    # Stop asks first; the operator confirms.
    asked: list[str] = []

    def confirm(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    page.locator(row).get_by_role("button", name="Stop").click()
    expect(viewer.locator(f"{row} .last-command")).to_contain_text(
        "(0.00, 0.00, 0.00) sent"
    )
    assert len(asked) == 1 and "go2-alpha" in asked[0]
    command = RobotCommand.objects.get()
    assert (command.linear_x, command.linear_y, command.angular_z) == (0, 0, 0)
    expect(viewer.locator("#command-rows tr")).to_have_count(1)


def test_credits_balances_and_transactions_update_live(dash_server, pages, make_user):
    credits.account_create(agent_id="scout-1", initial_credits="100.00")
    page = pages.open(dash_server, make_user("viewer"), "/credits/")
    balance = page.locator('#balance-rows tr[data-agent-id="scout-1"] [data-balance]')
    expect(balance).to_have_text("100.00")
    expect(page.locator("#transaction-rows tr")).to_have_count(1)

    off_loop(
        credits.credits_consume, agent_id="scout-1", amount="30.25", reason="compute"
    )
    expect(balance).to_have_text("69.75")
    expect(page.locator("#transaction-rows tr").first).to_contain_text("consumption")
    expect(page.locator("#transaction-rows tr").first).to_contain_text("−30.25")

    off_loop(credits.account_create, agent_id="hauler-2", initial_credits="5.00")
    expect(page.locator('#balance-rows tr[data-agent-id="hauler-2"]')).to_have_count(1)
