from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "brain.events"
    label = "events"
    verbose_name = "Charter events"
