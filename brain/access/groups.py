"""The two groups: ``viewers`` watch everything, ``operators`` also act.

The core names no domain app: the groups cover the apps ``settings.BRAIN_DOMAIN_APPS``
lists by label, plus the event log of ``brain.events``. A data migration creates the
groups; after every ``migrate`` their permissions are brought up to date with the
models of those apps, so a model or an app added later is covered too.
"""

from django.apps import apps as global_apps
from django.conf import settings
from django.core import checks

VIEWERS = "viewers"
OPERATORS = "operators"
# The core's own app: both groups read the event log, neither writes it.
EVENTS_APP = "events"
GROUP_ACTIONS = {VIEWERS: ("view",), OPERATORS: ("view", "add", "change")}


def domain_app_labels() -> tuple[str, ...]:
    return tuple(settings.BRAIN_DOMAIN_APPS)


def sync_group_permissions(sender=None, apps=global_apps, using="default", **kwargs):
    """Add to each group the permissions its actions allow on the covered models.

    Connected to ``post_migrate``; ``apps`` is the migrated state, so this also
    runs inside a migration. Permissions are only added, never taken away.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = list(
        Permission.objects.using(using)
        .filter(content_type__app_label__in=(*domain_app_labels(), EVENTS_APP))
        .select_related("content_type")
    )
    for name, actions in GROUP_ACTIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*(perm for perm in perms if _grants(actions, perm)))


def _grants(actions: tuple[str, ...], perm) -> bool:
    if perm.content_type.app_label == EVENTS_APP:
        actions = ("view",)
    return perm.codename.split("_", 1)[0] in actions


def check_domain_apps(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every label in ``BRAIN_DOMAIN_APPS`` is an installed app."""
    installed = {config.label for config in global_apps.get_app_configs()}
    return [
        checks.Error(
            f"BRAIN_DOMAIN_APPS names {label!r}, which is not an installed app label.",
            hint="Add the app to INSTALLED_APPS or remove it from BRAIN_DOMAIN_APPS.",
            id="access.E001",
        )
        for label in domain_app_labels()
        if label not in installed
    ]
