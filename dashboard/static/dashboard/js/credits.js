/*
 * Credits: every account's balance and the latest transactions, live; the balance
 * over time of the agent chosen (kept in the URL as ?agent=).
 *
 * The transactions come from the ledger, newest first, whatever else the event log
 * holds; the socket adds new ones. Ledger entries never change, so rows are only
 * ever added (each once, by transaction id) and the oldest dropped.
 */
(function () {
  "use strict";

  const B = window.Brain;
  const { h, api } = B;
  const balanceRows = document.getElementById("balance-rows");
  if (!balanceRows) return;

  const transactionRows = document.getElementById("transaction-rows");
  const empty = document.getElementById("balances-empty");
  const summary = document.getElementById("credits-summary");
  const KEEP_TRANSACTIONS = B.config.keepTransactions || 50;
  const MAX_POINTS = 500;
  const MOVEMENTS = ["credits.allocated", "credits.consumed", "credits.refunded"];
  const KIND = { "credits.allocated": "allocation", "credits.consumed": "consumption", "credits.refunded": "refund" };
  const accounts = new Map();
  const shownTransactions = new Set();
  let selected = new URLSearchParams(window.location.search).get("agent") || "";

  // Balances ------------------------------------------------------------------------

  function render(account) {
    const row = h(
      "tr",
      { dataset: { agentId: account.agent_id, select: "" } },
      h("td", { class: "mono" }, account.agent_id),
      h("td", { class: "amount", dataset: { balance: account.balance } }, account.balance),
      h("td", {}, B.ageElement(account.updated_at))
    );
    if (account.agent_id === selected) row.classList.add("selected");
    return row;
  }

  function place(account) {
    accounts.set(account.agent_id, account);
    const row = render(account);
    const existing = balanceRows.querySelector(`tr[data-agent-id="${CSS.escape(account.agent_id)}"]`);
    if (existing) existing.replaceWith(row);
    else {
      const after = [...balanceRows.children].find((other) => other.dataset.agentId > account.agent_id);
      balanceRows.insertBefore(row, after || null);
    }
    showSummary();
  }

  function showSummary() {
    const total = [...accounts.values()].reduce((sum, account) => sum + Number(account.balance), 0);
    summary.textContent = `${accounts.size} accounts · ${total.toFixed(2)} credits in all`;
    empty.hidden = accounts.size > 0;
  }

  async function loadBalances() {
    const page = await api("/api/credits/balances", { params: { page_size: 500 } });
    balanceRows.replaceChildren();
    accounts.clear();
    for (const account of page.results) place(account);
    if (!selected && page.results.length) selected = page.results[0].agent_id;
    showSummary();
  }
  const balancesSoon = B.coalesce(loadBalances);

  // Transactions --------------------------------------------------------------------

  /** A ledger entry as the transactions endpoint or a credits event tells it. */
  function fromEvent(event) {
    const p = event.payload;
    return {
      id: p.transaction_id,
      created_at: B.toDate(event.timestamp),
      agent_id: p.agent_id,
      kind: KIND[event.type],
      amount: p.amount,
      balance_after: p.balance,
      reason: p.reason,
      mission_id: p.mission_id || null,
    };
  }

  function addTransaction(entry) {
    const id = Number(entry.id);
    if (shownTransactions.has(id)) return;
    const oldest = transactionRows.lastElementChild;
    if (transactionRows.children.length >= KEEP_TRANSACTIONS && oldest && Number(oldest.dataset.transactionId) > id) return;
    shownTransactions.add(id);
    const kind = entry.kind;
    const sign = kind === "consumption" ? "−" : "+";
    const mission = entry.mission_id;
    const row = h(
      "tr",
      { dataset: { transactionId: id } },
      h("td", {}, B.dateTime(B.toDate(entry.created_at))),
      h("td", { class: "mono" }, h("a", { href: B.config.agentUrl.replace("{id}", encodeURIComponent(entry.agent_id)) }, entry.agent_id)),
      h("td", { class: `kind-${kind}` }, kind),
      h("td", { class: `amount kind-${kind}` }, `${sign}${entry.amount}`),
      h("td", { class: "amount" }, entry.balance_after),
      h("td", {}, entry.reason),
      h("td", {}, mission ? h("a", { href: B.config.missionUrl.replace("{id}", mission), class: "mono" }, mission.slice(0, 8)) : "–")
    );
    let before = transactionRows.firstElementChild;
    while (before && Number(before.dataset.transactionId) > id) before = before.nextElementSibling;
    transactionRows.insertBefore(row, before);
    if (noTransactions) noTransactions.hidden = true;
    while (transactionRows.children.length > KEEP_TRANSACTIONS) {
      const last = transactionRows.lastElementChild;
      shownTransactions.delete(Number(last.dataset.transactionId));
      last.remove();
    }
  }

  async function loadTransactions() {
    const page = await api(B.config.transactionsUrl, { params: { limit: KEEP_TRANSACTIONS } });
    for (const entry of page.transactions) addTransaction(entry);
    showNoTransactions();
  }

  const noTransactions = document.getElementById("transactions-empty");
  function showNoTransactions() {
    noTransactions.hidden = transactionRows.children.length > 0;
  }

  // Balance over time ---------------------------------------------------------------

  const balanceChart = B.timeChart(document.getElementById("balance-chart"), {
    label: "balance",
    color: "#7c3aed",
    y: { beginAtZero: true },
  });
  const chartIds = new Set();

  function addPoint(transactionId, when, balance) {
    if (!balanceChart || chartIds.has(transactionId)) return;
    chartIds.add(transactionId);
    const points = balanceChart.data.datasets[0].data;
    points.push({ x: when.getTime(), y: Number(balance) });
    points.sort((a, b) => a.x - b.x);
    if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS);
  }
  const chartSoon = B.debounce(() => balanceChart && balanceChart.update(), 200);

  async function loadChart() {
    document.getElementById("chart-agent").textContent = selected ? `· ${selected}` : "· choose an agent";
    chartIds.clear();
    if (!balanceChart) return;
    balanceChart.data.datasets[0].data = [];
    if (selected) {
      const history = await api(`/api/credits/history/${encodeURIComponent(selected)}`, { params: { limit: MAX_POINTS } });
      for (const entry of history.transactions) addPoint(entry.id, B.toDate(entry.created_at), entry.balance_after);
    }
    balanceChart.update();
  }

  // Live ----------------------------------------------------------------------------

  B.live({
    types: MOVEMENTS.join(","),
    onSync: async () => {
      await Promise.all([loadTransactions(), loadBalances()]);
      await loadChart();
    },
    onEvent: (event) => {
      const p = event.payload;
      const account = accounts.get(p.agent_id);
      addTransaction(fromEvent(event));
      if (account) {
        place({ ...account, balance: p.balance, updated_at: new Date(event.timestamp * 1000).toISOString() });
      } else {
        balancesSoon();
      }
      if (p.agent_id === selected) {
        addPoint(p.transaction_id, new Date(event.timestamp * 1000), p.balance);
        chartSoon();
      }
    },
  });

  balanceRows.addEventListener("click", async (event) => {
    const row = event.target.closest("tr[data-agent-id]");
    if (!row || row.dataset.agentId === selected) return;
    selected = row.dataset.agentId;
    const url = new URL(window.location.href);
    url.searchParams.set("agent", selected);
    window.history.replaceState(null, "", url);
    for (const other of balanceRows.children) other.classList.toggle("selected", other === row);
    try {
      await loadChart();
    } catch (error) {
      B.flash(B.explain(error));
    }
  });
})();
