from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # The event receiver, the wake-up on new events, the scrape-time metrics.
        from webhooks import signals, triggers  # noqa: F401

        triggers.connect()
