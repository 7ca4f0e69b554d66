"""Reads of missions and logs: the list, one mission, a log page, the stats."""

import uuid

from django.db.models import Count, Max, QuerySet

from brain.api.fields import parse_uuid
from brain.errors import NotFound
from missions.models import Mission, MissionLog, MissionStatus, MissionStatusChange


def parse_mission_id(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return parse_uuid(value)
    except ValueError:
        raise NotFound(f"mission {value!r} not found: not a UUID") from None


def mission_list() -> QuerySet[Mission]:
    return Mission.objects.all()


def mission_get(mission_id: uuid.UUID | str) -> Mission:
    mission = Mission.objects.filter(pk=parse_mission_id(mission_id)).first()
    if mission is None:
        raise NotFound(f"mission {mission_id} not found")
    return mission


def mission_log(
    mission_id: uuid.UUID | str,
    *,
    levels: list[str] | None = None,
    after: int | None = None,
    before: int | None = None,
    q: str | None = None,
) -> QuerySet[MissionLog]:
    """A mission's log lines in order, filtered by the server: by level (any of
    ``levels``), by id (``after`` < id < ``before``) and by a case-insensitive
    search of the message (``q``)."""
    mission = mission_get(mission_id)
    entries = MissionLog.objects.filter(mission=mission).order_by("id")
    if levels:
        entries = entries.filter(level__in=levels)
    if after is not None:
        entries = entries.filter(id__gt=after)
    if before is not None:
        entries = entries.filter(id__lt=before)
    if q:
        entries = entries.filter(message__icontains=q)
    return entries


def mission_log_tail(entries: QuerySet[MissionLog], last: int) -> tuple[list, bool]:
    """The newest ``last`` of ``entries``, oldest first, and whether older ones
    exist: one query."""
    newest = list(entries.order_by("-id")[: last + 1])
    older = len(newest) > last
    return newest[:last][::-1], older


def mission_status_history(
    mission_id: uuid.UUID | str,
) -> QuerySet[MissionStatusChange]:
    """Every status a mission has had, oldest first, from its own table."""
    mission = mission_get(mission_id)
    return MissionStatusChange.objects.filter(mission=mission).order_by("id")


def mission_counts_by_status() -> dict[str, int]:
    """Missions per status, every status present, in one query over the rows."""
    rows = Mission.objects.order_by().values("status").annotate(n=Count("id"))
    by_status = {status: 0 for status in MissionStatus.values}
    for row in rows:
        by_status[row["status"]] = row["n"]
    return by_status


def mission_stats() -> dict:
    """Counted from the rows on every call, so it can never drift from the data."""
    by_status = mission_counts_by_status()
    last_updated = Mission.objects.aggregate(last=Max("updated_at"))["last"]
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "last_updated": last_updated,
    }
