"""Webhooks signals, sent by the services, and the receiver that emits the event."""

from django.dispatch import Signal, receiver

from brain.events import emit
from webhooks.events import ENDPOINT_FAILING

# endpoint: Endpoint, attempt: Attempt
endpoint_failing = Signal()


@receiver(endpoint_failing, dispatch_uid="webhooks.emit_endpoint_failing")
def emit_endpoint_failing(sender, endpoint, attempt, **kwargs) -> None:
    emit(
        ENDPOINT_FAILING.name,
        {
            "endpoint_id": str(endpoint.id),
            "url": endpoint.url,
            "seq": attempt.seq,
            "event_id": str(attempt.event_id),
            "attempts": endpoint.failures,
            "first_failure_at": endpoint.first_failure_at.timestamp(),
            "last_status": attempt.status_code,
        },
    )
