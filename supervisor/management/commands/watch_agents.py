"""``manage.py watch_agents``: the periodic offline check (``bin/run`` starts it)."""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from brain.events.context import event_context
from supervisor.services import OfflineCheck, agents_mark_offline

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Record as offline, once, every agent past its heartbeat window and fail the "
        "RUNNING missions it held; every SUPERVISOR_CHECK_INTERVAL_SECONDS, forever."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Run a single pass and exit."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between passes (default: SUPERVISOR_CHECK_INTERVAL_SECONDS).",
        )

    def handle(self, *args, once: bool, interval: float | None, **options):
        if once:
            try:
                self.report(self.check_agents())
            except DatabaseError as exc:
                raise CommandError(f"offline check failed: {exc}") from exc
            return
        interval = interval or settings.SUPERVISOR_CHECK_INTERVAL_SECONDS
        while True:
            self.run_pass()
            time.sleep(interval)

    def run_pass(self) -> OfflineCheck | None:
        """One pass; a failure (a database outage) is logged, the next pass retries."""
        try:
            result = self.check_agents()
        except DatabaseError as exc:
            logger.warning("offline check failed, retrying next interval: %s", exc)
            return None
        except Exception:  # noqa: BLE001 - the watcher outlives any one pass
            logger.exception("offline check failed, retrying next interval")
            return None
        self.report(result)
        return result

    def check_agents(self) -> OfflineCheck:
        _drop_unusable_connections()
        with event_context(actor=None):
            return agents_mark_offline()

    def report(self, result: OfflineCheck) -> None:
        if result.marked_offline:
            self.stdout.write(
                f"offline: {', '.join(result.marked_offline)}", self.style.WARNING
            )
        if result.failed_missions:
            self.stdout.write(
                f"failed missions: {', '.join(result.failed_missions)}",
                self.style.WARNING,
            )
        self.stdout.flush()


def _drop_unusable_connections() -> None:
    """Close connections an outage left broken (or too old), as Django does between
    requests, so the next pass reconnects. One inside a transaction is left alone."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()
