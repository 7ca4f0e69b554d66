from django.conf import settings
from django.http import JsonResponse


class BodySizeLimitMiddleware:
    """Refuse a request whose declared body is over the limit with 413, unread."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "invalid Content-Length header"}, status=400)
        limit = settings.MAX_REQUEST_BODY_BYTES
        if length > limit:
            return JsonResponse(
                {"detail": f"request body too large: {length} bytes, limit {limit}"},
                status=413,
            )
        return self.get_response(request)


class RefuseNulInUrlMiddleware:
    """Refuse a URL whose path or query holds a NUL character with 400.

    PostgreSQL cannot store or compare text with a NUL in it, so an id or a filter
    value holding one would fail in the database as a server error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return JsonResponse(
                {"detail": "the URL contains a NUL character (%00)"}, status=400
            )
        return self.get_response(request)
