"""``Authorization: Token <key>`` in one plain query, machine identity included.

DRF's ``TokenAuthentication`` loads the token and its user through the ORM
(``select_related``), about a millisecond of Python per request; this reads the
same row with one SQL statement and builds the user with ``Model.from_db``. The
rules are DRF's: an unknown key or an inactive user is a 401 with DRF's messages,
and nothing is cached, so a deleted token stops working at once on every process.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from brain.access.machines import remember_machine_subject
from brain.access.models import MachineIdentity


@cache
def _user_query():
    User = get_user_model()
    fields = User._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(f"u.{quote(field.column)}" for field in fields)
    # Identifiers from the models' metadata, quoted; the key is a parameter. The
    # machine identity (brain.access.machines) comes along, so a request made with
    # an agent's or a robot's token needs no second query to know it.
    token_table, user_table = quote(Token._meta.db_table), quote(User._meta.db_table)
    identity_table = quote(MachineIdentity._meta.db_table)
    pk = f"u.{quote(User._meta.pk.column)}"
    sql = (
        f"SELECT {columns}, m.{quote('subject')} FROM {token_table} t "  # noqa: S608  # nosec B608
        f"JOIN {user_table} u ON {pk} = t.{quote('user_id')} "
        f"LEFT JOIN {identity_table} m ON m.{quote('user_id')} = {pk} "
        f"WHERE t.{quote('key')} = %s"
    )
    return User, [field.attname for field in fields], sql


class PlainTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        User, attnames, sql = _user_query()
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = User.from_db(connection.alias, attnames, row[:-1])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        remember_machine_subject(user, row[-1])
        token = Token(key=key, user=user)
        token._state.adding = False
        return user, token
