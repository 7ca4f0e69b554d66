/*
 * One mission: its details and transition buttons, the status history, and a live
 * log tail that follows new lines, pauses when scrolled up and pages back through
 * long logs without freezing (lines are rendered a chunk per animation frame).
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
  const level = root.dataset.level || "";
  const missionUrl = `/api/missions/${missionId}`;
  const logUrl = `${missionUrl}/log`;
  const PAGE_SIZE = 500;
  const LINES_PER_FRAME = 250;
  const FOLLOW_SLACK_PX = 30;
  const time = (value) => new Date(value).getTime();

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
    field("assigned_agent").textContent = mission.assigned_agent || "unassigned";
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

  // Status history ------------------------------------------------------------------

  const history = document.getElementById("history");
  const historyNote = document.getElementById("history-note");

  // From the mission's own status history (GET .../history): the event log is pruned,
  // this table is not.
  function historyRow(change) {
    const created = !change.old_status;
    const who = change.actor || (change.agent_id ? `agent ${change.agent_id}` : "system");
    return h(
      "tr",
      { dataset: { change: change.id } },
      h("td", {}, B.dateTime(new Date(change.changed_at))),
      h("td", {}, created ? "–" : change.old_status),
      h("td", {}, h("span", { class: "status-badge", dataset: { status: change.new_status } }, change.new_status)),
      h("td", { title: change.reason || "" }, who)
    );
  }

  async function loadHistory() {
    const changes = await api(`/api/missions/${missionId}/history`);
    history.replaceChildren(...changes.map(historyRow));
    historyNote.hidden = changes.some((change) => !change.old_status);
  }
  const historySoon = B.coalesce(loadHistory);

  // The log ---------------------------------------------------------------------------

  const logEl = document.getElementById("log");
  const countEl = document.getElementById("log-count");
  const olderButton = document.getElementById("log-older");
  const allButton = document.getElementById("log-all");
  const followButton = document.getElementById("log-follow");

  let firstPage = null; // the lowest page (of PAGE_SIZE) shown; null before the first load
  let firstId = null;
  let lastId = 0;
  let total = 0;
  let shown = 0;
  let follow = true;
  let unseen = 0;
  let loadingOlder = false;
  const appendQueue = [];
  let appending = false;

  function lineElement(entry) {
    const date = B.toDate(entry.timestamp);
    const hasData = entry.data && Object.keys(entry.data).length > 0;
    return h(
      "div",
      { class: `line lvl-${entry.level}`, dataset: { id: entry.id } },
      h("time", { datetime: date ? date.toISOString() : null, title: B.dateTime(date) }, B.clock(date, { ms: true })),
      h("span", { class: "lvl" }, entry.level),
      h("span", { class: "msg" }, entry.message),
      hasData ? h("span", { class: "data" }, JSON.stringify(entry.data)) : null
    );
  }

  function showCounts() {
    countEl.textContent = total > shown ? `${shown} of ${total} lines` : `${shown} lines`;
    countEl.dataset.shown = String(shown);
    countEl.dataset.total = String(total);
    const older = firstPage !== null && firstPage > 1;
    olderButton.hidden = !older;
    allButton.hidden = !older;
    followButton.hidden = follow;
    followButton.textContent = unseen
      ? `Auto-scroll paused · ${unseen} new · jump to latest`
      : "Auto-scroll paused · jump to latest";
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
    if (follow) logEl.scrollTop = logEl.scrollHeight;
    else unseen += batch.length;
    showCounts();
    if (appendQueue.length) requestAnimationFrame(renderAppends);
    else appending = false;
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

  /** The last page of the log (the first load). */
  async function loadLog() {
    const first = await api(logUrl, { params: { page_size: PAGE_SIZE, level } });
    const pages = Math.max(1, Math.ceil(first.count / PAGE_SIZE));
    const last =
      pages > 1 ? await api(logUrl, { params: { page_size: PAGE_SIZE, level, page: pages } }) : first;
    firstPage = pages;
    total = Math.max(first.count, last.count);
    append(last.log);
    showCounts();
  }

  /** Lines after the newest shown, however many arrived. */
  async function fetchNewer() {
    if (firstPage === null) return;
    for (;;) {
      const page = await api(logUrl, { params: { after: lastId, page_size: PAGE_SIZE, level } });
      const before = lastId;
      append(page.log);
      total += page.log.filter((entry) => entry.id > before).length;
      showCounts();
      if (page.log.length < PAGE_SIZE) break;
    }
  }
  const newerSoon = B.coalesce(fetchNewer);

  async function loadOlder() {
    if (loadingOlder || firstPage === null || firstPage <= 1) return;
    loadingOlder = true;
    try {
      const page = await api(logUrl, { params: { page_size: PAGE_SIZE, level, page: firstPage - 1 } });
      firstPage -= 1;
      const entries = page.log.filter((entry) => firstId === null || entry.id < firstId);
      if (entries.length) firstId = entries[0].id;
      await prepend(entries);
    } finally {
      loadingOlder = false;
      showCounts();
    }
  }

  logEl.addEventListener("scroll", () => {
    const distance = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight;
    const atBottom = distance <= FOLLOW_SLACK_PX;
    if (atBottom !== follow) {
      follow = atBottom;
      if (follow) unseen = 0;
      logEl.dataset.follow = String(follow);
      showCounts();
    }
    if (logEl.scrollTop < 60 && !follow) loadOlder().catch((error) => B.flash(B.explain(error)));
  });

  followButton.addEventListener("click", () => {
    follow = true;
    unseen = 0;
    logEl.dataset.follow = "true";
    logEl.scrollTop = logEl.scrollHeight;
    showCounts();
  });

  olderButton.addEventListener("click", () => {
    loadOlder().catch((error) => B.flash(B.explain(error)));
  });

  allButton.addEventListener("click", async () => {
    allButton.disabled = true;
    try {
      while (firstPage > 1) await loadOlder();
    } catch (error) {
      B.flash(B.explain(error));
    } finally {
      allButton.disabled = false;
    }
  });

  document.getElementById("log-level").addEventListener("change", (event) => {
    event.target.form.requestSubmit();
  });

  // Live ----------------------------------------------------------------------------

  B.live({
    types: "mission.*",
    subject: `mission_${missionId}`,
    onSync: async (reason) => {
      // Lines written while the first page loaded come with the fetch after it.
      const log = reason === "initial" && firstPage === null ? loadLog().then(fetchNewer) : fetchNewer();
      await Promise.all([loadMission(), loadHistory(), log]);
    },
    onEvent: (event) => {
      if (event.type === "mission.status_changed") {
        historySoon();
        missionSoon();
      } else if (event.type === "mission.log_appended") {
        if (!level || event.payload.log_level === level) newerSoon();
      }
    },
  });
})();
