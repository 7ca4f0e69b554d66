from django.apps import AppConfig


class HardwareConfig(AppConfig):
    name = "hardware"
    verbose_name = "Hardware"

    def ready(self) -> None:
        from brain.events.socket_actions import register_action
        from hardware import signals  # noqa: F401 - connects the event receivers
        from hardware.telemetry import STATE_ACTION

        register_action(STATE_ACTION)
