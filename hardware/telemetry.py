"""Robot telemetry on the socket: ``{"action": "state", "robot_id": ..., "ref": ...,
"state": {<the fields of a REST state report>}}``.

The frames of every socket of the process are stored together: a flusher takes
what waits (at most ``HARDWARE_TELEMETRY_BATCH_MAX``) every
``HARDWARE_TELEMETRY_FLUSH_SECONDS`` and stores it in one transaction, one
multi-row INSERT. Each frame is then answered ``{"control": "state_ack", "ref",
"id", "robot_id"}`` — only once its transaction committed, so an acknowledged
report survives ``kill -9`` — or ``{"control": "error", "ref", "detail"}`` naming
what is wrong with it (nothing is stored for it; the others of the batch are).

Events: the socket's reports are announced coalesced, at most one
``hardware.state_reported`` per robot per ``HARDWARE_STATE_EVENT_SECONDS`` (1 s),
with the latest values and how many reports it stands for (``reports``); reports
that arrive within the interval are announced when it ends, even if the robot
stopped. Dashboards want a robot's current state, not 10 events a second; the
whole series is in the state table. A report acknowledged in the last interval
before the server died is stored but may miss its announcement.
"""

import asyncio
import logging
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from rest_framework.exceptions import ValidationError

from brain.access.machines import acting_as
from brain.errors import DomainError
from brain.events.socket_actions import ActionRefused, SocketAction
from hardware import services
from hardware.models import Robot
from hardware.serializers import state_report_validated

logger = logging.getLogger(__name__)


@dataclass
class Waiting:
    user: Any
    robot_id: str
    state: dict
    future: asyncio.Future


def _refusal(detail: str, **extra) -> dict:
    return {"control": "error", "detail": detail, **extra}


