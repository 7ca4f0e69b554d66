"""Prometheus metrics: the application's series, served at ``GET /metrics``.

Counters and gauges live in each process (prometheus-client); with
``PROMETHEUS_MULTIPROC_DIR`` set (``bin/run`` sets it and empties it at start) every
process of the machine writes them to files there, and a scrape of any server process
adds them up (multiprocess mode): the server processes and the webhook workers alike.
Series read from the database (the log's head, webhook backlogs) are computed at the
scrape, once, whichever process answers. Apps add theirs with
``register_collector()`` (the core imports no app). Access: ``Authorization: Bearer
<METRICS_TOKEN>``, or, when no token is set, a client address in
``METRICS_ALLOWED_IPS``.
"""

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

EVENTS_STORED = Counter(
    "brain_events_stored",
    "Durable events stored and numbered in the log, by type (counted by the "
    "process that wrote them).",
    ["type"],
)
TELEMETRY_STORED = Counter(
    "brain_telemetry_reports_stored",
    "Robot telemetry reports stored (the event types in METRICS_TELEMETRY_TYPES).",
)
EVENTS_DELIVERED = Counter(
    "brain_events_delivered",
    "Events sent to WebSockets and SSE streams (one per event per subscriber).",
)
STREAMS_OPEN = Gauge(
    "brain_sockets_open",
    "Open event subscribers: WebSockets and SSE streams.",
    ["transport"],
    multiprocess_mode="livesum",
)
RESETS = Counter(
    "brain_socket_resets",
    "Resumes answered with a reset (the cursor was pruned or is past the log).",
    ["transport"],
)
SLOW_CLOSES = Counter(
    "brain_socket_slow_closes",
    "Subscribers closed because they read too slowly (close 4408 on a socket).",
    ["transport"],
)
QUEUE_DROPS = Counter(
    "brain_socket_queue_dropped",
    "Events dropped from the queue of a subscriber that was closed (too slow, "
    "revoked); the client gets them again when it resumes.",
    ["transport"],
)
HUB_HEALED = Counter(
    "brain_hub_events_healed",
    "Events a hub read from the log because their live message had not arrived.",
)
HUB_POSITION = Gauge(
    "brain_hub_position_seq",
    "The last seq each server process's hub dispatched (-1: no subscriber).",
    multiprocess_mode="liveall",
)
WEBHOOK_DELIVERIES = Counter(
    "brain_webhook_deliveries",
    "Webhook delivery attempts by outcome (delivered, retry, gone, failed).",
    ["outcome"],
)
REQUEST_LATENCY = Histogram(
    "brain_http_request_duration_seconds",
    "HTTP request latency until the response is ready, by view.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_collectors: list[Callable[[], Iterable[Metric]]] = []


def register_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add series computed at scrape time (``collect()`` yields metric families)."""
    if collect not in _collectors:
        _collectors.append(collect)


def count_stored(events) -> None:
    """Count durable events just numbered (``WireEvent``s)."""
    telemetry = settings.METRICS_TELEMETRY_TYPES
    for event in events:
        if event.seq is None:
            continue
        EVENTS_STORED.labels(event.type).inc()
        if event.type in telemetry:
            TELEMETRY_STORED.inc()


class _ScrapeCollector:
    """The series read at scrape time: the log's head, each hub's lag, the apps'."""

    def __init__(self, hub_positions: dict[str, float]) -> None:
        self.hub_positions = hub_positions

    def collect(self):
        from brain.events.selectors import log_head

        head = log_head()
        yield GaugeMetricFamily(
            "brain_events_log_head_seq", "The highest seq in the event log.", head
        )
        lag = GaugeMetricFamily(
            "brain_hub_lag_events",
            "Events between the log's head and each hub's position (per server "
            "process with subscribers).",
            labels=["pid"],
        )
        for pid, position in sorted(self.hub_positions.items()):
            if position >= 0:
                lag.add_metric([pid], max(head - position, 0))
        yield lag
        for collect in _collectors:
            yield from collect()


def _hub_positions(registry: CollectorRegistry) -> dict[str, float]:
    positions: dict[str, float] = {}
    for family in registry.collect():
        if family.name == "brain_hub_position_seq":
            for sample in family.samples:
                positions[sample.labels.get("pid", str(os.getpid()))] = sample.value
    return positions


def render() -> bytes:
    """Every series in the Prometheus text format."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    scrape = CollectorRegistry()
    scrape.register(_ScrapeCollector(_hub_positions(registry)))
    return generate_latest(registry) + generate_latest(scrape)


def _client_allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        )
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


def metrics_view(request):
    """``GET /metrics``: the Prometheus text format, for the allowed scrapers."""
    if not _client_allowed(request):
        response = HttpResponse(
            "metrics: send Authorization: Bearer <METRICS_TOKEN>, or scrape from an "
            "address in METRICS_ALLOWED_IPS\n",
            status=403 if not settings.METRICS_TOKEN else 401,
            content_type="text/plain",
        )
        if settings.METRICS_TOKEN:
            response["WWW-Authenticate"] = "Bearer"
        return response
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)


class RequestLatencyMiddleware:
    """Observe each request's latency under its URL pattern's name (or route)."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None:
            view = match.view_name or match.route or "unnamed"
        else:
            view = "unresolved"
        REQUEST_LATENCY.labels(view, request.method).observe(
            time.perf_counter() - started
        )
        return response
