"""Every way an agent's state changes, in one table: the services enforce it, and
``EVENTS.md`` shows it (generated from ``transition_table``).

Rows are what the agent counts as (its effective state, see ``models``); a killed
agent is ``offline`` with its kill held, so it has a row of its own. A refused step
is a 409 naming the current state.
"""

from typing import NamedTuple

from supervisor.models import AgentState

KILLED = "offline (killed)"
ROWS = (*AgentState.values, KILLED)
HEARTBEAT = "heartbeat"
SILENCE = "silence"


class ControlRule(NamedTuple):
    allowed_from: tuple[str, ...]
    new_state: str
    past_tense: str
    setting: str | None = None
    describes: str = ""


WORKING = (AgentState.HEALTHY, AgentState.DEGRADED)
ALIVE = (AgentState.UNKNOWN, *WORKING)

# The operator's actions: from which rows each is allowed, and what follows.
CONTROL_ACTIONS: dict[str, ControlRule] = {
    "pause": ControlRule(
        ALIVE,
        AgentState.PAUSED,
        "paused",
        describes="no new claims; held missions stay with the agent",
    ),
    "resume": ControlRule(
        (AgentState.PAUSED,),
        "last reported",
        "resumed",
        describes="back to taking work, in the state it last reported",
    ),
    "kill": ControlRule(
        (*ALIVE, AgentState.PAUSED, AgentState.OFFLINE),
        AgentState.OFFLINE,
        "killed",
        setting="SUPERVISOR_ALLOW_KILL",
        describes="its RUNNING missions are FAILED; heartbeats are refused until "
        "restart",
    ),
    "restart": ControlRule(
        ROWS,
        AgentState.UNKNOWN,
        "restarted",
        setting="SUPERVISOR_ALLOW_RESTART",
        describes="clears a pause or a kill; unknown until its next heartbeat, with "
        "a fresh heartbeat window",
    ),
}


def heartbeat_result(row: str, reported: str | None) -> str | None:
    """The state a heartbeat leads to from ``row`` (None: refused).

    ``reported`` is the state the agent sent (healthy or degraded); without one, an
    agent coming from unknown or offline is healthy and a working one keeps its
    state.
    """
    if row == KILLED:
        return None
    if row == AgentState.PAUSED:
        return AgentState.PAUSED
    if reported is not None:
        return reported
    if row in WORKING:
        return row
    return AgentState.HEALTHY


def control_result(action: str, row: str) -> str | None:
    rule = CONTROL_ACTIONS[action]
    if row not in rule.allowed_from:
        return None
    return rule.new_state


def transition_table() -> str:
    """The table, in Markdown, as the services apply it."""
    columns = [HEARTBEAT, *CONTROL_ACTIONS, SILENCE]
    lines = [
        "| counts as | " + " | ".join(f"`{c}`" for c in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for row in ROWS:
        cells = []
        beat = heartbeat_result(row, None)
        cells.append(
            "refused (409)"
            if beat is None
            else "paused (alive)"
            if beat == AgentState.PAUSED
            else "reported state"
        )
        for action in CONTROL_ACTIONS:
            result = control_result(action, row)
            cells.append("refused (409)" if result is None else str(result))
        cells.append("—" if row.startswith(AgentState.OFFLINE) else "offline")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        '"reported state": what the heartbeat reports (`healthy` or `degraded`); '
        "without one, `healthy` coming from `unknown` or `offline`, else unchanged. "
        '"last reported": what the agent last reported.'
    )
    for action, rule in CONTROL_ACTIONS.items():
        lines.append(f"- `{action}`: {rule.describes}.")
    lines.append(
        "- `silence`: no heartbeat for the window "
        "(`SUPERVISOR_HEARTBEAT_WINDOW_SECONDS`): the agent counts as `offline` at "
        "once; a pause is kept and shows again when it beats."
    )
    return "\n".join(lines)
