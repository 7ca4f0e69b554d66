/*
 * Agents: state, last heartbeat and current mission, live; control actions for
 * operators (pause, resume, kill, restart as this server allows them; Kill asks
 * first). Selecting an agent shows the missions it holds and the last control
 * action taken on it, and by whom.
 */
(function () {
  "use strict";

  const B = window.Brain;
  const { h, api } = B;
  const table = document.getElementById("agents");
  if (!table) return;

  const canControl = table.dataset.canControl === "true";
  const controls = B.config.controls || {};
  const rows = document.getElementById("agent-rows");
  const empty = document.getElementById("agents-empty");
  const summary = document.getElementById("agents-summary");
  const detail = document.getElementById("agent-detail");
  const REFRESH_MS = 15000;
  const agents = new Map(); // agent_id -> agent
  let selected = new URLSearchParams(location.search).get("agent");

  function missionLink(missionId) {
    if (!missionId) return h("span", { class: "muted" }, "–");
    return h("a", { href: B.config.missionUrl.replace("{id}", missionId), class: "mono" }, missionId.slice(0, 8));
  }

  function render(agent) {
    const cells = [
      h("td", {}, h("strong", {}, agent.name), h("div", { class: "muted mono" }, agent.agent_id)),
      h("td", {}, agent.role || "–"),
      h("td", {}, h("span", { class: "state", dataset: { state: agent.state } }, agent.state)),
      h("td", {}, agent.last_heartbeat ? B.ageElement(agent.last_heartbeat) : h("span", { class: "muted" }, "never")),
      h("td", {}, missionLink(agent.current_mission)),
      h("td", {}, ...(agent.capabilities || []).map((c) => h("span", { class: "chip" }, c))),
    ];
    if (canControl) {
      const buttons = Object.entries(controls)
        .filter(([, from]) => from.includes(agent.state))
        .map(([action]) => h("button", { type: "button", dataset: { action } }, action[0].toUpperCase() + action.slice(1)));
      cells.push(h("td", {}, h("div", { class: "actions" }, ...buttons)));
    }
    const attrs = { dataset: { agentId: agent.agent_id, state: agent.state, select: "" } };
    if (agent.agent_id === selected) attrs.class = "selected";
    return h("tr", attrs, ...cells);
  }

  // The selected agent: the missions it holds, the last control action -----------

  // Only the latest request's answer is shown: an earlier one (a refresh of the
  // agent selected before, say) that answers late must not replace it.
  let detailTicket = 0;

  async function showDetail() {
    const ticket = ++detailTicket;
    if (!selected) {
      detail.hidden = true;
      return;
    }
    let agent;
    try {
      agent = await api(`/api/supervisor/agents/${encodeURIComponent(selected)}`);
    } catch (error) {
      if (ticket === detailTicket) B.flash(B.explain(error));
      return;
    }
    if (ticket !== detailTicket) return;
    const held = agent.missions.length
      ? h("ul", { class: "plain", id: "agent-missions" }, ...agent.missions.map((m) =>
          h("li", { dataset: { missionId: m.id } },
            h("a", { href: B.config.missionUrl.replace("{id}", m.id) }, m.name), " ",
            h("span", { class: "muted mono" }, m.id.slice(0, 8)))))
      : h("p", { class: "empty", id: "agent-missions" }, "Holds no mission. It takes one with POST /api/missions/claim when it is healthy or degraded.");
    const control = agent.last_control;
    const last = control
      ? h("p", { id: "agent-last-control" },
          h("strong", {}, control.action), ` by ${control.actor || "an unknown operator"} `,
          B.ageElement(control.at), control.reason ? ` — ${control.reason}` : "",
          h("span", { class: "muted" }, ` (${control.old_state} → ${control.new_state})`))
      : h("p", { class: "empty", id: "agent-last-control" }, "No control action has been taken on this agent.");
    detail.replaceChildren(
      h("h2", {}, agent.name, " ", h("span", { class: "state", dataset: { state: agent.state } }, agent.state)),
      h("h3", {}, "Missions held"), held,
      h("h3", {}, "Last control action"), last,
    );
    detail.dataset.agentId = agent.agent_id;
    detail.hidden = false;
  }

  function select(agentId) {
    selected = agentId;
    const url = new URL(location.href);
    url.searchParams.set("agent", agentId);
    history.replaceState(null, "", url);
    for (const row of rows.children) row.classList.toggle("selected", row.dataset.agentId === agentId);
    showDetail();
  }

  function place(agent) {
    agents.set(agent.agent_id, agent);
    const row = render(agent);
    const existing = rows.querySelector(`tr[data-agent-id="${CSS.escape(agent.agent_id)}"]`);
    if (existing) existing.replaceWith(row);
    else {
      const after = [...rows.children].find((other) => other.dataset.agentId > agent.agent_id);
      rows.insertBefore(row, after || null);
    }
    showSummary();
  }

  function showSummary() {
    const counts = {};
    for (const agent of agents.values()) counts[agent.state] = (counts[agent.state] || 0) + 1;
    summary.textContent = Object.entries(counts)
      .map(([state, n]) => `${n} ${state}`)
      .join(" · ");
    empty.hidden = agents.size > 0;
  }

  async function loadAll() {
    const page = await api("/api/supervisor/agents", { params: { page_size: 500 } });
    rows.replaceChildren();
    agents.clear();
    for (const agent of page.results) place(agent);
    showSummary();
    showDetail();
  }

  const stale = new Set();
  const refresh = B.coalesce(async () => {
    const ids = [...stale];
    stale.clear();
    await Promise.all(ids.map(async (id) => place(await api(`/api/supervisor/agents/${encodeURIComponent(id)}`))));
    if (selected && ids.includes(selected)) showDetail();
  });
  function refreshAgent(id) {
    stale.add(id);
    refresh();
  }

  // Heartbeats change no state, so they send no event: look again now and then.
  setInterval(() => {
    if (document.visibilityState !== "visible") return;
    for (const id of agents.keys()) stale.add(id);
    if (stale.size) refresh();
  }, REFRESH_MS);

  B.live({
    types: "supervisor.agent_registered,supervisor.agent_state_changed,supervisor.agent_controlled,mission.status_changed",
    onSync: loadAll,
    onEvent: async (event) => {
      const payload = event.payload;
      if (event.type.startsWith("supervisor.")) {
        refreshAgent(payload.agent_id);
        return;
      }
      // A claim gives an agent its mission; an ended mission leaves it.
      for (const agent of agents.values()) {
        if (agent.current_mission === payload.mission_id) refreshAgent(agent.agent_id);
      }
      if (payload.new_status === "RUNNING") {
        try {
          const mission = await api(`/api/missions/${payload.mission_id}`);
          if (mission.assigned_agent && agents.has(mission.assigned_agent)) refreshAgent(mission.assigned_agent);
        } catch (error) {
          B.flash(B.explain(error));
        }
      }
    },
  });

  rows.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) {
      const picked = event.target.closest("tr[data-agent-id]");
      if (picked && !event.target.closest("a")) select(picked.dataset.agentId);
      return;
    }
    const row = button.closest("tr");
    const action = button.dataset.action;
    if (
      action === "kill" &&
      !B.confirmAction(
        `Kill agent ${row.dataset.agentId}? Its running missions are marked FAILED and its heartbeats are refused until it is restarted.`
      )
    )
      return;
    for (const other of row.querySelectorAll("button")) other.disabled = true;
    try {
      const result = await api("/api/supervisor/control", {
        method: "POST",
        body: { agent_id: row.dataset.agentId, action: button.dataset.action, reason: "from the dashboard" },
      });
      place(result.agent);
      if (row.dataset.agentId === selected) showDetail();
      B.flash(result.message, "info");
    } catch (error) {
      B.flash(B.explain(error));
      refreshAgent(row.dataset.agentId);
    }
  });
})();
