/*
 * One mission: its details and transition buttons, a timeline from its status
 * history, and its log. The log opens on the newest lines and loads older ones as
 * the reader scrolls up; search and the level filter run on the server (the
 * matches are highlighted); it follows new lines until paused or scrolled up; it
 * downloads as text or JSON Lines; a line's time is a permalink (#line-<id>).
 * Lines are rendered a chunk per animation frame, so a long log never freezes it.
 */
(function () {
  "use strict";

  const B = window.Brain;
  const { h, api } = B;
  const config = B.config;
  const root = document.getElementById("mission");
  if (!root) return;

  const missionId = root.dataset.missionId;
  const canChange = root.dataset.canChange === "true";
  let level = root.dataset.level || "";
  let q = root.dataset.q || "";
  const missionUrl = `/api/missions/${missionId}`;
  const logUrl = `${missionUrl}/log`;
  const PAGE_SIZE = 500; // lines per request after a line (following)
  const TAIL = 300; // lines per request before a line (first load, scrolling up)
  const LINES_PER_FRAME = 250;
  const FOLLOW_SLACK_PX = 30;
  const time = (value) => new Date(value).getTime();
  const agentLink = (agentId) =>
    agentId ? h("a", { href: config.agentUrl.replace("{id}", encodeURIComponent(agentId)) }, agentId) : null;

  // Details -------------------------------------------------------------------------

  const field = (name) => root.querySelector(`[data-field="${name}"]`);
  const actions = document.getElementById("actions");
  let mission = null;

  function showMission(latest) {
    if (mission && time(mission.updated_at) > time(latest.updated_at)) return;
    mission = latest;
    field("name").textContent = mission.name;
    const status = field("status");
    status.textContent = mission.status;
    status.dataset.status = mission.status;
    field("priority").textContent =
      config.priorities[String(mission.priority)] || String(mission.priority);
    field("assigned_agent").replaceChildren(agentLink(mission.assigned_agent) || "unassigned");
    field("created_at").textContent = B.dateTime(B.toDate(mission.created_at));
    field("updated_at").textContent = B.dateTime(B.toDate(mission.updated_at));
    field("description").textContent = mission.description || "–";
    field("data").textContent = JSON.stringify(mission.data, null, 2);
    document.title = `${mission.name} · BRAiN Mission Control`;
    actions.replaceChildren();
    if (!canChange) return;
    for (const to of mission.allowed_transitions) {
      actions.append(
        h(
          "button",
          { type: "button", class: `transition to-${to.toLowerCase()}`, dataset: { to } },
          config.transitionLabels[to] || to
        )
      );
    }
  }

  async function loadMission() {
    showMission(await api(missionUrl));
  }
  const missionSoon = B.coalesce(loadMission);

  actions.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-to]");
    if (!button) return;
    const to = button.dataset.to;
    if (
      (to === "FAILED" || to === "CANCELLED") &&
      !B.confirmAction(`Mark this mission ${to}? A final status cannot be changed.`)
    )
      return;
    for (const other of actions.querySelectorAll("button")) other.disabled = true;
    try {
      showMission(
        await api(`${missionUrl}/status`, { method: "POST", body: { status: button.dataset.to } })
      );
    } catch (error) {
      B.flash(B.explain(error));
      for (const other of actions.querySelectorAll("button")) other.disabled = false;
      missionSoon();
    }
  });

  // Timeline: the status history ---------------------------------------------------

  const history = document.getElementById("history");
  const historyNote = document.getElementById("history-note");
  const timeline = document.getElementById("timeline");
  const timeInStatus = document.getElementById("time-in-status");
  const FINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);
  let changes = [];

  function duration(ms) {
    const seconds = Math.max(0, Math.round(ms / 1000));
    if (seconds < 60) return `${seconds}s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return `${hours}h ${minutes % 60}m`;
    return `${Math.floor(hours / 24)}d ${hours % 24}h`;
  }

  // From the mission's own status history (GET .../history): the event log is pruned,
  // this table is not. Each status lasts until the next change, the last one until
  // now unless it is final.
  function spans() {
    return changes.map((change, i) => {
      const start = time(change.changed_at);
      const next = changes[i + 1];
      const final = !next && FINAL.has(change.new_status);
      const end = next ? time(next.changed_at) : final ? start : Date.now();
      return { change, status: change.new_status, start, end, ongoing: !next && !final };
    });
  }

  function historyRow(span) {
    const change = span.change;
    const created = !change.old_status;
    const by = change.actor
      ? h("span", {}, change.actor)
      : change.agent_id
        ? h("span", {}, "agent ", agentLink(change.agent_id))
        : h("span", { class: "muted" }, "system");
    const lasted = FINAL.has(span.status) && !span.ongoing ? "final" : `${duration(span.end - span.start)}${span.ongoing ? " so far" : ""}`;
    return h(
      "tr",
      { dataset: { change: change.id, status: span.status } },
      h("td", {}, B.dateTime(new Date(change.changed_at))),
      h("td", {}, created ? "–" : change.old_status),
      h("td", {}, h("span", { class: "status-badge", dataset: { status: change.new_status } }, change.new_status)),
      h("td", { title: change.reason || "" }, h("div", {}, by, change.reason ? h("div", { class: "muted reason" }, change.reason) : null)),
      h("td", { class: "lasted", dataset: { ms: String(span.end - span.start) } }, lasted)
    );
  }

  function showTimeline() {
    const all = spans();
    history.replaceChildren(...all.map(historyRow));
    historyNote.hidden = changes.some((change) => !change.old_status);
    const durationEl = field("duration");
    if (!all.length) {
      durationEl.textContent = "–";
      timeline.replaceChildren();
      timeInStatus.replaceChildren();
      return;
    }
    const first = all[0].start;
    const last = all[all.length - 1];
    const total = last.end - first;
    durationEl.textContent = last.ongoing ? `${duration(total)} so far` : duration(total);
    durationEl.dataset.ms = String(total);
    const per = new Map();
    for (const span of all) per.set(span.status, (per.get(span.status) || 0) + (span.end - span.start));
    timeline.replaceChildren(
      ...all
        .filter((span) => span.end > span.start)
        .map((span) =>
          h("span", {
            class: `segment status-${span.status.toLowerCase()}`,
            style: `flex-grow: ${Math.max(1, span.end - span.start)}`,
            title: `${span.status}: ${duration(span.end - span.start)}`,
          })
        )
    );
    timeInStatus.replaceChildren(
      ...[...per].map(([status, ms]) =>
        h("li", { dataset: { status, ms: String(ms) } }, h("span", { class: `dot status-${status.toLowerCase()}` }), ` ${status} `, h("strong", {}, duration(ms)))
      )
    );
  }

  async function loadHistory() {
    changes = await api(`/api/missions/${missionId}/history`);
    showTimeline();
  }
  const historySoon = B.coalesce(loadHistory);
  // An ongoing status's time grows with the clock, not with an event.
  setInterval(() => {
    if (changes.length && document.visibilityState === "visible") showTimeline();
  }, 5000);

  // The log ---------------------------------------------------------------------------

  const logEl = document.getElementById("log");
  const countEl = document.getElementById("log-count");
  const emptyEl = document.getElementById("log-empty");
  const olderButton = document.getElementById("log-older");
  const allButton = document.getElementById("log-all");
  const newerButton = document.getElementById("log-newer");
  const followButton = document.getElementById("log-follow");
  const pauseButton = document.getElementById("log-pause");
  const levelSelect = document.getElementById("log-level");
  const searchInput = document.getElementById("log-q");
  const downloads = {
    txt: document.getElementById("log-download-txt"),
    jsonl: document.getElementById("log-download-jsonl"),
  };

  // What is shown: lines firstId..lastId of those matching the filters.
  let generation = 0; // a filter change starts a new one; older answers are dropped
  let loaded = false;
  let firstId = null;
  let lastId = 0;
  let hasOlder = false;
  let atHead = true; // lastId is the newest matching line (false after a permalink)
  let total = 0;
  let shown = 0;
  let follow = true; // keep the newest line in view
  let paused = false; // the reader paused following
  let unseen = 0;
  let loadingOlder = false;
  let target = null; // the permalinked line id
  const appendQueue = [];
  let appending = false;

  function filters() {
    return { level, q };
  }

  /** The message, with the server's matches ([start, end) in code points) marked. */
  function messageElement(entry) {
    const el = h("span", { class: "msg" });
    if (!entry.matches || !entry.matches.length) {
      el.textContent = entry.message;
      return el;
    }
    const chars = Array.from(entry.message);
    let at = 0;
    for (const [start, end] of entry.matches) {
      if (start > at) el.append(chars.slice(at, start).join(""));
      el.append(h("mark", {}, chars.slice(start, end).join("")));
      at = end;
    }
    if (at < chars.length) el.append(chars.slice(at).join(""));
    return el;
  }

  function lineElement(entry) {
    const date = B.toDate(entry.timestamp);
    const hasData = entry.data && Object.keys(entry.data).length > 0;
    return h(
      "div",
      { class: `line lvl-${entry.level}${entry.id === target ? " target" : ""}`, id: `line-${entry.id}`, dataset: { id: entry.id } },
      h(
        "a",
        { class: "stamp", href: `#line-${entry.id}`, title: `${B.dateTime(date)} · link to this line` },
        h("time", { datetime: date ? date.toISOString() : null }, B.clock(date, { ms: true }))
      ),
      h("span", { class: "lvl" }, entry.level),
      messageElement(entry),
      hasData ? h("span", { class: "data" }, JSON.stringify(entry.data)) : null
    );
  }

  function showCounts() {
    const what = q ? "matching lines" : "lines";
    countEl.textContent = total > shown ? `${shown} of ${total} ${what}` : `${shown} ${what}`;
    countEl.dataset.shown = String(shown);
    countEl.dataset.total = String(total);
    olderButton.hidden = !hasOlder;
    allButton.hidden = !hasOlder;
    newerButton.hidden = atHead;
    const behind = !follow && !paused;
    followButton.hidden = atHead ? !behind : false;
    followButton.textContent = unseen
      ? `Auto-scroll paused · ${unseen} new · jump to latest`
      : atHead ? "Auto-scroll paused · jump to latest" : "Jump to latest";
    pauseButton.textContent = paused ? `Resume follow${unseen ? ` · ${unseen} new` : ""}` : "Pause follow";
    pauseButton.setAttribute("aria-pressed", String(paused));
    logEl.dataset.follow = String(follow && !paused);
    emptyEl.hidden = !loaded || shown > 0 || appendQueue.length > 0;
    if (q) emptyEl.textContent = `No line matches “${q}”${level ? ` at level ${level}` : ""}. Try other words, or clear the search to see the whole log.`;
    else if (level) emptyEl.textContent = `No ${level} line yet. Choose “all” to see every line.`;
    else emptyEl.textContent = "No log line yet. An agent writes them with POST /api/missions/{id}/log.";
  }

  function showDownloads() {
    for (const [format, link] of Object.entries(downloads)) {
      const url = new URL(logUrl, window.location.origin);
      url.searchParams.set("format", format);
      if (level) url.searchParams.set("level", level);
      if (q) url.searchParams.set("q", q);
      link.href = url.pathname + url.search;
    }
  }

  /** Queue lines newer than any shown; they render a chunk per frame. */
  function append(entries) {
    for (const entry of entries) {
      if (entry.id <= lastId) continue;
      lastId = entry.id;
      if (firstId === null) firstId = entry.id;
      appendQueue.push(entry);
    }
    if (!appending && appendQueue.length) {
      appending = true;
      requestAnimationFrame(renderAppends);
    }
  }

  function renderAppends() {
    const batch = appendQueue.splice(0, LINES_PER_FRAME);
    const fragment = document.createDocumentFragment();
    for (const entry of batch) fragment.append(lineElement(entry));
    logEl.append(fragment);
    shown += batch.length;
    if (follow && !paused && atHead) logEl.scrollTop = logEl.scrollHeight;
    else if (loaded && atHead) unseen += batch.length;
    showCounts();
    if (appendQueue.length) requestAnimationFrame(renderAppends);
    else {
      appending = false;
      if (target !== null) revealTarget();
    }
  }

  /** Put older lines above the shown ones, keeping what the reader looks at in place. */
  function prepend(entries) {
    return new Promise((resolve) => {
      let end = entries.length;
      const step = () => {
        const start = Math.max(0, end - LINES_PER_FRAME);
        const fragment = document.createDocumentFragment();
        for (const entry of entries.slice(start, end)) fragment.append(lineElement(entry));
        const heightBefore = logEl.scrollHeight;
        logEl.prepend(fragment);
        logEl.scrollTop += logEl.scrollHeight - heightBefore;
        shown += end - start;
        end = start;
        showCounts();
        if (end > 0) requestAnimationFrame(step);
        else resolve();
      };
      if (end) requestAnimationFrame(step);
      else resolve();
    });
  }

  function reset() {
    generation += 1;
    loaded = false;
    logEl.replaceChildren();
    appendQueue.length = 0;
    firstId = null;
    lastId = 0;
    hasOlder = false;
    atHead = true;
    total = 0;
    shown = 0;
    unseen = 0;
    follow = true;
  }

  /** The newest lines (the first load, and after a filter change). */
  async function loadTail() {
    reset();
    const mine = generation;
    const page = await api(logUrl, { params: { ...filters(), last: TAIL } });
    if (mine !== generation) return;
    total = page.count;
    hasOlder = Boolean(page.previous);
    loaded = true;
    append(page.log);
    showCounts();
  }

  /** The lines around a permalinked one: it, those before it and those after. */
  async function loadAround(id) {
    reset();
    const mine = generation;
    const [upTo, after] = await Promise.all([
      api(logUrl, { params: { ...filters(), last: TAIL / 2, before: id + 1 } }),
      api(logUrl, { params: { ...filters(), after: id, page_size: TAIL / 2 } }),
    ]);
    if (mine !== generation) return;
    total = upTo.count + after.count;
    hasOlder = Boolean(upTo.previous);
    atHead = !after.next;
    follow = false;
    loaded = true;
    append(upTo.log);
    append(after.log);
    showCounts();
  }

  function revealTarget() {
    const el = document.getElementById(`line-${target}`);
    if (!el) return;
    for (const other of logEl.querySelectorAll(".line.target")) other.classList.remove("target");
    el.classList.add("target");
    el.scrollIntoView({ block: "center" });
    follow = false;
    showCounts();
  }

  /** Lines after the newest shown: all of them when at the head, else one page. */
  async function fetchNewer({ onePage = false } = {}) {
    if (!loaded) return;
    const mine = generation;
    for (;;) {
      const page = await api(logUrl, { params: { ...filters(), after: lastId, page_size: PAGE_SIZE } });
      if (mine !== generation) return;
      const before = lastId;
      const fresh = page.log.filter((entry) => entry.id > before);
      append(page.log);
      if (atHead) total += fresh.length;
      if (!page.next) atHead = true;
      showCounts();
      if (!page.next || onePage) break;
    }
  }
  const newerSoon = B.coalesce(() => (atHead ? fetchNewer() : null));

  async function loadOlder() {
    if (loadingOlder || !loaded || !hasOlder) return;
    loadingOlder = true;
    const mine = generation;
    try {
      const page = await api(logUrl, { params: { ...filters(), last: TAIL, before: firstId } });
      if (mine !== generation) return;
      const entries = page.log.filter((entry) => firstId === null || entry.id < firstId);
      if (entries.length) firstId = entries[0].id;
      hasOlder = Boolean(page.previous);
      await prepend(entries);
    } finally {
      loadingOlder = false;
      showCounts();
    }
  }

  async function loadAllOlder() {
    while (hasOlder) {
      const mine = generation;
      const page = await api(logUrl, { params: { ...filters(), last: 1000, before: firstId } });
      if (mine !== generation) return;
      const entries = page.log.filter((entry) => entry.id < firstId);
      if (entries.length) firstId = entries[0].id;
      hasOlder = Boolean(page.previous) && entries.length > 0;
      await prepend(entries);
    }
  }

  const flashError = (error) => B.flash(B.explain(error));

  logEl.addEventListener("scroll", () => {
    const distance = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight;
    const atBottom = distance <= FOLLOW_SLACK_PX;
    if (atBottom !== follow) {
      follow = atBottom && atHead;
      if (follow) unseen = 0;
      showCounts();
    }
    if (logEl.scrollTop < 60 && !follow) loadOlder().catch(flashError);
    if (atBottom && !atHead) fetchNewer({ onePage: true }).catch(flashError);
  });

  async function jumpToLatest() {
    paused = false;
    target = null;
    if (!atHead) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
      await loadTail();
    }
    follow = true;
    unseen = 0;
    logEl.scrollTop = logEl.scrollHeight;
    showCounts();
  }
  followButton.addEventListener("click", () => jumpToLatest().catch(flashError));
  newerButton.addEventListener("click", () => fetchNewer({ onePage: true }).catch(flashError));
  pauseButton.addEventListener("click", () => {
    if (paused) {
      jumpToLatest().catch(flashError);
      return;
    }
    paused = true;
    showCounts();
  });
  olderButton.addEventListener("click", () => loadOlder().catch(flashError));
  allButton.addEventListener("click", async () => {
    allButton.disabled = true;
    try {
      await loadAllOlder();
    } catch (error) {
      flashError(error);
    } finally {
      allButton.disabled = false;
      showCounts();
    }
  });

  // A line's time is its permalink: the address changes, the line stays in view.
  logEl.addEventListener("click", (event) => {
    const stamp = event.target.closest("a.stamp");
    if (!stamp) return;
    event.preventDefault();
    target = Number(stamp.closest(".line").dataset.id);
    const url = `${window.location.pathname}#line-${target}`;
    window.history.replaceState(null, "", url);
    paused = true;
    revealTarget();
    if (navigator.clipboard) navigator.clipboard.writeText(window.location.href).catch(() => {});
  });

  // Filters: in the address, applied by the server.
  function applyFilters() {
    level = levelSelect.value;
    q = searchInput.value.trim();
    const url = new URL(window.location.href);
    url.hash = "";
    for (const [key, value] of Object.entries(filters())) {
      if (value) url.searchParams.set(key, value);
      else url.searchParams.delete(key);
    }
    window.history.replaceState(null, "", url);
    target = null;
    paused = false;
    showDownloads();
    loadTail().catch(flashError);
  }
  levelSelect.addEventListener("change", applyFilters);
  searchInput.addEventListener("input", B.debounce(() => {
    if (searchInput.value.trim() !== q) applyFilters();
  }, 300));
  document.getElementById("log-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    applyFilters();
  });
  showDownloads();

  function permalinked() {
    const match = /^#line-(\d+)$/.exec(window.location.hash);
    return match ? Number(match[1]) : null;
  }
  window.addEventListener("hashchange", () => {
    const id = permalinked();
    if (id === null) return;
    target = id;
    paused = true;
    if (document.getElementById(`line-${id}`)) revealTarget();
    else loadAround(id).catch(flashError);
  });

  // Live ----------------------------------------------------------------------------

  B.live({
    types: "mission.*",
    subject: `mission_${missionId}`,
    onSync: async (reason) => {
      let log;
      if (reason === "initial" && !loaded) {
        target = permalinked();
        if (target !== null) paused = true;
        // Lines written while the first page loaded come with the fetch after it.
        log = (target !== null ? loadAround(target) : loadTail().then(() => fetchNewer()));
      } else {
        log = atHead ? fetchNewer() : Promise.resolve();
      }
      await Promise.all([loadMission(), loadHistory(), log]);
    },
    onEvent: (event) => {
      if (event.type === "mission.status_changed") {
        historySoon();
        missionSoon();
      } else if (event.type === "mission.log_appended") {
        const levels = level ? level.split(",") : null;
        if (!levels || levels.includes(event.payload.log_level)) newerSoon();
      }
    },
  });
})();
