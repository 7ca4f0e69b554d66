"""One JSON error shape across the API, whatever raised the error."""

import logging
import sys

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from redis.exceptions import RedisError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from brain.errors import DomainError

logger = logging.getLogger(__name__)

UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, RedisError)


def _unavailable_detail(exc: BaseException) -> str:
    if isinstance(exc, RedisError):
        return "cache or channel layer unavailable, retry shortly"
    return "database unavailable, retry shortly"


def exception_handler(exc, context):
    """DRF's handler, plus domain errors (their status) and outages (503)."""
    if isinstance(exc, DomainError):
        return Response({"detail": exc.detail, **exc.extra}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    if isinstance(exc, UNAVAILABLE_ERRORS):
        logger.warning("service unavailable: %s", exc)
        return Response(
            {"detail": _unavailable_detail(exc)},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # ``ValidationError("...")`` outside a serializer (a filter, say) renders as
        # a bare list; every error body is an object.
        response.data = {"non_field_errors": response.data}
    return response


def json_error(status_code: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status_code)


def bad_request(request, exception=None):
    return json_error(400, "bad request")


def permission_denied(request, exception=None):
    return json_error(403, "permission denied")


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: JSON like every other error, never Django's HTML page."""
    return json_error(
        403,
        f"CSRF verification failed: {reason or 'no valid token'}; reload the page "
        "and try again",
    )


def page_not_found(request, exception=None):
    return json_error(404, f"not found: {request.path}")


def server_error(request):
    """Django's handler500: JSON, and 503 when a dependency is down."""
    exc = sys.exc_info()[1]
    if (
        isinstance(exc, UNAVAILABLE_ERRORS)
        or isinstance(exc, DatabaseError)
        and ("connect" in str(exc).lower())
    ):
        response = json_error(503, _unavailable_detail(exc))
        response["Retry-After"] = "1"
        return response
    return json_error(500, "internal server error")
