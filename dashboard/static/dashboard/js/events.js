/*
 * The live event feed: the newest events first, filtered by type (the filter is in
 * the URL), and a chart of events per minute. Every event shows once, by its seq.
 *
 * The chart counts the whole log over the last 30 minutes: the server counts the
 * events up to the seq the page synced at, the socket adds each later one once.
 */
(function () {
  "use strict";

  const B = window.Brain;
  const { h, api } = B;
  const feed = document.getElementById("feed");
  if (!feed) return;

  const rows = document.getElementById("feed-rows");
  const countEl = document.getElementById("feed-count");
  const emptyEl = document.getElementById("feed-empty");
  const pauseButton = document.getElementById("feed-pause");
  const types = feed.dataset.types || "";
  const unknown = feed.dataset.unknown || "";
  const KEEP_ROWS = 500;
  const HISTORY_SEQS = 2000;
  const MINUTES = 30;
  const MINUTE_MS = 60000;

  const shown = new Map(); // seq -> row
  const counted = new Map(); // minute start (ms) -> events up to `countedThrough`
  let countedThrough = null;
  const perMinute = new Map(); // seq -> minute start (ms), for events after it

  function summary(payload) {
    const text = JSON.stringify(payload);
    return text.length > 240 ? `${text.slice(0, 239)}…` : text;
  }

  /** Links to what the event is about: its mission, agent, robot. */
  function about(event) {
    const payload = event.payload || {};
    const links = [];
    const seen = new Set();
    const add = (kind, id) => {
      if (!id || seen.has(`${kind}_${id}`)) return;
      seen.add(`${kind}_${id}`);
      const url = { mission: B.config.missionUrl, agent: B.config.agentUrl, robot: B.config.robotUrl }[kind];
      const text = kind === "mission" ? `mission ${String(id).slice(0, 8)}` : `${kind} ${id}`;
      links.push(h("a", { href: url.replace("{id}", encodeURIComponent(id)), class: `about ${kind}`, dataset: { kind } }, text));
    };
    const target = /^(mission|agent|robot)_(.+)$/.exec(event.target || "");
    if (target) add(target[1], target[2]);
    add("mission", payload.mission_id);
    add("agent", payload.agent_id);
    add("robot", payload.robot_id);
    if (!links.length) return event.target || "–";
    const cell = h("span", { class: "links" });
    for (const link of links) cell.append(link, " ");
    return cell;
  }

  function rowFor(event) {
    const date = B.toDate(event.timestamp);
    const row = h(
      "tr",
      { dataset: { seq: event.meta.seq, type: event.type }, class: "event", tabindex: "0", "aria-expanded": "false" },
      h("td", { class: "num" }, `#${event.meta.seq}`),
      h("td", { title: B.dateTime(date) }, B.clock(date, { ms: true })),
      h("td", { class: `type module-${event.type.split(".")[0]}` }, event.type),
      h("td", { class: "target" }, about(event)),
      h("td", {}, event.meta.actor || "system"),
      h("td", { class: "payload" }, h("code", {}, summary(event.payload)))
    );
    envelopes.set(event.meta.seq, event);
    return row;
  }

  const envelopes = new Map(); // seq -> the event as it came

  function toggle(row) {
    const next = row.nextElementSibling;
    if (next && next.classList.contains("expanded")) {
      next.remove();
      row.setAttribute("aria-expanded", "false");
      return;
    }
    const event = envelopes.get(Number(row.dataset.seq));
    const cells = row.children.length;
    row.after(
      h(
        "tr",
        { class: "expanded", dataset: { of: row.dataset.seq } },
        h(
          "td",
          { colspan: cells },
          h("div", { class: "expanded-actions" },
            h("button", { type: "button", dataset: { copy: row.dataset.seq } }, "Copy as JSON"),
            h("span", { class: "muted" }, event.meta.event_id || "")),
          h("pre", { class: "json" }, JSON.stringify(event.payload, null, 2))
        )
      )
    );
    row.setAttribute("aria-expanded", "true");
  }

  async function copy(seq, button) {
    const text = JSON.stringify(envelopes.get(seq), null, 2);
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      // Without the clipboard API (an insecure origin): the old way.
      const area = h("textarea", { class: "offscreen" });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    button.textContent = "Copied";
    B.flash(`Event #${seq} copied as JSON.`, "info");
  }

  rows.addEventListener("click", (event) => {
    const copyButton = event.target.closest("button[data-copy]");
    if (copyButton) {
      copy(Number(copyButton.dataset.copy), copyButton);
      return;
    }
    if (event.target.closest("a") || window.getSelection().toString()) return;
    const row = event.target.closest("tr.event");
    if (row) toggle(row);
  });
  rows.addEventListener("keydown", (event) => {
    const row = event.target.closest && event.target.closest("tr.event");
    if (row && event.target === row && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      toggle(row);
    }
  });

  // Pause: new events wait, counted, and arrive in order on Resume.
  let paused = false;
  const held = [];
  function showCount() {
    countEl.textContent = paused && held.length ? `${shown.size} shown · ${held.length} new while paused` : `${shown.size} shown`;
    emptyEl.hidden = shown.size > 0 || held.length > 0;
  }
  pauseButton.addEventListener("click", () => {
    paused = !paused;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    pauseButton.setAttribute("aria-pressed", String(paused));
    feed.dataset.paused = String(paused);
    if (!paused) for (const event of held.splice(0)) add(event);
    showCount();
  });

  function add(event) {
    const seq = event.meta.seq;
    if (countedThrough === null || seq > countedThrough) {
      perMinute.set(seq, Math.floor((event.timestamp * 1000) / MINUTE_MS) * MINUTE_MS);
      chartSoon();
    }
    if (shown.has(seq)) return;
    if (paused) {
      if (!held.some((other) => other.meta.seq === seq)) held.push(event);
      showCount();
      return;
    }
    const row = rowFor(event);
    let before = rows.firstElementChild;
    while (before && (before.classList.contains("expanded") || Number(before.dataset.seq) > seq)) {
      before = before.nextElementSibling;
    }
    rows.insertBefore(row, before);
    shown.set(seq, row);
    while (shown.size > KEEP_ROWS) {
      let oldest = rows.lastElementChild;
      if (oldest.classList.contains("expanded")) {
        oldest.remove();
        oldest = rows.lastElementChild;
      }
      shown.delete(Number(oldest.dataset.seq));
      envelopes.delete(Number(oldest.dataset.seq));
      oldest.remove();
    }
    showCount();
  }

  async function loadRecent(head) {
    const [events, rate] = await Promise.all([
      B.recentEvents({ types, head, window: HISTORY_SEQS }),
      api(B.config.eventsPerMinuteUrl, { params: { types, through: head } }),
    ]);
    counted.clear();
    rate.counts.forEach((count, i) => counted.set(rate.start * 1000 + i * MINUTE_MS, count));
    countedThrough = rate.through;
    for (const seq of perMinute.keys()) if (seq <= countedThrough) perMinute.delete(seq);
    rows.replaceChildren();
    shown.clear();
    envelopes.clear();
    held.length = 0;
    const wasPaused = paused;
    paused = false;
    for (const event of events) add(event);
    paused = wasPaused;
    showCount();
    updateChart();
  }

  // Events per minute -----------------------------------------------------------------

  const rateChart = B.chart(document.getElementById("rate-chart"), {
    type: "bar",
    data: { labels: [], datasets: [{ label: "events", data: [], backgroundColor: "#2563eb" }] },
    options: {
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });

  function updateChart() {
    if (!rateChart) return;
    const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
    const start = now - (MINUTES - 1) * MINUTE_MS;
    const counts = new Array(MINUTES).fill(0);
    for (const [minute, count] of counted) {
      if (minute < start) counted.delete(minute);
      else counts[Math.min(MINUTES - 1, (minute - start) / MINUTE_MS)] += count;
    }
    for (const [seq, minute] of perMinute) {
      if (minute < start) perMinute.delete(seq);
      else counts[Math.min(MINUTES - 1, (minute - start) / MINUTE_MS)] += 1;
    }
    rateChart.data.labels = counts.map((_, i) => B.clock(new Date(start + i * MINUTE_MS)).slice(0, 5));
    rateChart.data.datasets[0].data = counts;
    rateChart.update();
  }
  const chartSoon = B.debounce(updateChart, 300);
  setInterval(updateChart, 20000);

  // Live and filters --------------------------------------------------------------------

  const filters = document.getElementById("event-filters");
  filters.addEventListener("change", () => filters.requestSubmit());

  if (unknown) {
    // Nothing can match: no feed, no chart, the page says why (#unknown-types).
    showCount();
    pauseButton.disabled = true;
    const state = document.getElementById("conn-state");
    state.dataset.state = "idle";
    state.textContent = "not following";
    return;
  }

  B.live({
    types,
    onSync: (_reason, head) => loadRecent(head),
    onEvent: add,
  });
})();
