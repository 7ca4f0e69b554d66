import os
import re
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


def admin_password_file(database: dict | None = None) -> Path:
    """Where the generated password of this database's ``admin`` is kept.

    One file per database, so a run on PostgreSQL after an embedded one (or on
    another PostgreSQL database) never overwrites the password of the other's admin.
    The embedded default keeps the plain name it always had.
    """
    database = database or settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        name = Path(str(database["NAME"]))
        if name == settings.DATA_DIR / "db.sqlite3":
            return settings.DATA_DIR / "admin_password"
        label = f"sqlite-{name.stem}"
    else:
        vendor = database["ENGINE"].rsplit(".", 1)[-1]
        host = database.get("HOST") or "local"
        port = database.get("PORT") or "default"
        label = f"{vendor}-{host}-{port}-{database.get('NAME')}"
    return (
        settings.DATA_DIR / f"admin_password.{re.sub(r'[^A-Za-z0-9_.-]', '_', label)}"
    )


class Command(BaseCommand):
    help = "Create the 'admin' superuser on first run and say how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args, url: str, **options):
        User = get_user_model()
        password_file = admin_password_file()
        if not User.objects.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser("admin", password=password)
            settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
            # Readable by its owner only, from the first byte.
            fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(password + "\n")
        if password_file.exists():
            where = f"user 'admin', password in {password_file}"
        else:
            where = "your superuser (python manage.py createsuperuser adds one)"
        self.stdout.write(
            f"BRAiN Mission Control: {url}/  admin: {url}/admin/  API docs: "
            f"{url}/api/docs/\nSign in as {where}"
        )
