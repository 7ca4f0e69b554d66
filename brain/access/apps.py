from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccessConfig(AppConfig):
    name = "brain.access"
    label = "access"
    verbose_name = "Access groups"

    def ready(self) -> None:
        from brain.access.groups import sync_group_permissions

        post_migrate.connect(sync_group_permissions, dispatch_uid="brain.access.groups")
