from django.db import transaction

from tests.eventsapp.models import Widget
from tests.eventsapp.signals import widget_created, widget_pinged, widget_state_changed


@transaction.atomic
def widget_create(*, name: str) -> Widget:
    widget = Widget.objects.create(name=name)
    widget_created.send(sender=Widget, widget=widget)
    return widget


@transaction.atomic
def widget_set_state(*, widget_id: int, state: str) -> Widget:
    widget = Widget.objects.select_for_update().get(pk=widget_id)
    old_state, widget.state = widget.state, state
    widget.save(update_fields=["state"])
    widget_state_changed.send(sender=Widget, widget=widget, old_state=old_state)
    return widget


def widget_ping(*, widget_id: int):
    """A read-like happening: announced live-only, nothing written. Returns the
    (unsaved) event row the receiver emitted."""
    ((_, row),) = widget_pinged.send(sender=Widget, widget_id=widget_id)
    return row
