"""Every write of the webhooks app: endpoints, secrets, replays, and delivery state.

Delivery (``endpoint_deliver``, run by the ``deliver_endpoint`` task) takes the
endpoint's lease with a conditional UPDATE, so one worker at a time delivers to an
endpoint, in ``seq`` order; other endpoints are other tasks, on other worker threads.
Each event is POSTed until a 2xx moves the cursor past it (at least once: a worker
that dies between the answer and the cursor's update sends it again, with the same
``webhook-id``). A failure schedules the next try with exponential backoff and
jitter, honouring ``Retry-After``; ``410 Gone`` disables the endpoint; past the
retry horizon the endpoint is marked failing and ``webhooks.endpoint_failing`` is
emitted.
"""

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from brain import metrics
from brain.errors import Invalid, NotFound
from brain.events import cloudevent
from brain.events.filters import FilterError
from brain.events.models import EventLog
from brain.events.selectors import events_after, log_head, needs_reset
from webhooks import delivery, selectors
from webhooks.models import (
    Attempt,
    AttemptOutcome,
    Endpoint,
    EndpointFormat,
    EndpointState,
    Replay,
)
from webhooks.signals import endpoint_failing

logger = logging.getLogger(__name__)

# Endpoint fields an operator may change.
EDITABLE = ("url", "description", "types", "subject", "format", "enabled")


def _lease_seconds() -> float:
    return settings.WEBHOOKS_TIMEOUT_SECONDS * 2 + 30


def _check_url(url: str) -> None:
    try:
        delivery.check_url(url)
    except delivery.AddressRefused as exc:
        raise Invalid(f"url: {exc}", field="url") from None


def _check_filter(types, subject) -> None:
    try:
        selectors.filter_of_values(types, subject)
    except FilterError as exc:
        raise Invalid(str(exc)) from None


# Endpoints ------------------------------------------------------------------------


@transaction.atomic
def endpoint_create(
    *,
    owner,
    url: str,
    description: str = "",
    types: list[str] | None = None,
    subject: str = "",
    format: str = EndpointFormat.CHARTER,
    enabled: bool = True,
) -> Endpoint:
    """Register an endpoint; it receives the events committed from now on."""
    _check_url(url)
    _check_filter(types or [], subject)
    endpoint = Endpoint.objects.create(
        owner=owner,
        url=url,
        description=description,
        types=list(types or []),
        subject=subject or "",
        format=format,
        enabled=enabled,
        secret=delivery.new_secret(),
        cursor=log_head(),
    )
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint_id, **changes) -> Endpoint:
    """Change an endpoint. Re-enabling a failing or gone endpoint resumes delivery
    with the event it stopped at."""
    endpoint = _locked(endpoint_id)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid(f"not editable: {', '.join(sorted(unknown))}")
    if "url" in changes:
        _check_url(changes["url"])
    _check_filter(
        changes.get("types", endpoint.types), changes.get("subject", endpoint.subject)
    )
    for name, value in changes.items():
        setattr(endpoint, name, value if value is not None else "")
    fields = [*changes, "updated_at"]
    if changes.get("enabled") and (
        endpoint.state != EndpointState.ACTIVE or endpoint.next_attempt_at
    ):
        endpoint.state = EndpointState.ACTIVE
        endpoint.failures = 0
        endpoint.failing_seq = None
        endpoint.first_failure_at = None
        endpoint.next_attempt_at = None
        fields += ["state", "failures", "failing_seq", "first_failure_at"]
        fields += ["next_attempt_at"]
    endpoint.save(update_fields=fields)
    if endpoint.enabled:
        transaction.on_commit(partial(wake, endpoint.id))
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint_id) -> None:
    _locked(endpoint_id).delete()


@transaction.atomic
def endpoint_rotate_secret(*, endpoint_id) -> Endpoint:
    """A new secret; the old one stays valid (both signatures are sent) for
    ``WEBHOOKS_SECRET_GRACE_SECONDS``."""
    endpoint = _locked(endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + timedelta(
        seconds=settings.WEBHOOKS_SECRET_GRACE_SECONDS
    )
    endpoint.secret = delivery.new_secret()
    endpoint.save(
        update_fields=[
            "secret",
            "previous_secret",
            "previous_secret_expires_at",
            "updated_at",
        ]
    )
    return endpoint


@transaction.atomic
def endpoint_replay(*, endpoint_id, after: int, until: int, requested_by="") -> Replay:
    """Send every matching event with ``after < seq <= until`` again, in order
    (before the endpoint's new events)."""
    endpoint = _locked(endpoint_id)
    if after < 0 or until <= after:
        raise Invalid("expected 0 <= after < until")
    replay = Replay.objects.create(
        endpoint=endpoint,
        after=after,
        until=until,
        cursor=after,
        requested_by=requested_by,
    )
    transaction.on_commit(partial(wake, endpoint.id))
    return replay


def _locked(endpoint_id) -> Endpoint:
    try:
        return Endpoint.objects.select_for_update().get(id=endpoint_id)
    except (Endpoint.DoesNotExist, ValueError, TypeError):
        raise NotFound("no such webhook endpoint") from None


# Waking the workers ---------------------------------------------------------------


def wake(endpoint_id, *, live_only: bool = False) -> bool:
    """Queue a delivery task for the endpoint unless one is queued already.
    ``live_only``: and only if it is active and not waiting for a retry."""
    from webhooks.tasks import deliver_endpoint

    now = timezone.now()
    stale = now - timedelta(seconds=_lease_seconds())
    endpoints = Endpoint.objects.filter(id=endpoint_id, enabled=True)
    if live_only:
        endpoints = endpoints.filter(state=EndpointState.ACTIVE).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )
    woken = endpoints.filter(
        Q(wake_requested_at__isnull=True) | Q(wake_requested_at__lt=stale)
    ).update(wake_requested_at=now)
    if woken:
        deliver_endpoint.enqueue(str(endpoint_id))
    return bool(woken)


