from hardware import services
from hardware.models import Robot, RobotCommand, RobotState

MOTOR = {
    "motor_id": 0,
    "angle": 0.5,
    "velocity": 0.0,
    "torque": 1.25,
    "temperature": 41,
}


def make_robot(robot_id: str = "go2-alpha", **overrides) -> Robot:
    params = {"name": "Alpha", "model": "unitree_go2"}
    params.update(overrides)
    return services.robot_register(robot_id=robot_id, **params)


def state_body(**overrides) -> dict:
    body = {
        "battery_voltage": 25.2,
        "battery_percentage": 87,
        "motor_states": [MOTOR, {**MOTOR, "motor_id": 1}],
        "imu_data": {"roll": 0.01, "pitch": -0.02, "yaw": 1.57},
    }
    body.update(overrides)
    return body


def report_state(robot_id: str = "go2-alpha", **overrides) -> RobotState:
    params = state_body(**overrides)
    return services.robot_report_state(robot_id=robot_id, **params)[1]


def send_command(robot_id: str = "go2-alpha", **velocity) -> RobotCommand:
    params = {"linear_x": 0.5, "linear_y": 0.0, "angular_z": -1.0}
    params.update(velocity)
    return services.robot_command_send(robot_id=robot_id, **params)
