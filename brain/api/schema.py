"""OpenAPI tweaks: each route once, in its documented form without the slash, and
every operation lists the errors the API's plumbing may answer with."""

import re

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import SAFE_METHODS, AllowAny


def drop_trailing_slash_twins(endpoints, **kwargs):
    """Every API route also answers with a trailing slash; document it once."""
    paths = {path for path, *_ in endpoints}
    return [
        endpoint
        for endpoint in endpoints
        if not (endpoint[0].endswith("/") and endpoint[0].rstrip("/") in paths)
    ]


CHOICE_LINE = re.compile(r"^\* `(?P<value>[^`]+)` - (?P<label>.+)$")


def name_integer_enums(result, generator, request, public):
    """Integer choices get their names (``x-enum-varnames``), read from the labels
    drf-spectacular writes in the description (``* `10` - Low``), so a generated
    client says ``Priority.LOW``, not ``VALUE_10``."""
    for schema in result.get("components", {}).get("schemas", {}).values():
        values = schema.get("enum")
        if schema.get("type") != "integer" or not values:
            continue
        labels = {}
        for line in (schema.get("description") or "").splitlines():
            match = CHOICE_LINE.match(line.strip())
            if match:
                labels[match["value"]] = match["label"]
        if all(str(value) in labels for value in values):
            schema["x-enum-varnames"] = [
                re.sub(r"\W+", "_", labels[str(value)]).strip("_").upper()
                for value in values
            ]
    return result


ERROR_COMPONENT = ResolvedComponent(
    name="Error",
    type=ResolvedComponent.SCHEMA,
    object="Error",
    schema={
        "type": "object",
        "description": (
            "`detail` says what went wrong; a 400 may instead name each invalid "
            "field with its messages. Some errors add fields (e.g. `balance`)."
        ),
        "properties": {
            "detail": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}},
                ]
            }
        },
        "additionalProperties": {},
    },
)


IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Send a write once, whatever the retries: the first success is stored for "
        "24 h and replayed (`Idempotent-Replayed: true`) to a repeat with the same "
        "key and body; the same key with another request is 422, a repeat while "
        'the first runs is 409. A bare token or a quoted string (`"..."`).'
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": r"^[\x21\x23-\x7e]+$",
    },
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the errors any view may answer with.

    Authentication, permissions, throttling, parsing, pagination, the body size
    limit and the outage handler answer for every view; a view declares only its
    own outcomes (e.g. 409). An error a view declares without a body gets the
    ``Error`` shape.
    """

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        registry.register_on_missing(ERROR_COMPONENT)
        if method.upper() in ("POST", "PATCH"):
            operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
        responses = operation["responses"]
        for code, description in self._plumbing_errors():
            responses.setdefault(code, {"description": description})
        for code, response in responses.items():
            if code.isdigit() and int(code) >= 400 and "content" not in response:
                response["content"] = {
                    "application/json": {"schema": ERROR_COMPONENT.ref}
                }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _plumbing_errors(self) -> list[tuple[str, str]]:
        public = all(
            isinstance(permission, AllowAny)
            for permission in self.view.get_permissions()
        )
        write = self.method not in SAFE_METHODS
        errors = [("400", "Invalid input: the body names each problem.")]
        if self.view.get_authenticators():
            errors.append(
                ("401", "Not signed in, or an invalid `Authorization: Token` header.")
            )
        if write and not public:
            errors.append(
                ("403", "Signed in without the permission this change needs.")
            )
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            errors.append(("404", "Not found: the body names what (or the page)."))
        if write:
            errors.append(("408", "The request body did not arrive in time."))
            errors.append(
                ("409", "A request with this `Idempotency-Key` is still running.")
            )
            errors.append(("413", "The request body is over the size limit."))
            errors.append(("415", "The request body is not `application/json`."))
            errors.append(
                ("422", "This `Idempotency-Key` was used for another request.")
            )
        errors.append(("429", "Too many requests: retry after `Retry-After` s."))
        errors.append(("503", "The database or Redis is unavailable: retry shortly."))
        return errors