class Telemetry:
    """The process's flusher of state frames (one per event loop)."""

    def __init__(self) -> None:
        self.waiting: list[Waiting] = []
        self.wake = asyncio.Event()
        self.flusher: asyncio.Task | None = None
        # Reports stored but not announced yet: robot -> (latest id, count, actor).
        self.unannounced: dict[str, tuple[int, int, str]] = {}
        self.announced_at: dict[str, float] = {}
        # One thread stores every flush, with a connection of its own while busy.
        self.database = ThreadPoolExecutor(1, thread_name_prefix="brain-telemetry")

    async def submit(self, user, message: dict) -> dict:
        robot_id, state = message.get("robot_id"), message.get("state")
        if not isinstance(robot_id, str) or not robot_id:
            raise ActionRefused("robot_id: required, the reporting robot's id")
        if not isinstance(state, dict):
            raise ActionRefused(
                "state: required, an object with the fields of a state report"
            )
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.get_running_loop().create_task(self._flush_loop())
        future = asyncio.get_running_loop().create_future()
        self.waiting.append(Waiting(user, robot_id, state, future))
        if len(self.waiting) >= settings.HARDWARE_TELEMETRY_BATCH_MAX:
            self.wake.set()
        result = await asyncio.shield(future)
        if result["control"] == "error":
            detail = result.pop("detail")
            result.pop("control")
            raise ActionRefused(detail, **result)
        return result

    async def _flush_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(
                    self.wake.wait(), settings.HARDWARE_TELEMETRY_FLUSH_SECONDS
                )
            except TimeoutError:
                pass
            self.wake.clear()
            limit = settings.HARDWARE_TELEMETRY_BATCH_MAX
            batch, self.waiting = self.waiting[:limit], self.waiting[limit:]
            if self.waiting:
                self.wake.set()
            if not batch and not self._announcements_due():
                continue
            try:
                results = await asyncio.get_running_loop().run_in_executor(
                    self.database, self._store_keeping_connection, batch
                )
            except Exception as exc:  # noqa: BLE001 - every frame gets its answer
                logger.exception(
                    "telemetry: storing %d state frames failed", len(batch)
                )
                results = [
                    _refusal(f"not stored ({type(exc).__name__}); send it again")
                ] * len(batch)
            for waiting, result in zip(batch, results, strict=True):
                if not waiting.future.done():
                    waiting.future.set_result(dict(result))

    def _announcements_due(self) -> bool:
        now = time.monotonic()
        interval = settings.HARDWARE_STATE_EVENT_SECONDS
        return any(
            now - self.announced_at.get(robot_id, 0.0) >= interval
            for robot_id in self.unannounced
        )

    # In the database thread ------------------------------------------------------

    def _store_keeping_connection(self, batch: list[Waiting]) -> list[dict]:
        """``_store`` on the flusher's own thread, which keeps its connection while
        frames keep coming: Channels' ``database_sync_to_async`` hands it back to
        the pool and takes it again around every flush (15 % of the process's CPU
        at 1,000 reports/s). It goes back once no frame waits, or on an error."""
        try:
            results = self._store(batch)
        except Exception:
            connections.close_all()
            raise
        if not self.waiting:
            connections.close_all()
        return results

    def _store(self, batch: list[Waiting]) -> list[dict]:
        results: list[dict | None] = [None] * len(batch)
        accepted: list[tuple[int, services.StateReport, str]] = []
        for number, waiting in enumerate(batch):
            try:
                acting_as(waiting.user, "robot", waiting.robot_id, field="robot_id")
                if not waiting.user.has_perm("hardware.add_robotstate"):
                    raise DomainError(
                        "you may not report robot state (hardware.add_robotstate)"
                    )
            except DomainError as exc:
                results[number] = _refusal(exc.detail)
                continue
            try:
                params = state_report_validated(waiting.state, waiting.robot_id)
            except ValidationError as exc:
                errors = exc.detail
                field, problems = next(iter(errors.items()))
                first = problems[0] if isinstance(problems, list) else problems
                results[number] = _refusal(f"state.{field}: {first}", errors=errors)
                continue
            params.pop("robot_id", None)
            report = services.StateReport(robot_id=waiting.robot_id, **params)
            accepted.append((number, report, waiting.user.get_username()))
        known = set(
            Robot.objects.filter(
                pk__in={report.robot_id for _, report, _ in accepted}
            ).values_list("pk", flat=True)
        )
        for number, report, _ in accepted:
            if report.robot_id not in known:
                results[number] = _refusal(
                    f"robot {report.robot_id!r} not found", robot_id=report.robot_id
                )
        accepted = [item for item in accepted if item[1].robot_id in known]
        with transaction.atomic():
            states = services.robot_report_states(
                [report for _, report, _ in accepted], announce=False
            )
            for (number, report, actor), state in zip(accepted, states, strict=True):
                results[number] = {
                    "control": "state_ack",
                    "id": state.pk,
                    "robot_id": report.robot_id,
                }
                latest, count, _ = self.unannounced.get(report.robot_id, (0, 0, ""))
                self.unannounced[report.robot_id] = (
                    state.pk if state.pk > latest else latest,
                    count + 1,
                    actor,
                )
            self._announce()
        return results

    def _announce(self) -> None:
        now = time.monotonic()
        interval = settings.HARDWARE_STATE_EVENT_SECONDS
        due = {
            robot_id: entry
            for robot_id, entry in self.unannounced.items()
            if now - self.announced_at.get(robot_id, 0.0) >= interval
        }
        if not due:
            return
        services.robot_states_announce(
            {robot_id: (latest, count) for robot_id, (latest, count, _) in due.items()},
            actors={robot_id: actor for robot_id, (_, _, actor) in due.items()},
        )
        for robot_id in due:
            del self.unannounced[robot_id]
            self.announced_at[robot_id] = now


_BY_LOOP: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Telemetry]" = (
    weakref.WeakKeyDictionary()
)


async def state_action(user, message: dict) -> dict:
    """The socket action ``state`` (registered in ``HardwareConfig.ready``)."""
    loop = asyncio.get_running_loop()
    telemetry = _BY_LOOP.get(loop)
    if telemetry is None:
        telemetry = _BY_LOOP[loop] = Telemetry()
    return await telemetry.submit(user, message)


STATE_ACTION = SocketAction(
    name="state",
    handler=state_action,
    summary="A robot reports its state (its own token, or an operator's for any "
    "robot). Answered state_ack once stored, or error with the same ref.",
    properties={
        "action": {"const": "state"},
        "robot_id": {"type": "string"},
        "ref": {"type": ["string", "integer"], "description": "echoed in the answer"},
        "state": {
            "type": "object",
            "description": "the fields of POST /api/hardware/robots/{id}/state: "
            "battery_voltage, battery_percentage, motor_states, imu_data, timestamp",
            "required": [
                "battery_voltage",
                "battery_percentage",
                "motor_states",
                "imu_data",
            ],
        },
    },
    required=("action", "robot_id", "state"),
    reply="state_ack",
    reply_summary="The state frame with this ref is stored (committed).",
    reply_properties={
        "control": {"const": "state_ack"},
        "ref": {"type": ["string", "integer", "null"]},
        "id": {"type": "integer", "description": "the stored report's id"},
        "robot_id": {"type": "string"},
    },
)
