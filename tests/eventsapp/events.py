from brain.events import declare

WIDGET_CREATED = declare(
    "widget.created", source="widgets_service", payload=("widget_id", "name")
)
WIDGET_STATE_CHANGED = declare(
    "widget.state_changed",
    source="widgets_service",
    target="widget_{widget_id}",
    payload=("widget_id", "old_state", "new_state"),
)
