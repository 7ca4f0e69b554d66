"""Sockets stay authorized only while their credentials do.

A socket opened with a token or a session keeps receiving events only while that
token exists, that session is alive and the user is active. Each hub re-checks the
credentials of all its sockets in one pass every ``EVENTS_AUTH_RECHECK_SECONDS``.
"""

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone
from rest_framework.authtoken.models import Token

TOKEN = "token"  # noqa: S105 - an auth method name, not a secret
SESSION = "session"

Credential = tuple[str, str]


def credential_of(scope) -> Credential | None:
    if scope.get("auth_method") == TOKEN:
        return (TOKEN, scope.get("token", "").strip())
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    return (SESSION, key) if key else None


def valid_credentials(credentials: set[Credential]) -> set[Credential]:
    """Which of these credentials still authorize an active user."""
    token_keys = [key for kind, key in credentials if kind == TOKEN]
    session_keys = [key for kind, key in credentials if kind == SESSION]
    valid: set[Credential] = set()
    if token_keys:
        valid |= {
            (TOKEN, key)
            for key in Token.objects.filter(
                key__in=token_keys, user__is_active=True
            ).values_list("key", flat=True)
        }
    if session_keys:
        sessions = Session.objects.filter(
            session_key__in=session_keys, expire_date__gt=timezone.now()
        )
        user_of = {
            s.session_key: s.get_decoded().get("_auth_user_id") for s in sessions
        }
        active = {
            str(pk)
            for pk in get_user_model()
            .objects.filter(pk__in=[u for u in user_of.values() if u], is_active=True)
            .values_list("pk", flat=True)
        }
        valid |= {(SESSION, key) for key, user in user_of.items() if user in active}
    return valid
