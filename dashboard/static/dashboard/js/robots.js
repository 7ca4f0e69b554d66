/*
 * Robots: online, battery, last seen and last command, live; a Stop button (a
 * zero-velocity command) for operators; the battery of every robot over time, one
 * line each, and the commands of the robot chosen (kept in the URL as ?robot=).
 * Each robot's own page drives it.
 */
(function () {
  "use strict";

  const B = window.Brain;
  const { h, api } = B;
  const table = document.getElementById("robots");
  if (!table) return;

  const canCommand = table.dataset.canCommand === "true";
  const rows = document.getElementById("robot-rows");
  const empty = document.getElementById("robots-empty");
  const summary = document.getElementById("robots-summary");
  const commandRows = document.getElementById("command-rows");
  const REFRESH_MS = 10000;
  const MAX_POINTS = 500;
  const robots = new Map();
  let selected = new URLSearchParams(window.location.search).get("robot") || "";

  const fmt = (value) => (typeof value === "number" ? value.toFixed(2) : "–");

  function battery(percentage) {
    if (typeof percentage !== "number") return h("span", { class: "muted" }, "–");
    const bar = h("span", { class: percentage < 20 ? "battery low" : "battery" }, h("span", { style: `width: ${Math.max(0, Math.min(100, percentage))}%` }));
    return h("span", { dataset: { battery: percentage } }, bar, `${percentage.toFixed(0)}%`);
  }

  function lastCommand(command) {
    if (!command) return h("span", { class: "muted" }, "none");
    return h(
      "span",
      { class: "mono" },
      `(${fmt(command.linear_x)}, ${fmt(command.linear_y)}, ${fmt(command.angular_z)}) ${command.status} `,
      B.ageElement(command.created_at)
    );
  }

  function render(robot) {
    const state = robot.state || {};
    const online = robot.online ? "online" : "offline";
    const cells = [
      h(
        "td",
        { dataset: { label: "Robot" } },
        h("a", { href: B.config.robotUrl.replace("{id}", encodeURIComponent(robot.robot_id)), class: "robot-link" }, h("strong", {}, robot.name)),
        h("div", { class: "muted mono" }, robot.robot_id)
      ),
      h("td", {}, robot.model),
      h("td", {}, h("span", { class: "state", dataset: { state: online } }, online)),
      h("td", {}, battery(state.battery_percentage)),
      h("td", {}, robot.last_seen ? B.ageElement(robot.last_seen) : h("span", { class: "muted" }, "never")),
      h("td", { class: "last-command" }, lastCommand(robot.last_command)),
    ];
    if (canCommand) {
      cells.push(h("td", {}, h("button", { type: "button", class: "stop", dataset: { stop: robot.robot_id } }, "Stop")));
    }
    const row = h("tr", { dataset: { robotId: robot.robot_id, select: "" } }, ...cells);
    if (robot.robot_id === selected) row.classList.add("selected");
    return row;
  }

  function place(robot) {
    robots.set(robot.robot_id, robot);
    const row = render(robot);
    const existing = rows.querySelector(`tr[data-robot-id="${CSS.escape(robot.robot_id)}"]`);
    if (existing) existing.replaceWith(row);
    else {
      const after = [...rows.children].find((other) => other.dataset.robotId > robot.robot_id);
      rows.insertBefore(row, after || null);
    }
    showSummary();
  }

  function showSummary() {
    const online = [...robots.values()].filter((robot) => robot.online).length;
    summary.textContent = `${online} of ${robots.size} online`;
    empty.hidden = robots.size > 0;
  }

  async function loadAll() {
    const page = await api("/api/hardware/robots", { params: { page_size: 500 } });
    rows.replaceChildren();
    robots.clear();
    for (const robot of page.results) place(robot);
    if (!selected && page.results.length) selected = page.results[0].robot_id;
    showSummary();
  }

  const stale = new Set();
  const refresh = B.coalesce(async () => {
    const ids = [...stale];
    stale.clear();
    await Promise.all(ids.map(async (id) => place(await api(`/api/hardware/robots/${encodeURIComponent(id)}`))));
  });

  // `online` turns false after a silence, which sends no event: look again now and then.
  setInterval(() => {
    if (document.visibilityState === "visible") loadAll().catch((error) => B.flash(B.explain(error)));
  }, REFRESH_MS);

  // The chosen robot ---------------------------------------------------------------

  // Battery of every robot at once: one line per robot.
  const PALETTE = ["#16a34a", "#2563eb", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626"];
  const batteryChart = B.chart(document.getElementById("battery-chart"), {
    type: "line",
    data: { datasets: [] },
    options: {
      parsing: false,
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      scales: {
        x: {
          type: "linear",
          ticks: { maxTicksLimit: 6, callback: (value) => B.clock(new Date(value)).slice(0, 5) },
        },
        y: { min: 0, max: 100 },
      },
    },
  });
  const batterySeqs = new Set();

  function batteryLine(robotId) {
    let line = batteryChart.data.datasets.find((set) => set.label === robotId);
    if (!line) {
      const color = PALETTE[batteryChart.data.datasets.length % PALETTE.length];
      line = { label: robotId, data: [], borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 2, tension: 0.2 };
      batteryChart.data.datasets.push(line);
      batteryChart.data.datasets.sort((a, b) => (a.label < b.label ? -1 : 1));
    }
    return line;
  }

  function addBattery(event) {
    if (!batteryChart || batterySeqs.has(event.meta.seq)) return;
    const value = event.payload.battery_percentage;
    if (typeof value !== "number") return;
    batterySeqs.add(event.meta.seq);
    const points = batteryLine(event.payload.robot_id).data;
    points.push({ x: event.timestamp * 1000, y: value });
    if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS);
  }
  const chartSoon = B.debounce(() => batteryChart && batteryChart.update(), 200);

  async function loadBattery(head) {
    if (!batteryChart) return;
    const events = await B.recentEvents({ types: "hardware.state_reported", head, window: 20000 });
    batterySeqs.clear();
    batteryChart.data.datasets = [];
    for (const event of events) addBattery(event);
    for (const line of batteryChart.data.datasets) line.data.sort((a, b) => a.x - b.x);
    batteryChart.update();
  }

  async function loadSelected() {
    document.getElementById("commands-robot").textContent = selected ? `· ${selected}` : "";
    commandRows.replaceChildren();
    if (!selected) return;
    await loadCommands();
  }

  async function loadCommands() {
    if (!selected) return;
    const page = await api(`/api/hardware/robots/${encodeURIComponent(selected)}/commands`, { params: { page_size: 10 } });
    commandRows.replaceChildren(
      ...page.results.map((command) =>
        h(
          "tr",
          { dataset: { commandId: command.command_id } },
          h("td", {}, B.ageElement(command.created_at)),
          h("td", { class: "num" }, fmt(command.linear_x)),
          h("td", { class: "num" }, fmt(command.linear_y)),
          h("td", { class: "num" }, fmt(command.angular_z)),
          h("td", {}, command.status),
          h("td", {}, command.sent_by || "–")
        )
      )
    );
  }
  const commandsSoon = B.coalesce(loadCommands);

  // Live ----------------------------------------------------------------------------

  B.live({
    types: "hardware.state_reported,hardware.command_sent,hardware.command_acknowledged",
    onSync: async (_reason, head) => {
      await loadAll();
      await Promise.all([loadSelected(), loadBattery(head)]);
      for (const row of rows.children) row.classList.toggle("selected", row.dataset.robotId === selected);
    },
    onEvent: (event) => {
      const id = event.payload.robot_id;
      stale.add(id);
      refresh();
      if (event.type === "hardware.state_reported") {
        addBattery(event);
        chartSoon();
      } else if (id === selected) {
        commandsSoon();
      }
    },
  });

  rows.addEventListener("click", async (event) => {
    const stop = event.target.closest("button[data-stop]");
    if (stop) {
      if (!B.confirmAction(`Stop robot ${stop.dataset.stop}? It gets a zero-velocity command now.`)) return;
      stop.disabled = true;
      try {
        await api(`/api/hardware/robots/${encodeURIComponent(stop.dataset.stop)}/command`, {
          method: "POST",
          body: { linear_x: 0, linear_y: 0, angular_z: 0 },
        });
        B.flash(`Stop sent to ${stop.dataset.stop}.`, "info");
      } catch (error) {
        B.flash(B.explain(error));
      } finally {
        stop.disabled = false;
      }
      return;
    }
    const row = event.target.closest("tr[data-robot-id]");
    if (!row || event.target.closest("a, button") || row.dataset.robotId === selected) return;
    selected = row.dataset.robotId;
    const url = new URL(window.location.href);
    url.searchParams.set("robot", selected);
    window.history.replaceState(null, "", url);
    for (const other of rows.children) other.classList.toggle("selected", other === row);
    try {
      await loadSelected();
    } catch (error) {
      B.flash(B.explain(error));
    }
  });
})();
