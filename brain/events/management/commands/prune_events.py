from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from brain.events.selectors import log_oldest
from brain.events.services import events_prune


class Command(BaseCommand):
    help = (
        "Delete each event type's events older than its declared retention "
        "(EVENTS_RETENTION_DAYS for types that declare none)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.EVENTS_RETENTION_DAYS,
            help="days kept of types that declare no retention "
            "(default: EVENTS_RETENTION_DAYS)",
        )

    def handle(self, *args, days: int, **options):
        record = events_prune(now=timezone.now(), default_days=days)
        self.stdout.write(
            f"pruned {record.deleted} events (through seq {record.through_seq}); "
            f"oldest seq kept: {log_oldest()}"
        )
