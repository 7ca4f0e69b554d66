from django.apps import AppConfig


class HardwareConfig(AppConfig):
    name = "hardware"
    verbose_name = "Hardware"

    def ready(self) -> None:
        from hardware import signals  # noqa: F401 - connects the event receivers
