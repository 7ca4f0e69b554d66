from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotentRequest(models.Model):
    """A write sent with an ``Idempotency-Key``: what it was, and once answered, the
    answer to replay (``brain.api.idempotency``). ``status`` is null while the
    first request is in flight."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=255, blank=True)
    location = models.CharField(max_length=2000, blank=True)
    body = models.BinaryField(default=b"")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="brain_api_idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status or 'in flight'})"
