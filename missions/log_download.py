"""A mission's log as a download, streamed in chunks of rows: any size, flat memory.

``text`` is one line per entry (``<time> <LEVEL> <message>`` and the data as JSON
when there is any); ``jsonl`` is one JSON object per line, the API's entry shape.
The rows are read by id in chunks of ``CHUNK_ROWS`` from an async iterator, so the
ASGI server sends each chunk as it is read instead of collecting the whole log.
"""

import json
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from missions.models import MissionLog

CHUNK_ROWS = 2000
MEDIA_TYPES = {"txt": "text/plain; charset=utf-8", "jsonl": "application/jsonl"}


def _stamp(entry: MissionLog) -> str:
    return entry.timestamp.isoformat().replace("+00:00", "Z")


def text_line(entry: MissionLog) -> str:
    line = f"{_stamp(entry)} {entry.level.upper():7} {entry.message}"
    if entry.data:
        line += " " + json.dumps(entry.data, ensure_ascii=False, sort_keys=True)
    return line + "\n"


def json_line(entry: MissionLog) -> str:
    record = {
        "id": entry.id,
        "timestamp": _stamp(entry),
        "level": entry.level,
        "message": entry.message,
        "data": entry.data,
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


async def _lines(entries: QuerySet[MissionLog], fmt: str) -> AsyncIterator[bytes]:
    render = text_line if fmt == "txt" else json_line
    last_id = 0

    def chunk(after: int) -> list[MissionLog]:
        return list(entries.filter(id__gt=after).order_by("id")[:CHUNK_ROWS])

    while True:
        rows = await sync_to_async(chunk)(last_id)
        if not rows:
            return
        last_id = rows[-1].id
        yield "".join(render(row) for row in rows).encode()


def log_download(mission_id, entries: QuerySet[MissionLog], fmt: str):
    response = StreamingHttpResponse(
        _lines(entries, fmt), content_type=MEDIA_TYPES[fmt]
    )
    suffix = "log" if fmt == "txt" else "jsonl"
    response["Content-Disposition"] = (
        f'attachment; filename="mission-{mission_id}.{suffix}"'
    )
    response["Cache-Control"] = "no-store"
    return response
