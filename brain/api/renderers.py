"""Renderers for downloads that a view streams itself (``?format=txt|jsonl`` or the
``Accept`` header): DRF picks them by content negotiation, and the view answers
with a ``StreamingHttpResponse``. An error on a download request is JSON, as
everywhere in the API (``json_errors``), whatever the download's format."""

import json

from rest_framework.renderers import BaseRenderer, JSONRenderer


def json_errors(response):
    """For ``finalize_response``: a 4xx/5xx body in JSON, as the schema documents,
    even when the request asked for a download format."""
    if response.status_code >= 400 and isinstance(
        getattr(response, "accepted_renderer", None), _ErrorText
    ):
        response.accepted_renderer = JSONRenderer()
        response.accepted_media_type = JSONRenderer.media_type
    return response


class _ErrorText(BaseRenderer):
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return (json.dumps(data, ensure_ascii=False) + "\n").encode()


class PlainTextRenderer(_ErrorText):
    media_type = "text/plain"
    format = "txt"


class JSONLinesRenderer(_ErrorText):
    media_type = "application/jsonl"
    format = "jsonl"
