"""Who may read and who may write.

Reading needs a signed-in user holding the model permissions the view names in
``read_permissions`` (e.g. ``("missions.view_mission",)``: a user allowed to view
missions gets 403 on credits, hardware and supervisor reads). A write needs those
the view names in ``write_permissions`` (e.g. ``("missions.change_mission",)``); a
view that names none is writable by superusers only, so a forgotten declaration
fails closed. Every domain view names its read permission (a test checks it).

A machine token (an agent's or a robot's own, ``brain.access.machines``) writes only
through views that set ``machine_writes = True``; everywhere else its writes are 403,
whatever permissions it holds.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from brain.access.machines import machine_subject


class ReadSignedInWriteModelPerms(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return user.has_perms(getattr(view, "read_permissions", ()))
        if not getattr(view, "machine_writes", False) and machine_subject(user):
            self.message = (
                "a machine token (an agent's or a robot's own) cannot do this; "
                "an operator can"
            )
            return False
        perms = getattr(view, "write_permissions", None)
        if perms is None:
            return user.is_superuser
        return user.has_perms(perms)
