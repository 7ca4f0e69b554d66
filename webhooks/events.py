"""Webhooks events.

`webhooks.endpoint_failing` says that an endpoint kept failing past the retry horizon
(`WEBHOOKS_RETRY_HORIZON_SECONDS`, three days by default): it is marked `failing` and
receives nothing until an operator re-enables it (`PATCH` with `"enabled": true`),
when delivery resumes with the event that failed, so nothing is skipped.

To follow one endpoint, subscribe with `subject=webhook_<id>`.
"""

from pydantic import Field

from brain.events import Payload, declare

SOURCE = "webhooks_service"


class EndpointFailing(Payload):
    endpoint_id: str = Field(description="UUID of the endpoint")
    url: str
    seq: int = Field(description="seq of the event that could not be delivered")
    event_id: str = Field(description="id of that event (its webhook-id)")
    attempts: int = Field(description="attempts made for that event")
    first_failure_at: float = Field(description="Unix seconds of the first attempt")
    last_status: int | None = Field(
        description="HTTP status of the last attempt; null for a network error"
    )


ENDPOINT_FAILING = declare(
    "webhooks.endpoint_failing",
    source=SOURCE,
    payload=EndpointFailing,
    target="webhook_{endpoint_id}",
    retention_days=90,
    read_permission="webhooks.view_endpoint",
    description="An endpoint failed past the retry horizon and was paused.",
    trigger="the last retry of an event within the horizon failed",
)
