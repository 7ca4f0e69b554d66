/*
 * One robot: its state, battery over time and commands, live; for operators a drive
 * control. Holding a direction sends a velocity command (again every second while
 * held, so a robot that watches for silence keeps moving) and letting go sends a
 * stop; Stop is always on screen and acts without asking, since stopping is safe.
 * Commands go out one at a time in the order given, so a stop never overtakes the
 * move it ends.
 */
(function () {
  "use strict";

  const B = window.Brain;
  const { h, api } = B;
  const root = document.getElementById("robot");
  if (!root) return;

  const robotId = root.dataset.robotId;
  const canCommand = root.dataset.canCommand === "true";
  const robotUrl = `/api/hardware/robots/${encodeURIComponent(robotId)}`;
  const bounds = B.config.velocityBounds || {};
  const HOLD_REPEAT_MS = 1000;
  const MAX_POINTS = 500;
  const field = (name) => root.querySelector(`[data-field="${name}"]`);
  const fmt = (value) => (typeof value === "number" ? value.toFixed(2) : "–");

  // State -------------------------------------------------------------------------

  function showRobot(robot) {
    const state = robot.state || {};
    const online = robot.online ? "online" : "offline";
    field("name").textContent = robot.name;
    field("online").textContent = online;
    field("online").dataset.state = online;
    const battery = state.battery_percentage;
    field("battery").replaceChildren(
      typeof battery === "number"
        ? h("span", { dataset: { battery } }, `${battery.toFixed(0)}%`, h("span", { class: "muted" }, ` · ${fmt(state.battery_voltage)} V`))
        : h("span", { class: "muted" }, "no report yet")
    );
    field("last_seen").replaceChildren(robot.last_seen ? B.ageElement(robot.last_seen) : "never");
    const command = robot.last_command;
    field("last_command").replaceChildren(
      command
        ? h("span", { class: "mono" }, `(${fmt(command.linear_x)}, ${fmt(command.linear_y)}, ${fmt(command.angular_z)}) ${command.status} `, B.ageElement(command.created_at))
        : h("span", { class: "muted" }, "none")
    );
  }
  const loadRobot = async () => showRobot(await api(robotUrl));
  const robotSoon = B.coalesce(loadRobot);

  const commandRows = document.getElementById("command-rows");
  const commandsEmpty = document.getElementById("commands-empty");
  async function loadCommands() {
    const page = await api(`${robotUrl}/commands`, { params: { page_size: 20 } });
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
    commandsEmpty.hidden = page.results.length > 0;
  }
  const commandsSoon = B.coalesce(loadCommands);

  const batteryChart = B.timeChart(document.getElementById("battery-chart"), {
    label: "battery %",
    color: "#16a34a",
    y: { min: 0, max: 100 },
  });
  const batterySeqs = new Set();
  function addBattery(event) {
    const value = event.payload.battery_percentage;
    if (!batteryChart || batterySeqs.has(event.meta.seq) || typeof value !== "number") return;
    batterySeqs.add(event.meta.seq);
    const points = batteryChart.data.datasets[0].data;
    points.push({ x: event.timestamp * 1000, y: value });
    points.sort((a, b) => a.x - b.x);
    if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS);
  }
  const chartSoon = B.debounce(() => batteryChart && batteryChart.update(), 200);

  async function loadBattery(head) {
    const events = await B.recentEvents({
      types: "hardware.state_reported",
      subject: `robot_${robotId}`,
      head,
      window: 20000,
    });
    for (const event of events) addBattery(event);
    if (batteryChart) batteryChart.update();
  }

  B.live({
    types: "hardware.state_reported,hardware.command_sent,hardware.command_acknowledged",
    subject: `robot_${robotId}`,
    onSync: (_reason, head) => Promise.all([loadRobot(), loadCommands(), loadBattery(head)]),
    onEvent: (event) => {
      robotSoon();
      if (event.type === "hardware.state_reported") {
        addBattery(event);
        chartSoon();
      } else {
        commandsSoon();
      }
    },
  });

  if (!canCommand) return;

  // Driving -------------------------------------------------------------------------

  const driveState = document.getElementById("drive-state");
  const speed = document.getElementById("speed");
  const turn = document.getElementById("turn");
  const limit = (name) => {
    const [low, high] = bounds[name] || [-1, 1];
    return Math.min(Math.abs(low), Math.abs(high));
  };
  speed.max = String(Math.min(limit("linear_x"), limit("linear_y")));
  speed.value = String(Math.min(0.5, Number(speed.max)));
  turn.max = String(limit("angular_z"));
  turn.value = String(Math.min(1, Number(turn.max)));
  const showSpeeds = () => {
    document.getElementById("speed-out").textContent = `${Number(speed.value).toFixed(2)} m/s`;
    document.getElementById("turn-out").textContent = `${Number(turn.value).toFixed(2)} rad/s`;
  };
  speed.addEventListener("input", showSpeeds);
  turn.addEventListener("input", showSpeeds);
  showSpeeds();

  const form = document.getElementById("velocity");
  for (const input of form.querySelectorAll("input[type=number]")) {
    const [low, high] = bounds[input.name] || [-1, 1];
    input.min = String(low);
    input.max = String(high);
  }

  // One command at a time, in order.
  let queue = Promise.resolve();
  function send(velocity, what) {
    const clamp = (name, value) => {
      const [low, high] = bounds[name] || [-1, 1];
      return Math.round(Math.max(low, Math.min(high, value)) * 100) / 100;
    };
    const body = {
      linear_x: clamp("linear_x", velocity[0]),
      linear_y: clamp("linear_y", velocity[1]),
      angular_z: clamp("angular_z", velocity[2]),
    };
    queue = queue
      .then(() => api(`${robotUrl}/command`, { method: "POST", body }))
      .then(() => {
        driveState.textContent = what;
        driveState.dataset.state = body.linear_x || body.linear_y || body.angular_z ? "moving" : "stopped";
      })
      .catch((error) => B.flash(B.explain(error)));
    return queue;
  }

  let holding = null; // {button, timer}
  function velocityOf(button) {
    const [x, y, z] = button.dataset.move.split(",").map(Number);
    const v = Number(speed.value);
    return [x * v, y * v, z * Number(turn.value)];
  }
  function startHold(button) {
    if (holding && holding.button === button) return;
    stopHold(false);
    const velocity = velocityOf(button);
    const what = `moving: ${button.getAttribute("aria-label").toLowerCase()} (${velocity.map(fmt).join(", ")})`;
    button.classList.add("held");
    send(velocity, what);
    holding = { button, timer: setInterval(() => send(velocityOf(button), what), HOLD_REPEAT_MS) };
  }
  function stopHold(sendStop = true) {
    if (!holding) return;
    clearInterval(holding.timer);
    holding.button.classList.remove("held");
    holding = null;
    if (sendStop) send([0, 0, 0], "stopped");
  }

  const pad = document.getElementById("pad");
  pad.addEventListener("pointerdown", (event) => {
    const button = event.target.closest("button[data-move]");
    if (!button || event.button !== 0) return;
    event.preventDefault();
    button.setPointerCapture(event.pointerId);
    startHold(button);
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
    pad.addEventListener(type, () => stopHold());
  }
  pad.addEventListener("contextmenu", (event) => event.preventDefault());

  const KEYS = {
    ArrowUp: "1,0,0",
    ArrowDown: "-1,0,0",
    ArrowLeft: "0,1,0",
    ArrowRight: "0,-1,0",
    q: "0,0,1",
    e: "0,0,-1",
  };
  pad.addEventListener("keydown", (event) => {
    if (event.key === " " || event.key === "Escape") {
      event.preventDefault();
      stopNow();
      return;
    }
    const move = KEYS[event.key];
    if (!move) return;
    event.preventDefault();
    if (!event.repeat) startHold(pad.querySelector(`button[data-move="${move}"]`));
  });
  pad.addEventListener("keyup", (event) => {
    if (KEYS[event.key] && holding && holding.button.dataset.move === KEYS[event.key]) stopHold();
  });
  // A hold ends when the page loses the pointer or the keyboard.
  window.addEventListener("blur", () => stopHold());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") stopHold();
  });

  function stopNow() {
    stopHold(false);
    send([0, 0, 0], "Stop sent").then(() => B.flash(`Stop sent to ${robotId}.`, "info"));
  }
  document.getElementById("stop").addEventListener("click", stopNow);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = ["linear_x", "linear_y", "angular_z"].map((name) => Number(form.elements[name].value));
    send(values, `sent (${values.map(fmt).join(", ")})`);
  });
})();
