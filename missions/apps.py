from django.apps import AppConfig


class MissionsConfig(AppConfig):
    name = "missions"
    verbose_name = "Missions"

    def ready(self) -> None:
        from missions import signals  # noqa: F401 - connects the event receivers
