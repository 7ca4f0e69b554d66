"""The five credits events (see EVENTS.md)."""

from brain.events import declare

SOURCE = "credits_service"
AGENT_TARGET = "agent_{agent_id}"

CREDITS_HEALTH_CHECKED = declare(
    "credits.health_checked",
    source=SOURCE,
    payload=("status", "checked_at"),
    description="Someone asked the credits service whether it is up.",
)
CREDITS_ALLOCATED = declare(
    "credits.allocated",
    source=SOURCE,
    target=AGENT_TARGET,
    payload=(
        "agent_id",
        "amount",
        "balance",
        "reason",
        "transaction_id",
        "allocated_at",
    ),
    description="Credits were added to an agent's account.",
)
CREDITS_CONSUMED = declare(
    "credits.consumed",
    source=SOURCE,
    target=AGENT_TARGET,
    payload=(
        "agent_id",
        "amount",
        "balance",
        "reason",
        "mission_id",
        "transaction_id",
        "consumed_at",
    ),
    description="An agent spent credits.",
)
CREDITS_REFUNDED = declare(
    "credits.refunded",
    source=SOURCE,
    target=AGENT_TARGET,
    payload=(
        "agent_id",
        "amount",
        "balance",
        "reason",
        "mission_id",
        "transaction_id",
        "refunded_at",
    ),
    description="Credits were given back to an agent.",
)
CREDITS_DEPLETED = declare(
    "credits.depleted",
    source=SOURCE,
    target=AGENT_TARGET,
    payload=("agent_id", "depleted_at"),
    description="A consumption left an agent's balance at exactly zero.",
)
