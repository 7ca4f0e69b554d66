from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate


class AccessConfig(AppConfig):
    name = "brain.access"
    label = "access"
    verbose_name = "Access groups"

    def ready(self) -> None:
        from brain.access.groups import check_domain_apps, sync_group_permissions

        checks.register(check_domain_apps)
        post_migrate.connect(sync_group_permissions, dispatch_uid="brain.access.groups")
