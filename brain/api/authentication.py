"""``Authorization: Token <key>`` in one plain query.

DRF's ``TokenAuthentication`` loads the token and its user through the ORM
(``select_related``), about a millisecond of Python per request; this reads the
same row with one SQL statement and builds the user with ``Model.from_db``. The
rules are DRF's: an unknown key or an inactive user is a 401 with DRF's messages,
and nothing is cached, so a deleted token stops working at once on every process.
"""

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def _user_query():
    User = get_user_model()
    fields = User._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(f"u.{quote(field.column)}" for field in fields)
    # Identifiers from the models' metadata, quoted; the key is a parameter.
    token_table, user_table = quote(Token._meta.db_table), quote(User._meta.db_table)
    join = f"u.{quote(User._meta.pk.column)} = t.{quote('user_id')}"
    sql = f"SELECT {columns} FROM {token_table} t JOIN {user_table} u ON {join} WHERE t.{quote('key')} = %s"  # noqa: E501, S608  # nosec B608
    return User, [field.attname for field in fields], sql


class PlainTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        User, attnames, sql = _user_query()
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = User.from_db(connection.alias, attnames, row)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = Token(key=key, user=user)
        token._state.adding = False
        return user, token
