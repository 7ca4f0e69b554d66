"""Domain errors raised by services, shown as JSON by the API and as messages by admin.

A service refuses an operation by raising one of these; the API's exception handler
turns it into ``{"detail": ..., **extra}`` with the status code, and admin views show
``detail`` as an error message. Services never import DRF.
"""

from typing import Any


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403


class Invalid(DomainError):
    """Input a serializer could not catch (e.g. it needs the database to tell)."""

    status_code = 400