def wake_for(events) -> int:
    """Wake the endpoints that one of these just-numbered events may be for."""
    woken = 0
    for endpoint_id, event_filter in selectors.wake_candidates():
        if any(event_filter.matches(e.type, e.subjects) for e in events):
            woken += wake(endpoint_id, live_only=True)
    return woken


def sweep() -> int:
    """Wake every endpoint that has work and no worker on it (a lost wake-up, a
    worker that died holding a lease, a retry whose task was lost)."""
    woken = 0
    head = log_head()
    for endpoint in selectors.endpoints_idle(timezone.now()):
        has_replay = endpoint.replays.filter(finished_at__isnull=True).exists()
        if endpoint.cursor < head or has_replay:
            Endpoint.objects.filter(id=endpoint.id).update(wake_requested_at=None)
            woken += wake(endpoint.id)
    return woken


# Delivering -----------------------------------------------------------------------


@dataclass
class _Lease:
    endpoint_id: uuid.UUID
    token: uuid.UUID

    def scope(self):
        return Endpoint.objects.filter(id=self.endpoint_id, lease_token=self.token)

    def renew_with(self, **fields) -> bool:
        until = timezone.now() + timedelta(seconds=_lease_seconds())
        return bool(self.scope().update(lease_until=until, **fields))


def _acquire(endpoint_id) -> _Lease | None:
    now = timezone.now()
    token = uuid.uuid4()
    got = (
        Endpoint.objects.filter(
            id=endpoint_id, enabled=True, state=EndpointState.ACTIVE
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            lease_token=token,
            lease_until=now + timedelta(seconds=_lease_seconds()),
            wake_requested_at=None,
        )
    )
    return _Lease(endpoint_id, token) if got else None


def endpoint_deliver(*, endpoint_id) -> str:
    """Deliver what the endpoint has pending, in ``seq`` order, up to
    ``WEBHOOKS_BATCH_SIZE`` events (then queue the rest as a new task, so endpoints
    take turns). Returns what happened, for the task's result."""
    lease = _acquire(endpoint_id)
    if lease is None:
        return "busy or paused"
    outcome = "idle"
    more = False
    try:
        sent = 0
        while sent < settings.WEBHOOKS_BATCH_SIZE:
            endpoint = Endpoint.objects.filter(id=endpoint_id).first()
            if endpoint is None or not endpoint.enabled:
                outcome = "disabled"
                break
            if endpoint.next_attempt_at and endpoint.next_attempt_at > timezone.now():
                outcome = "waiting for a retry"
                break
            batch = _pending(endpoint, lease, settings.WEBHOOKS_BATCH_SIZE - sent)
            if not batch:
                break
            for row, replay in batch:
                result = _attempt(endpoint, lease, row, replay)
                if result != AttemptOutcome.DELIVERED:
                    outcome = result
                    break
                sent += 1
            else:
                continue
            break
        else:
            more = True
        if outcome == "idle" and sent:
            outcome = f"delivered {sent}"
    finally:
        released = Endpoint.objects.filter(
            id=endpoint_id, lease_token=lease.token
        ).update(lease_token=None, lease_until=None)
        if released:
            pending = Endpoint.objects.filter(
                id=endpoint_id, wake_requested_at__isnull=False
            ).exists()
            if more or pending:
                Endpoint.objects.filter(id=endpoint_id).update(wake_requested_at=None)
                wake(endpoint_id)
    return outcome


