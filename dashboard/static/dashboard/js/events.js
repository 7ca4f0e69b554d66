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
  const types = feed.dataset.types || "";
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

  function rowFor(event) {
    const date = B.toDate(event.timestamp);
    return h(
      "tr",
      { dataset: { seq: event.meta.seq, type: event.type } },
      h("td", { class: "num" }, `#${event.meta.seq}`),
      h("td", { title: B.dateTime(date) }, B.clock(date, { ms: true })),
      h("td", { class: `type module-${event.type.split(".")[0]}` }, event.type),
      h("td", { class: "target" }, event.target || "–"),
      h("td", {}, event.meta.actor || "system"),
      h("td", { class: "payload" }, h("code", {}, summary(event.payload)))
    );
  }

  function add(event) {
    const seq = event.meta.seq;
    if (countedThrough === null || seq > countedThrough) {
      perMinute.set(seq, Math.floor((event.timestamp * 1000) / MINUTE_MS) * MINUTE_MS);
      chartSoon();
    }
    if (shown.has(seq)) return;
    const row = rowFor(event);
    let before = rows.firstElementChild;
    while (before && Number(before.dataset.seq) > seq) before = before.nextElementSibling;
    rows.insertBefore(row, before);
    shown.set(seq, row);
    while (shown.size > KEEP_ROWS) {
      const oldest = rows.lastElementChild;
      shown.delete(Number(oldest.dataset.seq));
      oldest.remove();
    }
    countEl.textContent = `${shown.size} shown`;
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
    for (const event of events) add(event);
    countEl.textContent = `${shown.size} shown`;
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

  B.live({
    types,
    onSync: (_reason, head) => loadRecent(head),
    onEvent: add,
  });

  const filters = document.getElementById("event-filters");
  filters.addEventListener("change", () => filters.requestSubmit());
})();
