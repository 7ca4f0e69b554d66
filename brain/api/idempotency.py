"""The ``Idempotency-Key`` request header (IETF
draft-ietf-httpapi-idempotency-key-header) on every POST and PATCH of the API.

The first request with a key claims it (a row, committed before the view runs), and
its answer is stored when it succeeds (2xx) and kept ``IDEMPOTENCY_KEY_RETENTION_HOURS``
(24 h): a repeat with the same key, method, path and body gets that answer again,
marked ``Idempotent-Replayed: true``, and changes nothing. The same key with another
request is 422; a repeat while the first is still running is 409 (``Retry-After``).
An answer that is not a success is not stored: the key is released, so a client
may fix its request and send it again with the same key (Stripe's rule: a request
that failed changed nothing, so there is nothing to replay). A request that dies
holding its key (a killed process) loses it after ``IDEMPOTENCY_KEY_LEASE_SECONDS``.

Keys belong to the user who sent them: one user's key never answers another's
request. Requests without the header behave as before; so does the ``idempotency_key``
field of the credits endpoints, which the ledger itself keeps.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.views import APIView

from brain.api.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = ("POST", "PATCH")
KEY_MAX_LENGTH = 255
# A Structured Field string ("..."), as the draft specifies, or the bare token many
# clients send: printable ASCII.
_QUOTED = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\\"])+)"')
_BARE = re.compile(r"[\x21-\x7e]+")


def parse_key(raw: str) -> str | None:
    """The key a header value carries, or ``None`` when it is not a valid one."""
    raw = raw.strip()
    quoted = _QUOTED.fullmatch(raw)
    if quoted:
        key = re.sub(r"\\([\\\"])", r"\1", quoted.group(1))
    elif _BARE.fullmatch(raw) and '"' not in raw:
        key = raw
    else:
        return None
    return key if key.strip() and len(key) <= KEY_MAX_LENGTH else None


def fingerprint(request) -> str:
    """Method, path with query, and body (JSON compared by value, not spelling)."""
    body = request.body
    try:
        body = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":")
        ).encode()
    except ValueError:
        pass
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str


def idempotency_claim(
    *, user, key: str, fingerprint: str
) -> IdempotentRequest | Refusal:
    """Claim ``key`` for a new request, or say why it cannot run: a stored answer
    to replay (the row, with its ``status``), or a ``Refusal`` (409, 422)."""
    now = timezone.now()
    kept_since = now - timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS)
    leased_since = now - timedelta(seconds=settings.IDEMPOTENCY_KEY_LEASE_SECONDS)
    for _ in range(3):
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(
                    user=user, key=key, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            pass
        with transaction.atomic():
            held = (
                IdempotentRequest.objects.select_for_update()
                .filter(user=user, key=key)
                .first()
            )
            if held is None:
                continue  # released meanwhile: claim again
            in_flight = held.status is None
            if held.created_at < (leased_since if in_flight else kept_since):
                held.delete()  # expired, or abandoned by a request that died
                continue
            if held.fingerprint != fingerprint:
                return Refusal(
                    422,
                    f"{HEADER} {key!r} was already used for a different request "
                    "(method, path or body); use a new key",
                )
            if in_flight:
                return Refusal(
                    409,
                    f"a request with {HEADER} {key!r} is still in progress; "
                    "retry shortly",
                )
            return held
    return Refusal(409, f"{HEADER} {key!r} is contended; retry shortly")


def idempotency_finish(claim: IdempotentRequest, response) -> None:
    """Store a success for replay; release the key after anything else."""
    stored = 200 <= response.status_code < 300 and not response.streaming
    if not stored:
        IdempotentRequest.objects.filter(pk=claim.pk, status__isnull=True).delete()
        return
    IdempotentRequest.objects.filter(pk=claim.pk).update(
        status=response.status_code,
        content_type=response.get("Content-Type", ""),
        location=response.get("Location", ""),
        body=response.content,
    )


def replay(held: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        bytes(held.body), status=held.status, content_type=held.content_type or None
    )
    if held.location:
        response["Location"] = held.location
    response[REPLAYED_HEADER] = "true"
    return response


def _user_of(request, view_class):
    """The user the view would see, from its own authenticators; ``None`` when the
    request is anonymous or its credentials fail (the view answers it)."""
    drf_request = Request(
        request, authenticators=[auth() for auth in view_class.authentication_classes]
    )
    try:
        user = drf_request.user
    except APIException:
        return None
    return user if user is not None and user.is_authenticated else None


class IdempotencyMiddleware:
    """Applies the header to every DRF view's POST and PATCH."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        claim = getattr(request, "_idempotency_claim", None)
        if claim is not None:
            idempotency_finish(claim, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        raw = request.headers.get(HEADER)
        view_class = getattr(view_func, "cls", None)
        if (
            raw is None
            or request.method not in METHODS
            or view_class is None
            or not issubclass(view_class, APIView)
        ):
            return None
        key = parse_key(raw)
        if key is None:
            return JsonResponse(
                {
                    HEADER: [
                        f"1 to {KEY_MAX_LENGTH} printable ASCII characters, "
                        'optionally quoted ("...")'
                    ]
                },
                status=400,
            )
        user = _user_of(request, view_class)
        if user is None:
            return None
        outcome = idempotency_claim(
            user=user, key=key, fingerprint=fingerprint(request)
        )
        if isinstance(outcome, Refusal):
            response = JsonResponse({"detail": outcome.detail}, status=outcome.status)
            if outcome.status == 409:
                response["Retry-After"] = "1"
            return response
        if outcome.status is not None:
            return replay(outcome)
        request._idempotency_claim = outcome
        return None


def idempotency_prune() -> int:
    """Delete the stored answers past their retention, and claims past their lease;
    returns how many (``manage.py prune_idempotency_keys``)."""
    now = timezone.now()
    kept_since = now - timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS)
    leased_since = now - timedelta(seconds=settings.IDEMPOTENCY_KEY_LEASE_SECONDS)
    expired = IdempotentRequest.objects.filter(
        models.Q(created_at__lt=kept_since)
        | models.Q(status__isnull=True, created_at__lt=leased_since)
    )
    deleted, _ = expired.delete()
    return deleted
