"""``manage.py webhooks_worker``: django-tasks' database worker for the webhooks queue,
with several threads, so a slow endpoint holds one thread and never the others.

Run as many as you like, on as many machines: each task is claimed by one worker
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL), and each endpoint's lease keeps
its deliveries to one worker at a time, in ``seq`` order.
"""

import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from webhooks.tasks import QUEUE, schedule_sweep

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Deliver webhooks: django-tasks database workers on the webhooks queue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--threads",
            type=int,
            default=4,
            help="deliveries at once in this process (default: %(default)s)",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=0.5,
            help="seconds between polls of an idle queue (default: %(default)s)",
        )

    def handle(self, *, threads: int, interval: float, **options):
        name = get_random_string(12)
        schedule_sweep()
        workers = [
            Worker(
                queue_names=[QUEUE],
                interval=interval,
                batch=False,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=f"{name}-{n}",
                excluded_queue_names=[],
            )
            for n in range(max(threads, 1))
        ]
        stop = threading.Event()

        def shutdown(signum, frame):
            logger.info("webhooks worker stopping after the running deliveries")
            for worker in workers:
                worker.running = False
            stop.set()

        signal.signal(signal.SIGINT, shutdown)
        signal.signal(signal.SIGTERM, shutdown)
        running = [
            threading.Thread(
                target=self._run_forever, args=(w,), name=w.worker_id, daemon=True
            )
            for w in workers
        ]
        for thread in running:
            thread.start()
        self.stdout.write(f"webhooks worker {name}: {len(workers)} threads")
        self.stdout.flush()
        # Keep one sweep queued whatever happened to the last (idempotent).
        while not stop.wait(settings.WEBHOOKS_SWEEP_SECONDS):
            try:
                schedule_sweep(delay=settings.WEBHOOKS_SWEEP_SECONDS)
            except Exception as exc:  # noqa: BLE001 - the database may be down
                logger.warning("could not queue the webhook sweep: %r", exc)
        for thread in running:
            thread.join(timeout=30)

    @staticmethod
    def _run_forever(worker: Worker) -> None:
        """The library's loop, restarted when the database fails under it."""
        while worker.running:
            try:
                worker.run()
            except Exception:  # noqa: BLE001 - keep the thread serving
                logger.exception("webhooks worker thread failed; restarting in 1 s")
                close_old_connections()
                time.sleep(1.0)