def _pending(endpoint: Endpoint, lease: _Lease, limit: int) -> list:
    """The next events to send: an open replay's first, else the new ones."""
    event_filter = selectors.endpoint_filter(endpoint)
    for replay in endpoint.replays.filter(finished_at__isnull=True):
        rows = events_after(
            replay.cursor, upto=replay.until, event_filter=event_filter, limit=limit
        )
        if rows:
            return [(row, replay) for row in rows]
        Replay.objects.filter(id=replay.id).update(finished_at=timezone.now())
    head = log_head()
    rows = events_after(endpoint.cursor, event_filter=event_filter, limit=limit)
    if rows and needs_reset(endpoint.cursor, head):
        # The socket's reset rule: retention may have pruned some of what follows
        # the cursor. A receiver cannot refetch, so say it where operators look.
        logger.warning(
            "webhook endpoint %s: events after seq %s may have been pruned before "
            "delivery; continuing with seq %s",
            endpoint.id,
            endpoint.cursor,
            rows[0].seq,
        )
    if rows:
        return [(row, None) for row in rows]
    if head > endpoint.cursor:
        # Nothing for this endpoint up to the head (which is final): skip there.
        lease.renew_with(cursor=head)
    return []


def _body(endpoint: Endpoint, row: EventLog) -> tuple[bytes, str]:
    if endpoint.format == EndpointFormat.CLOUDEVENTS:
        return cloudevent.encode(row.encode()).encode(), cloudevent.MEDIA_TYPE
    return row.encode().encode(), "application/json"


def _secrets(endpoint: Endpoint) -> list[str]:
    valid = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires and expires > timezone.now():
        valid.append(endpoint.previous_secret)
    return valid


def _backoff(failures: int) -> float:
    """Exponential, capped, with jitter: half the delay fixed, half random."""
    delay = min(
        settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** (failures - 1),
        settings.WEBHOOKS_RETRY_MAX_DELAY_SECONDS,
    )
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311  # nosec B311


def _attempt(endpoint: Endpoint, lease: _Lease, row: EventLog, replay) -> str:
    body, content_type = _body(endpoint, row)
    started_at = timezone.now()
    response = delivery.post(
        endpoint.url,
        body=body,
        content_type=content_type,
        msg_id=str(row.event_id),
        secrets_=_secrets(endpoint),
    )
    status = response.status_code
    if status is not None and 200 <= status < 300:
        outcome = AttemptOutcome.DELIVERED
    elif status == 410:
        outcome = AttemptOutcome.GONE
    else:
        outcome = AttemptOutcome.RETRY
    now = timezone.now()
    retrying_same = endpoint.failing_seq == row.seq
    number = endpoint.failures + 1 if retrying_same else 1
    with transaction.atomic():
        attempt = Attempt(
            endpoint_id=endpoint.id,
            event_id=row.event_id,
            seq=row.seq,
            event_type=row.type,
            replay=replay,
            number=number,
            started_at=started_at,
            latency_ms=response.latency_ms,
            status_code=status,
            outcome=outcome,
            error=response.error,
            response_excerpt=response.excerpt,
        )
        if outcome == AttemptOutcome.DELIVERED:
            moved = {"failures": 0, "failing_seq": None, "first_failure_at": None}
            moved["next_attempt_at"] = None
            if replay is None:
                moved["cursor"] = row.seq
            else:
                Replay.objects.filter(id=replay.id).update(cursor=row.seq)
            held = lease.renew_with(**moved)
        elif outcome == AttemptOutcome.GONE:
            held = lease.renew_with(enabled=False, state=EndpointState.GONE)
        else:
            first = endpoint.first_failure_at if retrying_same else now
            delay = _backoff(number)
            if response.retry_after is not None:
                delay = max(delay, response.retry_after)
            next_at = now + timedelta(seconds=delay)
            horizon = timedelta(seconds=settings.WEBHOOKS_RETRY_HORIZON_SECONDS)
            fields = {"failures": number, "failing_seq": row.seq}
            fields["first_failure_at"] = first
            if next_at - first > horizon:
                attempt.outcome = outcome = AttemptOutcome.FAILED
                fields.update(state=EndpointState.FAILING, next_attempt_at=None)
            else:
                attempt.next_attempt_at = next_at
                fields["next_attempt_at"] = next_at
            held = lease.renew_with(**fields)
            if held and outcome == AttemptOutcome.FAILED:
                endpoint.failures = number
                endpoint.first_failure_at = first
                endpoint_failing.send(
                    sender=Endpoint, endpoint=endpoint, attempt=attempt
                )
            elif held:
                transaction.on_commit(partial(_retry_at, endpoint.id, next_at))
        attempt.save()
    metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()
    if not held:
        # Another worker took the endpoint over (this one outlived its lease).
        return "lease lost"
    endpoint.failures = 0 if outcome == AttemptOutcome.DELIVERED else number
    endpoint.failing_seq = None if outcome == AttemptOutcome.DELIVERED else row.seq
    if outcome == AttemptOutcome.RETRY:
        endpoint.first_failure_at = fields["first_failure_at"]
    return outcome


def _retry_at(endpoint_id, when) -> None:
    from webhooks.tasks import deliver_endpoint

    deliver_endpoint.using(run_after=when).enqueue(str(endpoint_id))
