from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from brain.events.contracts import declaring_apps, events_markdown, events_md_path


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


class Command(BaseCommand):
    help = (
        "Write each app's EVENTS.md from its event declarations (<app>/events.py); "
        "with --check, write nothing and fail if one is stale."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "app_labels",
            nargs="*",
            metavar="app_label",
            help="only these apps (default: every app that declares events)",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit non-zero, listing the stale files, instead of writing",
        )

    def handle(self, *args, app_labels: list[str], check: bool, **options):
        declaring = declaring_apps()
        unknown = sorted(set(app_labels) - set(declaring))
        if unknown:
            raise CommandError(f"declares no event types: {', '.join(unknown)}")
        stale = []
        for label in app_labels or declaring:
            config, _ = declaring[label]
            path = events_md_path(config)
            text = events_markdown(label)
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                self.stdout.write(f"{_shown(path)} is up to date")
            elif check:
                stale.append(_shown(path))
            else:
                path.write_text(text, encoding="utf-8")
                self.stdout.write(f"wrote {_shown(path)}")
        if stale:
            raise CommandError(
                f"stale: {', '.join(stale)}; run `python manage.py events_docs`"
            )
