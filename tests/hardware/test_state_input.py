"""The fast path of a state report's validation gives the serializer's answer.

``state_report_fast`` either returns exactly ``StateReportSerializer``'s validated
data or ``None`` (the serializer then decides and words the errors); for the
reports robots send it must not fall back. Hypothesis draws reports from values
that are valid, invalid and borderline.
"""

import math
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.serializers import (
    StateReportSerializer,
    state_report_fast,
    state_report_validated,
)
from tests.hardware.factories import state_body

ROBOT = "go2-alpha"

numbers = st.one_of(
    st.integers(-5, 200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
motor = st.fixed_dictionaries(
    {
        "motor_id": st.one_of(st.integers(-2, 5), st.booleans(), st.floats(0, 3)),
        "angle": numbers,
        "velocity": numbers,
        "torque": numbers,
        "temperature": numbers,
    },
    optional={"extra": st.integers()},
)
report = st.fixed_dictionaries(
    {},
    optional={
        "battery_voltage": numbers,
        "battery_percentage": numbers,
        "motor_states": st.one_of(st.lists(motor, max_size=4), st.none(), st.text()),
        "imu_data": st.one_of(
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
            st.lists(st.integers()),
        ),
        "timestamp": st.one_of(
            st.floats(-10, time.time() + 3600), st.text(max_size=5), st.none()
        ),
        "robot_id": st.sampled_from([ROBOT, "other"]),
        "surprise": st.integers(),
    },
)


def serializer_answer(item):
    serializer = StateReportSerializer(data=item, context={"robot_id": ROBOT})
    return dict(serializer.validated_data) if serializer.is_valid() else None


@settings(max_examples=600, deadline=None)
@given(report)
def test_the_fast_path_agrees_with_the_serializer(item):
    fast = state_report_fast(item, ROBOT)
    if fast is not None:
        assert fast == serializer_answer(item)


@settings(max_examples=300, deadline=None)
@given(
    voltage=st.floats(0, 60),
    percentage=st.integers(0, 100),
    motors=st.integers(0, 12),
    stamp=st.one_of(st.none(), st.floats(1.0e9, time.time())),
)
def test_reports_as_robots_send_them_take_the_fast_path(
    voltage, percentage, motors, stamp
):
    item = state_body(
        battery_voltage=voltage,
        battery_percentage=percentage,
        motor_states=[
            {
                "motor_id": n,
                "angle": 0.1 * n,
                "velocity": 1,
                "torque": -0.5,
                "temperature": 40,
            }
            for n in range(motors)
        ],
    )
    if stamp is not None:
        item["timestamp"] = stamp
    fast = state_report_fast(item, ROBOT)
    assert fast is not None
    assert fast == serializer_answer(item)
    assert state_report_validated(item, ROBOT) == fast


def test_a_bad_report_still_gets_the_serializers_words():
    bad = state_body(battery_percentage=math.inf)
    assert state_report_fast(bad, ROBOT) is None
    try:
        state_report_validated(bad, ROBOT)
    except Exception as exc:  # noqa: BLE001 - the serializer's ValidationError
        assert "battery_percentage" in exc.detail
    else:
        raise AssertionError("an infinite battery percentage was accepted")
