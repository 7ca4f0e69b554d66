/*
 * The missions board: one column per status, cards that move as missions change,
 * a create form and the transition buttons each mission allows.
 */
(function () {
  "use strict";

  const B = window.Brain;
  const { h, api } = B;
  const config = B.config;
  const board = document.getElementById("board");
  if (!board) return;

  const canChange = board.dataset.canChange === "true";
  const query = new URLSearchParams(window.location.search);
  const search = (query.get("search") || "").trim();
  const searchTerms = search.toLowerCase().split(/[\s,]+/).filter(Boolean);
  const PAGE_SIZE = 50;
  const filtered = Boolean(search) || query.getAll("status").length > 0;
  let loaded = false; // the columns' counts are known (after the first load)

  const columns = {};
  for (const el of board.querySelectorAll("[data-column]")) {
    columns[el.dataset.column] = {
      el,
      list: el.querySelector("[data-cards]"),
      count: el.querySelector("[data-count]"),
      more: el.querySelector("[data-more]"),
      empty: el.querySelector("[data-empty]"),
      total: 0,
      next: null,
    };
  }

  /** The newest version of every mission seen, whichever way it arrived. */
  const known = new Map();
  /** The card on the board for a mission id. */
  const cards = new Map();

  const time = (value) => new Date(value).getTime();

  /** Keep the newer of two versions of a mission (by `updated_at`). */
  function remember(mission) {
    const current = known.get(mission.id);
    if (current && time(current.updated_at) > time(mission.updated_at)) return current;
    known.set(mission.id, mission);
    return mission;
  }

  function matchesSearch(mission) {
    const name = mission.name.toLowerCase();
    const description = (mission.description || "").toLowerCase();
    return searchTerms.every((term) => name.includes(term) || description.includes(term));
  }

  function renderCard(mission) {
    const agent = mission.assigned_agent;
    const card = h(
      "li",
      { class: "mission-card", dataset: { missionId: mission.id, status: mission.status } },
      h("a", { class: "name", href: config.missionUrl.replace("{id}", mission.id) }, mission.name),
      h(
        "div",
        { class: "meta" },
        h(
          "span",
          { class: `priority p${mission.priority}` },
          config.priorities[String(mission.priority)] || mission.priority
        ),
        agent
          ? h("a", { class: "agent", href: config.agentUrl.replace("{id}", encodeURIComponent(agent)) }, agent)
          : h("span", { class: "agent none" }, "unassigned"),
        B.ageElement(mission.created_at)
      )
    );
    if (canChange && mission.allowed_transitions.length) {
      const actions = h("div", { class: "actions" });
      for (const status of mission.allowed_transitions) {
        actions.append(
          h(
            "button",
            { type: "button", class: `transition to-${status.toLowerCase()}`, dataset: { to: status } },
            config.transitionLabels[status] || status
          )
        );
      }
      card.append(actions);
    }
    return card;
  }

  function showCount(column) {
    const count = Math.max(column.total, column.list.children.length);
    column.count.textContent = String(count);
    column.more.hidden = !column.next;
    column.empty.hidden = count > 0 || !loaded;
    chartSoon();
  }

  /** The status a mission left, for missions whose card was not on the board. */
  const movedFrom = new Map();

  /**
   * Put a mission where it belongs now, newest first within its column.
   * `loaded` marks missions from a page load: already counted, and in order.
   */
  function place(incoming, { loaded = false } = {}) {
    const mission = remember(incoming);
    const existing = cards.get(mission.id);
    const target = columns[mission.status];
    const visible = Boolean(target) && matchesSearch(mission);
    const left = movedFrom.get(mission.id);
    movedFrom.delete(mission.id);
    if (!existing && !loaded && left && left !== mission.status && columns[left]) {
      if (matchesSearch(mission)) {
        columns[left].total -= 1;
        showCount(columns[left]);
      }
    }
    if (existing) {
      const from = existing.dataset.status;
      existing.remove();
      cards.delete(mission.id);
      if (from !== mission.status && columns[from]) {
        columns[from].total -= 1;
        showCount(columns[from]);
      }
      if (from !== mission.status && visible) target.total += 1;
    } else if (visible && !loaded) {
      target.total += 1;
    }
    if (!visible) return;
    const created = time(mission.created_at);
    let before = null;
    for (const other of target.list.children) {
      const otherCreated = time(known.get(other.dataset.missionId).created_at);
      if (otherCreated < created) {
        before = other;
        break;
      }
    }
    if (!before && target.next && !loaded) {
      showCount(target); // older than what is shown: "Show more" brings it
      return;
    }
    const card = renderCard(mission);
    target.list.insertBefore(card, before);
    cards.set(mission.id, card);
    showCount(target);
  }

  function forget(missionId) {
    const card = cards.get(missionId);
    if (!card) return;
    const column = columns[card.dataset.status];
    card.remove();
    cards.delete(missionId);
    if (column) {
      column.total -= 1;
      showCount(column);
    }
  }

  async function fetchColumn(status, url) {
    if (url) return api(url);
    return api("/api/missions", {
      params: { status, search, page_size: PAGE_SIZE, ordering: "-created_at" },
    });
  }

  /** Reload every column (first load and after a reset). */
  async function loadAll() {
    const statuses = Object.keys(columns);
    const pages = await Promise.all(statuses.map((status) => fetchColumn(status)));
    cards.clear();
    statuses.forEach((status, index) => {
      const column = columns[status];
      const page = pages[index];
      column.list.replaceChildren();
      column.total = page.count;
      column.next = page.next;
    });
    loaded = true;
    statuses.forEach((status, index) => {
      for (const mission of pages[index].results) place(mission, { loaded: true });
      showCount(columns[status]);
    });
  }

  async function showMore(status) {
    const column = columns[status];
    if (!column.next) return;
    const page = await fetchColumn(status, column.next);
    column.next = page.next;
    column.total = page.count;
    for (const mission of page.results) place(mission, { loaded: true });
    showCount(column);
  }

  // Missions to refetch because an event named them.
  const stale = new Set();
  const refresh = B.coalesce(async () => {
    const ids = [...stale];
    stale.clear();
    await Promise.all(
      ids.map(async (id) => {
        try {
          place(await api(`/api/missions/${id}`));
        } catch (error) {
          if (error instanceof B.ApiError && error.status === 404) forget(id);
          else throw error;
        }
      })
    );
  });

  // The chart ---------------------------------------------------------------------

  // The columns' counts, so the chart shows what the filters select: the statuses
  // chosen, the missions the search matches.
  const shownStatuses = Object.keys(columns);
  const statusChart = B.chart(document.getElementById("status-chart"), {
    type: "doughnut",
    data: {
      labels: shownStatuses,
      datasets: [
        {
          data: shownStatuses.map(() => 0),
          backgroundColor: shownStatuses.map((s) => B.STATUS_COLORS[s]),
        },
      ],
    },
    options: { plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } },
  });
  const totalLine = document.getElementById("stats-total");
  const boardEmpty = document.getElementById("board-empty");

  function updateChart() {
    if (!loaded) return;
    const counts = shownStatuses.map((s) =>
      Math.max(columns[s].total, columns[s].list.children.length)
    );
    const total = counts.reduce((a, b) => a + b, 0);
    if (statusChart) {
      statusChart.data.datasets[0].data = counts;
      statusChart.update();
    }
    const noun = `mission${total === 1 ? "" : "s"}`;
    totalLine.textContent = filtered ? `${total} ${noun} match the filters` : `${total} ${noun} in all`;
    totalLine.dataset.total = String(total);
    boardEmpty.hidden = total > 0;
  }
  const chartSoon = B.debounce(updateChart, 100);

  // Live ----------------------------------------------------------------------------

  B.live({
    types: "mission.created,mission.status_changed",
    onSync: async () => {
      await loadAll();
      updateChart();
    },
    onEvent: (event) => {
      const payload = event.payload;
      const id = payload.mission_id;
      if (event.type === "mission.created" && columns.PENDING) stale.add(id);
      if (event.type === "mission.status_changed") {
        if (!cards.has(id)) movedFrom.set(id, payload.old_status);
        if (cards.has(id) || columns[payload.new_status] || columns[payload.old_status]) {
          stale.add(id);
        }
      }
      if (stale.size) refresh();
    },
  });

  // Controls ------------------------------------------------------------------------

  board.addEventListener("click", async (event) => {
    const more = event.target.closest("[data-more]");
    if (more) {
      more.disabled = true;
      try {
        await showMore(more.closest("[data-column]").dataset.column);
      } catch (error) {
        B.flash(B.explain(error));
      } finally {
        more.disabled = false;
      }
      return;
    }
    const button = event.target.closest("button[data-to]");
    if (!button) return;
    const card = button.closest("[data-mission-id]");
    const id = card.dataset.missionId;
    for (const other of card.querySelectorAll("button[data-to]")) other.disabled = true;
    try {
      place(await api(`/api/missions/${id}/status`, { method: "POST", body: { status: button.dataset.to } }));
    } catch (error) {
      B.flash(B.explain(error));
      for (const other of card.querySelectorAll("button[data-to]")) other.disabled = false;
      stale.add(id);
      refresh();
    }
  });

  const create = document.getElementById("create-mission");
  if (create) {
    create.addEventListener("submit", async (event) => {
      event.preventDefault();
      const submit = create.querySelector("button[type=submit]");
      submit.disabled = true;
      try {
        const mission = await api("/api/missions", {
          method: "POST",
          body: {
            name: create.elements.name.value.trim(),
            description: create.elements.description.value,
            priority: Number(create.elements.priority.value),
          },
        });
        place(mission);
        create.reset();
        B.flash(`Mission "${mission.name}" created.`, "info");
      } catch (error) {
        B.flash(B.explain(error));
      } finally {
        submit.disabled = false;
      }
    });
  }

  const filters = document.getElementById("board-filters");
  filters.addEventListener("change", (event) => {
    if (event.target.name === "status") filters.requestSubmit();
  });
})();
