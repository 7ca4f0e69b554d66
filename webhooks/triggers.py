"""What wakes webhook delivery: events just numbered, and the scrape-time metrics.

``brain.events.signals.events_numbered`` is sent after commit, in the process that
numbered the events; its receiver queues a delivery task for each live endpoint that
one of them may be for (at most one queued task per endpoint). Whatever a lost
wake-up misses, the periodic sweep (``tasks.sweep_endpoints``) catches.
"""

import logging

from django.db.models.signals import post_delete, post_save
from prometheus_client.core import GaugeMetricFamily

from brain import metrics
from brain.events.signals import events_numbered
from webhooks import selectors, services
from webhooks.models import Endpoint

logger = logging.getLogger(__name__)


def on_events_numbered(sender, events, **kwargs) -> None:
    try:
        services.wake_for(events)
    except Exception as exc:  # noqa: BLE001 - the sweep wakes what this missed
        logger.warning("webhook wake-up deferred to the sweep: %r", exc)


def collect():
    pending = GaugeMetricFamily(
        "brain_webhook_retries_pending",
        "Live endpoints waiting for a retry of a failed delivery.",
        selectors.retries_pending(),
    )
    yield pending
    oldest = GaugeMetricFamily(
        "brain_webhook_oldest_undelivered_age_seconds",
        "Seconds since the oldest event an endpoint has not acknowledged occurred.",
        labels=["endpoint"],
    )
    for endpoint_id, age in selectors.backlog_ages().items():
        oldest.add_metric([endpoint_id], age)
    yield oldest


def connect() -> None:
    events_numbered.connect(on_events_numbered, dispatch_uid="webhooks.wake")
    for signal in (post_save, post_delete):
        signal.connect(
            selectors.forget_wake_candidates,
            sender=Endpoint,
            dispatch_uid=f"webhooks.forget_wake_candidates.{signal is post_save}",
        )
    metrics.register_collector(collect)
