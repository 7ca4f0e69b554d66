"""Webhook endpoints, their delivery state, every attempt, and replays.

An endpoint's ``cursor`` is the ``seq`` of the last event it acknowledged (2xx): the
log after it, filtered by the endpoint's ``types``/``subject`` and by what its owner
may read, is what it still has to receive, in ``seq`` order. A worker holds an
endpoint's ``lease`` while it delivers, so only one delivers to an endpoint at once.
"""

import uuid

from django.conf import settings
from django.db import models


class EndpointFormat(models.TextChoices):
    CHARTER = "charter", "Charter v1.0 envelope"
    CLOUDEVENTS = "cloudevents", "CloudEvents 1.0 (structured, JSON)"


class EndpointState(models.TextChoices):
    ACTIVE = "active", "active"
    # Past the retry horizon: nothing is delivered until an operator re-enables it.
    FAILING = "failing", "failing"
    # The receiver answered 410 Gone.
    GONE = "gone", "gone"


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered", "delivered (2xx)"
    RETRY = "retry", "failed, will retry"
    GONE = "gone", "410 Gone: endpoint disabled"
    FAILED = "failed", "failed past the retry horizon"


class Endpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True, default="")
    types = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=100, blank=True, default="")
    format = models.CharField(
        max_length=16, choices=EndpointFormat.choices, default=EndpointFormat.CHARTER
    )
    enabled = models.BooleanField(default=True)
    state = models.CharField(
        max_length=16, choices=EndpointState.choices, default=EndpointState.ACTIVE
    )
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # The seq of the last event acknowledged; deliveries continue after it.
    cursor = models.BigIntegerField(default=0)
    # The event being retried, its failed attempts, and when to try next.
    failing_seq = models.BigIntegerField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker's hold on the endpoint while it delivers.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True)
    # A delivery task is queued (so new events need not queue another).
    wake_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["enabled", "state"], name="endpoint_live")]

    def __str__(self) -> str:
        return f"{self.url} ({self.state}{'' if self.enabled else ', disabled'})"


class Replay(models.Model):
    """Every matching event with ``after < seq <= until``, sent again, in order."""

    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="replays"
    )
    after = models.BigIntegerField()
    until = models.BigIntegerField()
    cursor = models.BigIntegerField()
    requested_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"replay {self.after}..{self.until} to {self.endpoint_id}"


class Attempt(models.Model):
    """One HTTP request to an endpoint: what was sent and what came back."""

    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="attempts"
    )
    event_id = models.UUIDField()
    seq = models.BigIntegerField()
    event_type = models.CharField(max_length=100)
    replay = models.ForeignKey(
        Replay, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    number = models.PositiveIntegerField(help_text="1 for the first try of the event")
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    error = models.CharField(max_length=500, blank=True, default="")
    response_excerpt = models.CharField(max_length=1024, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-started_at"], name="attempt_recent"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} to {self.endpoint_id}: {self.outcome}"
