"""Renderers for downloads that a view streams itself (``?format=txt|jsonl`` or the
``Accept`` header): DRF picks them by content negotiation, and the view answers
with a ``StreamingHttpResponse``. What they render is only an error body (a 400 on
a download request), as readable text."""

import json

from rest_framework.renderers import BaseRenderer


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
