"""Error pages a person reads: 404, 500 and the sign-in lockout (429), styled.

A browser asking for a page (``Accept: text/html``, outside ``/api/``) gets the
dashboard's own page, which says what happened and what to do; every other client
keeps the API's JSON body (``brain.api.exceptions``). The pages render without the
database or the session, so a 500 caused by an outage still shows.
"""

import math
from datetime import timedelta

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils import timezone

from brain.api import exceptions as api_errors

NOT_FOR_PEOPLE = ("/api/", "/metrics", "/ws/")


def wants_html(request) -> bool:
    if request.path.startswith(NOT_FOR_PEOPLE):
        return False
    return "text/html" in request.headers.get("Accept", "")


def _page(template: str, status: int, context: dict) -> HttpResponse:
    body = loader.get_template(f"errors/{template}").render(context)
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def page_not_found(request, exception=None):
    if not wants_html(request):
        return api_errors.page_not_found(request, exception)
    return _page("404.html", 404, {"path": request.path})


def server_error(request):
    response = api_errors.server_error(request)
    if not wants_html(request):
        return response
    unavailable = response.status_code == 503
    page = _page("500.html", response.status_code, {"unavailable": unavailable})
    if response.has_header("Retry-After"):
        page["Retry-After"] = response["Retry-After"]
    return page


def _retry_at(request, credentials, cool_off: timedelta | None):
    """When the lockout ends: the cool-off after the latest failure it counts."""
    if cool_off is None:
        return None
    username = get_client_username(request, credentials)
    attempts = AccessAttempt.objects.filter(username=username) if username else None
    if attempts is None or not attempts.exists():
        attempts = AccessAttempt.objects.filter(ip_address=request.META["REMOTE_ADDR"])
    latest = attempts.order_by("-attempt_time").values_list("attempt_time", flat=True)
    last = latest.first() or timezone.now()
    return last + cool_off


def lockout(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: 429 with ``Retry-After`` and the time to retry."""
    cool_off = get_cool_off(request)
    retry_at = _retry_at(request, credentials, cool_off)
    seconds = (
        max(1, math.ceil((retry_at - timezone.now()).total_seconds()))
        if retry_at
        else None
    )
    limit = get_failure_limit(request, credentials)
    if wants_html(request):
        response = _page(
            "locked.html",
            429,
            {
                "limit": limit,
                "retry_at": retry_at,
                "minutes": math.ceil(seconds / 60) if seconds else None,
                "seconds": seconds,
            },
        )
    else:
        detail = f"too many failed sign-ins ({limit}): account locked"
        detail += f", retry in {seconds} s" if seconds else ""
        response = JsonResponse(
            {"detail": detail, "retry_after": seconds, "retry_at": retry_at},
            status=429,
        )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
