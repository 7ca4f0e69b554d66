from django.dispatch import Signal, receiver

from brain.events import emit
from tests.eventsapp.events import WIDGET_CREATED, WIDGET_PINGED, WIDGET_STATE_CHANGED

widget_created = Signal()
widget_state_changed = Signal()


@receiver(widget_created, dispatch_uid="eventsapp.created")
def on_created(sender, widget, **kwargs):
    emit(WIDGET_CREATED.name, {"widget_id": widget.pk, "name": widget.name})


@receiver(widget_state_changed, dispatch_uid="eventsapp.state_changed")
def on_state_changed(sender, widget, old_state, **kwargs):
    emit(
        WIDGET_STATE_CHANGED.name,
        {"widget_id": widget.pk, "old_state": old_state, "new_state": widget.state},
    )


widget_pinged = Signal()


@receiver(widget_pinged, dispatch_uid="eventsapp.pinged")
def on_pinged(sender, widget_id, **kwargs):
    return emit(WIDGET_PINGED.name, {"widget_id": widget_id})
