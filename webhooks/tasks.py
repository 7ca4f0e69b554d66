"""The webhook tasks, run by django-tasks' database backend (``webhooks_worker``).

``deliver_endpoint`` delivers one endpoint's pending events (the endpoint's lease
keeps it to one worker at a time); ``sweep_endpoints`` runs every
``WEBHOOKS_SWEEP_SECONDS`` and wakes endpoints whose wake-up was lost.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from webhooks import services

QUEUE = "webhooks"


@task(queue_name=QUEUE)
def deliver_endpoint(endpoint_id: str) -> str:
    return services.endpoint_deliver(endpoint_id=endpoint_id)


# Finished task rows are kept this long (the attempts are the console, not these).
RESULTS_KEPT = timedelta(days=1)


@task(queue_name=QUEUE, priority=10)
def sweep_endpoints() -> int:
    try:
        woken = services.sweep()
        DBTaskResult.objects.filter(
            queue_name=QUEUE,
            status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
            finished_at__lt=timezone.now() - RESULTS_KEPT,
        ).delete()
    finally:
        schedule_sweep(delay=settings.WEBHOOKS_SWEEP_SECONDS)
    return woken


def schedule_sweep(*, delay: float = 0.0) -> bool:
    """Queue the next sweep unless one is queued: several workers keep one chain."""
    queued = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    if queued.filter(task_path=sweep_endpoints.module_path).exists():
        return False
    sweep_endpoints.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue()
    return True
