"""Machine identities: a user that *is* an agent or a robot.

An operator issues an agent or a robot a token of its own (the domain apps' token
endpoints call ``brain.access.machines``). The token belongs to a plain Django user
with a ``MachineIdentity`` naming its subject (``agent_<id>``, ``robot_<id>``): the
core knows subjects, not what an agent or a robot is. Such a user acts only as its
subject, writes only where a view allows machine writes, and follows only its own
subject's events.
"""

from django.conf import settings
from django.db import models


class MachineIdentity(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="machine_identity",
    )
    subject = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "machine identity"
        verbose_name_plural = "machine identities"

    def __str__(self) -> str:
        return self.subject

    @property
    def kind(self) -> str:
        return self.subject.split("_", 1)[0]

    @property
    def ident(self) -> str:
        return self.subject.split("_", 1)[1]
