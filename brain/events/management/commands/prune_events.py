from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from brain.events.services import events_prune


class Command(BaseCommand):
    help = "Delete events older than the retention period (EVENTS_RETENTION_DAYS)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.EVENTS_RETENTION_DAYS,
            help="keep this many days (default: EVENTS_RETENTION_DAYS)",
        )

    def handle(self, *args, days: int, **options):
        cutoff = timezone.now() - timedelta(days=days)
        deleted, oldest = events_prune(before=cutoff)
        self.stdout.write(
            f"pruned {deleted} events older than {days} days; oldest seq kept: {oldest}"
        )
