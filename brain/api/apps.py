from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The API's cross-cutting pieces that need Django: stored idempotent responses
    and the security log of sign-in lockouts."""

    name = "brain.api"
    label = "brain_api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from brain.api.signals import log_lockout

        user_locked_out.connect(log_lockout, dispatch_uid="brain_api_log_lockout")
