"""The two groups: ``viewers`` watch everything, ``operators`` also act.

A data migration creates the groups; after every ``migrate`` their permissions are
brought up to date with the domain models, so a model added later is covered too.
"""

from django.apps import apps as global_apps

VIEWERS = "viewers"
OPERATORS = "operators"
DOMAIN_APPS = ("missions", "credits", "hardware", "supervisor")
VIEWER_ACTIONS = ("view",)
OPERATOR_ACTIONS = ("view", "add", "change")


def sync_group_permissions(sender=None, apps=global_apps, using="default", **kwargs):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.using(using).filter(
        content_type__app_label__in=(*DOMAIN_APPS, "events")
    )

    def codenames(actions):
        return [p for p in perms if p.codename.split("_", 1)[0] in actions]

    for name, actions in ((VIEWERS, VIEWER_ACTIONS), (OPERATORS, OPERATOR_ACTIONS)):
        group, _ = Group.objects.using(using).get_or_create(name=name)
        wanted = [
            p
            for p in codenames(actions)
            if p.content_type.app_label != "events" or p.codename.startswith("view_")
        ]
        group.permissions.add(*wanted)
