import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the 'admin' superuser on first run and say how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args, url: str, **options):
        User = get_user_model()
        password_file = settings.DATA_DIR / "admin_password"
        if not User.objects.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser("admin", password=password)
            settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        if password_file.exists():
            where = f"user 'admin', password in {password_file}"
        else:
            where = "your superuser (python manage.py createsuperuser adds one)"
        self.stdout.write(
            f"BRAiN Mission Control: {url}/  admin: {url}/admin/  API docs: "
            f"{url}/api/docs/\nSign in as {where}"
        )
