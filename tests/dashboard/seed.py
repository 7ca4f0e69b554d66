"""A small living system for the dashboard's layout tests, with long values.

Long names, ids and messages are what push a page wider than a phone, so some are
long on purpose.
"""

from credits import services as credits
from hardware import services as hardware
from missions import services as missions
from supervisor import services as supervisor
from tests.missions.factories import make_mission

LONG_AGENT = "long-range-surveyor-with-a-very-long-identifier-07"


def report(robot_id: str, battery: float) -> None:
    hardware.robot_report_state(
        robot_id=robot_id,
        battery_voltage=24.0 * battery / 100,
        battery_percentage=battery,
        motor_states=[],
        imu_data={},
    )


def seed_system() -> dict:
    for agent_id, name, role in (
        ("scout-1", "Scout", "surveyor"),
        (LONG_AGENT, "Long-range surveyor of the northern ridge", "surveyor"),
    ):
        supervisor.agent_register(
            agent_id=agent_id,
            name=name,
            role=role,
            capabilities=["survey", "map", "inspect", "carry"],
        )
        supervisor.agent_heartbeat(agent_id=agent_id, state="healthy")
        credits.account_create(agent_id=agent_id, initial_credits="100.00")
    running = make_mission(
        name="Survey sector 7 and upload the results to the archive", priority=30
    )
    supervisor.agent_claim_mission(agent_id="scout-1")
    make_mission(name="Calibrate_the_lidar_on_the_north_ridge_tower_after_the_storm")
    done = make_mission(name="Map the depot")
    missions.mission_set_status(mission_id=done.id, status="RUNNING")
    missions.mission_set_status(mission_id=done.id, status="COMPLETED")
    missions.mission_log_append(
        mission_id=running.id,
        lines=[
            missions.LogLine("Took off", data={"altitude_m": 0}),
            missions.LogLine(
                "uploading results to s3://brain-archive/missions/sector-7/scans/"
                "2026-12-02/lidar-point-cloud-000123.laz",
                data={"bytes": 123456789, "progress": 42},
            ),
            missions.LogLine("Wind gusts above limit", level="warning"),
            missions.LogLine("Lidar dropout", level="error"),
        ],
    )
    credits.credits_consume(
        agent_id="scout-1", amount="12.50", reason="compute", mission_id=running.id
    )
    credits.credits_consume(
        agent_id=LONG_AGENT, amount="35.00", reason="compute for a long survey run"
    )
    for robot_id, model, battery in (
        ("go2-alpha", "unitree_go2", 87.0),
        ("b2-beta-with-a-long-robot-identifier", "unitree_b2", 15.0),
    ):
        hardware.robot_register(robot_id=robot_id, name=robot_id.title(), model=model)
        for level in (battery + 4, battery + 2, battery):
            report(robot_id, level)
    hardware.robot_command_send(
        robot_id="go2-alpha", linear_x=0.5, linear_y=0, angular_z=0.2
    )
    return {"running": running, "robot": "go2-alpha"}
