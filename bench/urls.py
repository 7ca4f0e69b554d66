"""The app's URLs plus ``/bench/plain``: scenario 3's baseline, a plain JSON view."""

from django.http import JsonResponse
from django.urls import path

from brain.urls import (  # noqa: F401 - Django reads the handlers from ROOT_URLCONF
    handler400,
    handler403,
    handler404,
    handler500,
)
from brain.urls import urlpatterns as app_urlpatterns


def plain(request):
    """Django's full middleware stack, no DRF, no database: the REST baseline."""
    return JsonResponse({"status": "ok", "service": "bench"})


urlpatterns = [path("bench/plain", plain, name="bench-plain"), *app_urlpatterns]
