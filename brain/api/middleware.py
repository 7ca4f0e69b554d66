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
