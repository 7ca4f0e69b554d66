"""Credits events.

Amounts are strings with exactly 2 decimals (`"12.50"`); `transaction_id` is the
ledger entry's id (an integer, the `transaction_id` the REST call returned).

Order within one change: a consumption to zero emits `credits.consumed`, then
`credits.depleted`, with consecutive `seq` and the same `meta.correlation_id`.

Nothing is emitted when a change is refused or rolled back: insufficient credits
(409), a bad amount or reason (400), an unknown agent (404), a duplicate account
(409), a reused idempotency key with a different amount or kind (409), or a
transaction that rolls back for any other reason. An idempotent replay (same key,
same amount and kind) answers the first result again and emits nothing.

`meta.actor` is the user who made the request (or the admin user); a service called
from the shell or a command with `actor="..."` names that actor, otherwise `null`.
"""

from pydantic import Field

from brain.events import Payload, declare

SOURCE = "credits_service"
AGENT_TARGET = "agent_{agent_id}"
READ = "credits.view_account"
AGENT = ("agent_{agent_id}",)
AGENT_AND_MISSION = ("agent_{agent_id}", "mission_{mission_id}")
LEDGER_DAYS = 365


class HealthChecked(Payload):
    status: str = Field(description='"ok"')
    checked_at: float = Field(description="Unix seconds")


class Movement(Payload):
    agent_id: str
    amount: str = Field(description='two decimals, e.g. "12.50"')
    balance: str = Field(description="the balance after the movement")
    reason: str
    transaction_id: int = Field(description="the ledger entry's id")


class CreditsAllocated(Movement):
    allocated_at: float = Field(description="Unix seconds")


class CreditsConsumed(Movement):
    mission_id: str | None = Field(description="UUID string or null")
    consumed_at: float = Field(description="Unix seconds")


class CreditsRefunded(Movement):
    mission_id: str | None = Field(description="UUID string or null")
    refunded_at: float = Field(description="Unix seconds")


class CreditsDepleted(Payload):
    agent_id: str
    depleted_at: float = Field(
        description="the same instant as that consumption's consumed_at"
    )


CREDITS_HEALTH_CHECKED = declare(
    "credits.health_checked",
    source=SOURCE,
    payload=HealthChecked,
    live_only=True,
    read_permission=READ,
    description="Someone asked the credits service whether it is up.",
    trigger="each GET /api/credits/health",
)
CREDITS_ALLOCATED = declare(
    "credits.allocated",
    source=SOURCE,
    payload=CreditsAllocated,
    target=AGENT_TARGET,
    subjects=AGENT,
    retention_days=LEDGER_DAYS,
    read_permission=READ,
    description="Credits were added to an agent's account.",
    trigger="an allocation (REST, admin action), and an account opened with "
    'initial_credits > 0 (reason "initial credits")',
)
CREDITS_CONSUMED = declare(
    "credits.consumed",
    source=SOURCE,
    payload=CreditsConsumed,
    target=AGENT_TARGET,
    subjects=AGENT_AND_MISSION,
    retention_days=LEDGER_DAYS,
    read_permission=READ,
    description="An agent spent credits.",
    trigger="a consumption",
)
CREDITS_REFUNDED = declare(
    "credits.refunded",
    source=SOURCE,
    payload=CreditsRefunded,
    target=AGENT_TARGET,
    subjects=AGENT_AND_MISSION,
    retention_days=LEDGER_DAYS,
    read_permission=READ,
    description="Credits were given back to an agent.",
    trigger="a refund",
)
CREDITS_DEPLETED = declare(
    "credits.depleted",
    source=SOURCE,
    payload=CreditsDepleted,
    target=AGENT_TARGET,
    subjects=AGENT,
    retention_days=LEDGER_DAYS,
    read_permission=READ,
    description="A consumption left an agent's balance at exactly zero.",
    trigger="right after the credits.consumed whose consumption left the balance "
    "at exactly 0.00",
)
