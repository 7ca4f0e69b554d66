from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "brain.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
