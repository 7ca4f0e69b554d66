"""Driving a robot from its page, and the battery of every robot at once (issue 17)."""

import pytest
from playwright.sync_api import expect

from hardware import services as hardware
from hardware.models import VELOCITY_BOUNDS, RobotCommand
from tests.dashboard.browser import off_loop, screenshot
from tests.dashboard.seed import report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def commands(robot_id: str) -> list[tuple[float, float, float]]:
    return [
        (c.linear_x, c.linear_y, c.angular_z)
        for c in RobotCommand.objects.filter(robot_id=robot_id).order_by("created_at")
    ]


def wait_for_commands(page, robot_id: str, check) -> list:
    """The robot's commands once ``check`` holds; the page's clock, not a sleep."""
    for _ in range(100):
        sent = commands(robot_id)
        if check(sent):
            return sent
        page.wait_for_timeout(50)
    raise AssertionError(f"commands of {robot_id}: {commands(robot_id)}")


def battery_lines(page, check) -> list:
    """[robot, [battery, ...]] per line of the chart, once ``check`` holds."""
    for _ in range(100):
        lines = page.evaluate(
            """() => {
                const canvas = document.getElementById("battery-chart");
                const chart = Chart.getChart(canvas);
                if (!chart) return [];
                return chart.data.datasets.map(
                    set => [set.label, set.data.map(p => p.y)]
                );
            }"""
        )
        if check(lines):
            return lines
        page.wait_for_timeout(50)
    raise AssertionError(f"the battery chart holds {lines}")


@pytest.fixture
def robot(db):
    hardware.robot_register(robot_id="go2-alpha", name="Alpha", model="unitree_go2")
    report("go2-alpha", 80.0)
    return "go2-alpha"


def test_holding_a_direction_moves_the_robot_and_letting_go_stops_it(
    dash_server, pages, make_user, robot
):
    page = pages.open(dash_server, make_user("operator"), f"/robots/{robot}/")
    speed = page.locator("#speed")
    # The slider ends at the velocity the API accepts, no further.
    top = min(
        abs(v) for v in (*VELOCITY_BOUNDS["linear_x"], *VELOCITY_BOUNDS["linear_y"])
    )
    expect(speed).to_have_attribute("max", f"{top:g}")
    speed.fill("0.75")
    expect(page.locator("#speed-out")).to_have_text("0.75 m/s")

    forward = page.get_by_role("button", name="Forward")
    forward.hover()
    page.mouse.down()
    sent = wait_for_commands(page, robot, lambda sent: len(sent) >= 1)
    assert sent[0] == (0.75, 0.0, 0.0)
    expect(page.locator("#drive-state")).to_contain_text("moving: forward")
    # Held: the command again each second, so a watchful robot keeps moving.
    wait_for_commands(page, robot, lambda sent: len(sent) >= 2)
    page.mouse.up()
    sent = wait_for_commands(page, robot, lambda sent: sent[-1] == (0.0, 0.0, 0.0))
    assert set(sent[:-1]) == {(0.75, 0.0, 0.0)}
    expect(page.locator("#drive-state")).to_have_text("stopped")
    expect(page.locator("#command-rows tr").first).to_contain_text("0.00")

    # Turning uses the turn rate, within its own bound.
    turn_top = min(abs(v) for v in VELOCITY_BOUNDS["angular_z"])
    expect(page.locator("#turn")).to_have_attribute("max", f"{turn_top:g}")
    count = len(commands(robot))
    page.locator("#pad").focus()
    page.keyboard.down("q")
    wait_for_commands(page, robot, lambda sent: len(sent) > count)
    page.keyboard.up("q")
    sent = wait_for_commands(page, robot, lambda sent: sent[-1] == (0.0, 0.0, 0.0))
    assert sent[count] == (0.0, 0.0, 1.0)
    screenshot(page, "robot")


def test_stop_is_always_on_screen_and_acts_at_once(
    dash_server, pages, make_user, robot
):
    page = pages.open(dash_server, make_user("operator"), f"/robots/{robot}/")
    page.set_viewport_size({"width": 390, "height": 844})
    stop = page.locator("#stop")
    for where in ("document.body.scrollHeight", "0", "document.body.scrollHeight / 2"):
        page.evaluate(f"window.scrollTo(0, {where})")
        expect(stop).to_be_in_viewport()
    stop.click()  # no question first: stopping is always safe
    wait_for_commands(page, robot, lambda sent: sent == [(0.0, 0.0, 0.0)])
    expect(page.locator("#flash")).to_contain_text("Stop sent")


def test_exact_velocities_outside_the_bounds_are_not_sent(
    dash_server, pages, make_user, robot
):
    page = pages.open(dash_server, make_user("operator"), f"/robots/{robot}/")
    form = page.locator("#velocity")
    low, high = VELOCITY_BOUNDS["linear_x"]
    expect(form.locator("[name=linear_x]")).to_have_attribute("max", f"{high:g}")
    expect(form.locator("[name=linear_x]")).to_have_attribute("min", f"{low:g}")
    form.locator("[name=linear_x]").fill(f"{high + 1:g}")
    form.get_by_role("button", name="Send").click()
    page.wait_for_timeout(300)
    assert commands(robot) == []  # the browser refuses the form: out of range
    form.locator("[name=linear_x]").fill("0.3")
    form.locator("[name=angular_z]").fill("-0.5")
    form.get_by_role("button", name="Send").click()
    wait_for_commands(page, robot, lambda sent: sent == [(0.3, 0.0, -0.5)])


def test_a_viewer_sees_the_robot_but_cannot_drive_it(
    dash_server, pages, make_user, robot
):
    page = pages.open(dash_server, make_user("viewer"), f"/robots/{robot}/")
    expect(page.locator('[data-field="battery"] [data-battery]')).to_have_attribute(
        "data-battery", "80"
    )
    assert page.locator("#drive, #stop").count() == 0


def test_the_robots_page_charts_every_robots_battery_at_once(
    dash_server, pages, make_user
):
    for robot_id, levels in (("go2-alpha", (90, 85)), ("b2-beta", (40, 35, 30))):
        hardware.robot_register(robot_id=robot_id, name=robot_id, model="unitree_b2")
        for level in levels:
            report(robot_id, level)
    page = pages.open(dash_server, make_user("viewer"), "/robots/")
    assert battery_lines(page, lambda lines: len(lines) == 2) == [
        ["b2-beta", [40, 35, 30]],
        ["go2-alpha", [90, 85]],
    ]
    off_loop(report, "go2-alpha", 80)
    battery_lines(page, lambda lines: lines[1][1] == [90, 85, 80])
    link = page.locator('#robot-rows tr[data-robot-id="b2-beta"] a.robot-link')
    expect(link).to_have_attribute("href", "/robots/b2-beta/")
