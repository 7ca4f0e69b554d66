"""Thin page views: each renders a shell; the browser loads data over REST and events.

Every page reads through the same REST API and ``/ws/events/`` an integrator uses, so
the dashboard shows nothing the API would not. The server decides which controls a
user gets from their model permissions; the API refuses the writes anyway.
"""

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from brain.errors import NotFound
from brain.events.filters import EventFilter, FilterError
from brain.events.registry import registered_types
from credits.serializers import LedgerEntrySerializer
from dashboard import selectors
from hardware import selectors as hardware_selectors
from hardware.models import VELOCITY_BOUNDS
from missions import selectors as mission_selectors
from missions.models import LogLevel, MissionPriority, MissionStatus
from supervisor.transitions import CONTROL_ACTIONS

# The labels of the buttons that move a mission to a status.
TRANSITION_LABELS = {
    MissionStatus.RUNNING: "Start",
    MissionStatus.COMPLETED: "Complete",
    MissionStatus.FAILED: "Fail",
    MissionStatus.CANCELLED: "Cancel",
}

_ID_PLACEHOLDER = uuid.UUID(int=0)

# The events-per-minute chart's span, and how many transactions the credits page lists.
RATE_MINUTES = 30
TRANSACTIONS_DEFAULT = 50
TRANSACTIONS_MAX = 200

# Any one of these makes a user more than a watcher.
WRITE_PERMISSIONS = (
    "missions.add_mission",
    "missions.change_mission",
    "hardware.add_robotcommand",
    "supervisor.change_agent",
    "credits.add_ledgerentry",
)


def _render(request, template: str, page: str, *, config=None, **context):
    user = request.user
    context.update(
        page=page,
        read_only=not any(user.has_perm(perm) for perm in WRITE_PERMISSIONS),
        config={
            **(config or {}),
            "statuses": MissionStatus.values,
            "transitionLabels": {str(k): v for k, v in TRANSITION_LABELS.items()},
            "priorities": {str(p.value): p.label for p in MissionPriority},
            "missionUrl": reverse("dashboard:mission", args=[_ID_PLACEHOLDER]).replace(
                str(_ID_PLACEHOLDER), "{id}"
            ),
            "robotUrl": reverse("dashboard:robot", args=["x"]).replace("/x/", "/{id}/"),
            "agentUrl": reverse("dashboard:agents") + "?agent={id}",
        },
    )
    return render(request, f"dashboard/{template}", context)


@login_required
def board(request):
    selected = [s for s in request.GET.getlist("status") if s in MissionStatus.values]
    return _render(
        request,
        "board.html",
        "board",
        statuses=MissionStatus.values,
        selected_statuses=selected,
        search=request.GET.get("search", ""),
        priorities=MissionPriority.choices,
        can_add=request.user.has_perm("missions.add_mission"),
        can_change=request.user.has_perm("missions.change_mission"),
    )


@login_required
def mission_detail(request, mission_id):
    try:
        mission = mission_selectors.mission_get(mission_id)
    except NotFound:
        raise Http404(f"mission {mission_id} not found") from None
    level = request.GET.get("level", "")
    level_choices = [(value, value) for value in LogLevel.values]
    level_choices.append(("warning,error", "warnings and errors"))
    return _render(
        request,
        "mission.html",
        "mission",
        mission=mission,
        level_choices=level_choices,
        level=level if level in dict(level_choices) else "",
        q=request.GET.get("q", "")[:200],
        log_url=reverse("mission-log", args=[mission.id]),
        can_change=request.user.has_perm("missions.change_mission"),
    )


