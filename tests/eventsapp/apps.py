from django.apps import AppConfig


class EventsAppConfig(AppConfig):
    """A model that exists only in the test suite, to prove the event core alone."""

    name = "tests.eventsapp"
    label = "eventsapp"

    def ready(self) -> None:
        from tests.eventsapp import signals  # noqa: F401
