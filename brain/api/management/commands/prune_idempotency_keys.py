from django.core.management.base import BaseCommand

from brain.api.idempotency import idempotency_prune


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key answers older than their retention (24 h)."

    def handle(self, *args, **options):
        deleted = idempotency_prune()
        self.stdout.write(f"deleted {deleted} stored idempotent requests")
