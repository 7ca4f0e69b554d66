"""Widget events: a test-only app, so the core is tested apart from the domain."""

from brain.events import Payload, declare


class WidgetCreated(Payload):
    widget_id: int
    name: str


class WidgetStateChanged(Payload):
    widget_id: int
    old_state: str
    new_state: str


class WidgetPinged(Payload):
    widget_id: int


WIDGET_CREATED = declare(
    "widget.created",
    source="widgets_service",
    payload=WidgetCreated,
    subjects=("widget_{widget_id}",),
    read_permission="eventsapp.view_widget",
)
WIDGET_STATE_CHANGED = declare(
    "widget.state_changed",
    source="widgets_service",
    target="widget_{widget_id}",
    payload=WidgetStateChanged,
    retention_days=2,
    read_permission="eventsapp.view_widget",
)
WIDGET_PINGED = declare(
    "widget.pinged",
    source="widgets_service",
    payload=WidgetPinged,
    subjects=("widget_{widget_id}",),
    live_only=True,
    read_permission="eventsapp.view_widget",
)
