"""Sockets stay authorized only while their credentials do.

A socket opened with a token or a session keeps receiving events only while that
token exists, that session is alive and still carries the user's auth hash (a
password change ends it, as it ends the user's other sessions in Django), and the
user is active. Each hub re-checks the credentials of all its sockets in one pass
every ``EVENTS_AUTH_RECHECK_SECONDS``.
"""

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import constant_time_compare
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
        decoded = {s.session_key: s.get_decoded() for s in sessions}
        users = {
            str(user.pk): user
            for user in get_user_model().objects.filter(
                pk__in=[d.get(SESSION_KEY) for d in decoded.values() if d],
                is_active=True,
            )
        }
        valid |= {
            (SESSION, key)
            for key, data in decoded.items()
            if _session_holds(data, users.get(str(data.get(SESSION_KEY))))
        }
    return valid


def _session_holds(data: dict, user) -> bool:
    """Django's own test (``django.contrib.auth.get_user``): the session's auth hash
    is the user's, so a password change ends every other session of the user."""
    if user is None:
        return False
    stored = data.get(HASH_SESSION_KEY) or ""
    if not hasattr(user, "get_session_auth_hash"):
        return True
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(stored, known) for known in hashes)
