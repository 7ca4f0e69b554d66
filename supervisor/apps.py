from django.apps import AppConfig


class SupervisorConfig(AppConfig):
    name = "supervisor"
    verbose_name = "Supervisor"

    def ready(self) -> None:
        from supervisor import signals  # noqa: F401 - connects the event receivers