@login_required
def event_feed(request):
    declared = sorted(registered_types())
    modules: dict[str, list[str]] = {}
    for name in declared:
        modules.setdefault(name.split(".", 1)[0], []).append(name)
    known = {*declared, *(f"{module}.*" for module in modules)}
    asked = [
        t.strip()
        for value in request.GET.getlist("types")
        for t in value.split(",")
        if t.strip()
    ]
    selected = [t for t in asked if t in known]
    # An unknown type is named, and the feed stays empty: showing every event would
    # pass a typo off as "nothing happened" or as "everything matched".
    unknown = [t for t in asked if t not in known]
    return _render(
        request,
        "events.html",
        "events",
        modules=modules,
        selected_types=selected,
        unknown_types=unknown,
        config={"eventsPerMinuteUrl": reverse("dashboard:events-per-minute")},
    )


@login_required
def agents(request):
    # The actions this server allows, and from which states (the API decides anyway).
    controls = {
        action: [str(state) for state in rule.allowed_from]
        for action, rule in CONTROL_ACTIONS.items()
        if not rule.setting or getattr(settings, rule.setting)
    }
    return _render(
        request,
        "agents.html",
        "agents",
        can_control=request.user.has_perm("supervisor.change_agent"),
        config={"controls": controls},
    )


@login_required
def robots(request):
    return _render(
        request,
        "robots.html",
        "robots",
        can_command=request.user.has_perm("hardware.add_robotcommand"),
    )


@login_required
def robot_detail(request, robot_id):
    """One robot: its state, battery and commands, and a drive control for operators."""
    try:
        robot = hardware_selectors.robot_get(robot_id)
    except NotFound:
        raise Http404(f"robot {robot_id} not found") from None
    return _render(
        request,
        "robot.html",
        "robots",
        robot=robot,
        can_command=request.user.has_perm("hardware.add_robotcommand"),
        velocity_fields=[
            ("linear_x", "linear x (m/s, forward)"),
            ("linear_y", "linear y (m/s, left)"),
            ("angular_z", "angular z (rad/s, left)"),
        ],
        # The bounds the API enforces on each velocity field (every model today).
        config={
            "velocityBounds": {
                name: list(bounds) for name, bounds in VELOCITY_BOUNDS.items()
            }
        },
    )


@login_required
def credits(request):
    return _render(
        request,
        "credits.html",
        "credits",
        config={
            "transactionsUrl": reverse("dashboard:credit-transactions"),
            "keepTransactions": TRANSACTIONS_DEFAULT,
        },
    )


# Data for the charts and tables, as JSON -----------------------------------------


def _bad_request(field: str, message: str) -> JsonResponse:
    return JsonResponse({field: [message]}, status=400)


def _int_param(request, name: str, *, default=None, low=0, high=None):
    """A whole number from the query string within bounds; ``ValueError`` if not."""
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    value = int(raw)
    if value < low or (high is not None and value > high):
        raise ValueError(name)
    return value


@login_required
@require_safe
def events_per_minute(request):
    """Events per minute over the last 30 minutes, of the feed's types: ``?types=``.

    ``?through=<seq>`` counts only events up to that seq; the page adds the later
    ones as its socket delivers them.
    """
    try:
        event_filter = EventFilter.parse(request.GET.get("types", ""), None)
    except FilterError as exc:
        return _bad_request(*str(exc).split(": ", 1))
    try:
        through = _int_param(request, "through")
    except ValueError:
        return _bad_request("through", "expected a seq (a whole number, 0 or more)")
    start, counts = selectors.events_per_minute(
        now=timezone.now(),
        minutes=RATE_MINUTES,
        event_filter=event_filter,
        through_seq=through,
    )
    return JsonResponse(
        {"start": start.timestamp(), "through": through, "counts": counts}
    )


@login_required
@require_safe
def credit_transactions(request):
    """The latest ledger entries of every account, newest first: ``?limit=``."""
    try:
        limit = _int_param(
            request, "limit", default=TRANSACTIONS_DEFAULT, low=1, high=TRANSACTIONS_MAX
        )
    except ValueError:
        return _bad_request(
            "limit", f"expected a whole number from 1 to {TRANSACTIONS_MAX}"
        )
    entries = selectors.ledger_latest(limit=limit)
    return JsonResponse(
        {"transactions": LedgerEntrySerializer(entries, many=True).data}
    )
