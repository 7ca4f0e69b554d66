"""Every event contract, generated from the declarations (``registry.py``).

From ``registered_types()`` come the JSON Schema of each payload and of each whole
envelope (``schemas``), an example of each (``examples``), each app's ``EVENTS.md``
(``docs``; ``python manage.py events_docs`` writes them, a test fails when one is
stale), the AsyncAPI 3.0 document of ``/ws/events/`` (``asyncapi``; ``GET
/api/asyncapi.json``) and the type list of ``GET /api/events/types``. Nothing is
written by hand twice: a declaration changes, every document follows.
"""

from brain.events.contracts.asyncapi import (
    ASYNCAPI_VERSION,
    CLIENT_FRAMES,
    CLOSE_CODES,
    SERVER_FRAMES,
    WS_ADDRESS,
    asyncapi_document,
)
from brain.events.contracts.docs import (
    DOCS_COMMAND,
    declaring_apps,
    events_markdown,
    events_md_path,
)
from brain.events.contracts.examples import example_envelope, example_payload
from brain.events.contracts.schemas import (
    ENVELOPE_KEYS,
    JSON_SCHEMA_DIALECT,
    ContractError,
    envelope_schema,
    json_schema,
    meta_schema,
    payload_schema,
    retention_days,
    subject_rules,
    type_contract,
)

__all__ = [
    "ASYNCAPI_VERSION",
    "CLIENT_FRAMES",
    "CLOSE_CODES",
    "DOCS_COMMAND",
    "ENVELOPE_KEYS",
    "JSON_SCHEMA_DIALECT",
    "SERVER_FRAMES",
    "WS_ADDRESS",
    "ContractError",
    "asyncapi_document",
    "declaring_apps",
    "envelope_schema",
    "events_markdown",
    "events_md_path",
    "example_envelope",
    "example_payload",
    "json_schema",
    "meta_schema",
    "payload_schema",
    "retention_days",
    "subject_rules",
    "type_contract",
]
