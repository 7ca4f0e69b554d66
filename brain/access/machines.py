"""Tokens for agents and robots, and what a request made with one may do.

``machine_token_issue`` gives a subject (``agent_<id>``, ``robot_<id>``) a user of its
own (username ``<kind>:<id>``, no password, holding exactly the permissions the
calling app names) and a fresh DRF token, replacing any earlier one. Deleting the
token (``machine_token_revoke``) revokes it: requests get 401 and open sockets close
with 4401 within ``EVENTS_AUTH_RECHECK_SECONDS``.

A machine user acts only as itself (``acting_as``), writes only through views that
set ``machine_writes = True``, and its event streams are confined to its own
subject (``confined_subject``).
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from rest_framework.authtoken.models import Token

from brain.access.models import MachineIdentity
from brain.errors import Forbidden, Invalid, NotFound


def subject_of(kind: str, ident: str) -> str:
    return f"{kind}_{ident}"


def machine_subject(user) -> str | None:
    """The subject a machine user is, or None for a person (or anonymous)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_machine_subject", ...)
    if cached is not ...:
        return cached
    identity = MachineIdentity.objects.filter(user_id=user.pk).first()
    subject = identity.subject if identity else None
    user._machine_subject = subject
    return subject


def remember_machine_subject(user, subject: str | None) -> None:
    """Record what ``machine_subject`` would read, when the caller already has it
    (token authentication reads it with the token: brain/api/authentication.py)."""
    user._machine_subject = subject


def confined_subject(user) -> str | None:
    """The only subject this user's event streams may follow (None: any)."""
    return machine_subject(user)


def machine_id(user, kind: str) -> str | None:
    """The id this user is as a ``kind`` (agent, robot), or None for a person.

    A machine of another kind is refused: a robot's token is not an agent.
    """
    subject = machine_subject(user)
    if subject is None:
        return None
    own_kind, _, ident = subject.partition("_")
    if own_kind != kind:
        raise Forbidden(
            f"this token belongs to {own_kind} {ident}; it cannot act for a {kind}",
            token_subject=subject,
        )
    return ident


def acting_as(user, kind: str, requested: str | None, *, field: str) -> str:
    """The ``kind`` id a request acts for.

    A machine token acts as itself: ``requested`` may be left out (it is then the
    token's own id) and any other id is a 403. A person (operator, staff) acts on
    behalf of any id and must name it (400 naming ``field`` otherwise).
    """
    own = machine_id(user, kind)
    if own is None:
        if not requested:
            raise Invalid(f"{field}: required", **{field: ["This field is required."]})
        return requested
    if requested and requested != own:
        raise Forbidden(
            f"this token belongs to {kind} {own}; it cannot act as {kind} {requested}",
            **{field: requested},
        )
    return own


@transaction.atomic
def machine_token_issue(
    *, kind: str, ident: str, permissions: Iterable[str], label: str = ""
) -> str:
    """A new token for the subject, replacing (revoking) any earlier one."""
    subject = subject_of(kind, ident)
    User = get_user_model()
    identity = (
        MachineIdentity.objects.select_for_update()
        .select_related("user")
        .filter(subject=subject)
        .first()
    )
    if identity is None:
        user, created = User.objects.get_or_create(
            username=f"{kind}:{ident}", defaults={"first_name": label[:150]}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        identity = MachineIdentity.objects.create(user=user, subject=subject)
    user = identity.user
    user.user_permissions.set(_permissions(permissions))
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user).key


@transaction.atomic
def machine_token_revoke(*, kind: str, ident: str) -> None:
    """Revoke the subject's token (404 if it has none)."""
    subject = subject_of(kind, ident)
    deleted, _ = Token.objects.filter(user__machine_identity__subject=subject).delete()
    if not deleted:
        raise NotFound(f"{kind} {ident} has no token", **{f"{kind}_id": ident})


def machine_token_exists(*, kind: str, ident: str) -> bool:
    return Token.objects.filter(
        user__machine_identity__subject=subject_of(kind, ident)
    ).exists()


def _permissions(names: Iterable[str]) -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in names}
    found = [
        perm
        for perm in Permission.objects.select_related("content_type").filter(
            codename__in=[codename for _, codename in wanted]
        )
        if (perm.content_type.app_label, perm.codename) in wanted
    ]
    if len(found) != len(wanted):
        missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
        raise LookupError(f"unknown permissions: {sorted(missing)}")
    return found
