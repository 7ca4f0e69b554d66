"""The one rule for the ids of agents (and any subject id): 1 to 64 letters, digits
or the characters ``_ . : -``. Agents, credit accounts, event subjects and the API's
serializers all use it from here."""

from django.core.validators import RegexValidator

IDENTIFIER_MAX_LENGTH = 64
IDENTIFIER_CHARS = r"[A-Za-z0-9_.:-]{1,64}"
IDENTIFIER_PATTERN = rf"^{IDENTIFIER_CHARS}$"
IDENTIFIER_RULE = "1 to 64 letters, digits or the characters _ . : -"

identifier_validator = RegexValidator(IDENTIFIER_PATTERN, IDENTIFIER_RULE)
