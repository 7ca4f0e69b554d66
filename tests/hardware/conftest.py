import json

import pytest

from tests.conftest import sent
from tests.hardware.factories import make_robot


@pytest.fixture
def robot(db):
    return make_robot("go2-alpha")


@pytest.fixture
def other_robot(db):
    return make_robot("b2-bravo", name="Bravo", model="unitree_b2")


def only_event(events, type_: str) -> dict:
    """The single event the test caused, checked for type and source."""
    caused = events.all()
    assert [e["type"] for e in caused] == [type_]
    event = caused[0]
    assert event["source"] == "hardware_service"
    assert event["meta"]["producer"] == "hardware_service"
    assert event["meta"]["source_module"] == "hardware"
    return event


def only_live_event(delivered: list[list], events, type_: str) -> dict:
    """The single live-only event the test caused: delivered once after commit,
    with no ``seq``, stored nowhere; checked for type and source."""
    ((wire,),) = delivered
    assert (wire.seq, wire.type) == (None, type_)
    assert events.all() == []
    (event,) = sent(delivered)
    assert event == json.loads(wire.text)
    assert "seq" not in event["meta"]
    assert event["source"] == "hardware_service"
    assert event["meta"]["producer"] == "hardware_service"
    assert event["meta"]["source_module"] == "hardware"
    return event
