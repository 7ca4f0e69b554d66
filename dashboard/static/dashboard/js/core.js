/*
 * The dashboard's shared pieces: the REST helper, messages, time formatting and the
 * live connection to /ws/events/ that every page uses.
 *
 * Pages are classic deferred scripts that read `window.Brain`; the server passes
 * data in `data-` attributes and the JSON block #dashboard-config (no inline code,
 * the Content-Security-Policy forbids it).
 */
(function () {
  "use strict";

  const Brain = (window.Brain = window.Brain || {});
  const configBlock = document.getElementById("dashboard-config");
  Brain.config = configBlock ? JSON.parse(configBlock.textContent) : {};

  // DOM -------------------------------------------------------------------------

  /** `h("a", {class: "x", href: "/", dataset: {id: 1}}, "text", child)`. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key === "text") el.textContent = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }
  Brain.h = h;

  // On a phone, a table with class "stack" shows each row as a card whose cells
  // carry their column's name (CSS: td::before { content: attr(data-label) }).
  function columnNames(table) {
    const head = table.tHead && table.tHead.rows[0];
    return head ? [...head.cells].map((cell) => cell.textContent.trim()) : [];
  }
  function labelRow(row, names) {
    if (row.cells.length === 1 && row.cells[0].colSpan > 1) return;
    [...row.cells].forEach((cell, i) => {
      if (cell.dataset.label === undefined) cell.dataset.label = names[i] || "";
    });
  }
  for (const table of document.querySelectorAll("table.stack")) {
    const names = columnNames(table);
    for (const body of table.tBodies) for (const row of body.rows) labelRow(row, names);
    // Only the rows just added: a live feed adds one at a time.
    const observer = new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) if (node.nodeName === "TR") labelRow(node, names);
      }
    });
    for (const body of table.tBodies) observer.observe(body, { childList: true });
  }

  // REST ------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      super(describeBody(status, body));
      this.name = "ApiError";
      this.status = status;
      this.body = body;
    }
  }
  Brain.ApiError = ApiError;

  function describeBody(status, body) {
    if (body && typeof body.detail === "string") return body.detail;
    if (body && typeof body === "object") {
      const parts = Object.entries(body).map(
        ([field, errors]) =>
          `${field}: ${Array.isArray(errors) ? errors.join(" ") : JSON.stringify(errors)}`
      );
      if (parts.length) return parts.join("; ");
    }
    return `request failed (HTTP ${status})`;
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  /** JSON over fetch with the session cookie; throws ApiError on a non-2xx. */
  async function api(path, { method = "GET", body, params } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [key, value] of Object.entries(params || {})) {
      if (value === null || value === undefined || value === "") continue;
      url.searchParams.set(key, String(value));
    }
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
  Brain.api = api;

  /** What to tell a person about a failed request. */
  function explain(error) {
    if (!(error instanceof ApiError)) {
      return "The server cannot be reached; retrying when the connection is back.";
    }
    if (error.status === 401) return "You are signed out: reload the page to sign in.";
    if (error.status === 403) {
      return "Not allowed: your account may watch but not change this.";
    }
    return error.message;
  }
  Brain.explain = explain;

  // Actions that cannot be undone (kill an agent, fail or cancel a mission, stop a
  // robot) ask first, with the browser's own dialog.
  Brain.confirmAction = (question) => window.confirm(question);

  // Messages --------------------------------------------------------------------

  let flashTimer = null;
  function flash(message, kind = "error") {
    const el = document.getElementById("flash");
    if (!el) return;
    el.textContent = message;
    el.dataset.kind = kind;
    el.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      el.hidden = true;
    }, kind === "error" ? 8000 : 4000);
  }
  Brain.flash = flash;

  // Time ------------------------------------------------------------------------

  /** A Date from an ISO string or Unix seconds. */
  function toDate(value) {
    if (value === null || value === undefined || value === "") return null;
    if (typeof value === "number") return new Date(value * 1000);
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  Brain.toDate = toDate;

  function age(date) {
    if (!date) return "–";
    const seconds = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
    if (seconds < 60) return `${seconds}s ago`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
    return `${Math.floor(seconds / 86400)}d ago`;
  }
  Brain.age = age;

  const pad = (n, width = 2) => String(n).padStart(width, "0");
  function clock(date, { ms = false } = {}) {
    if (!date) return "–";
    const text = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
    return ms ? `${text}.${pad(date.getMilliseconds(), 3)}` : text;
  }
  Brain.clock = clock;

  function dateTime(date) {
    if (!date) return "–";
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock(date)}`;
  }
  Brain.dateTime = dateTime;

  /** A <time> that shows how long ago `value` was and keeps itself current. */
  function ageElement(value) {
    const date = toDate(value);
    return h("time", {
      class: "age",
      datetime: date ? date.toISOString() : null,
      title: dateTime(date),
      text: age(date),
    });
  }
  Brain.ageElement = ageElement;

  setInterval(() => {
    for (const el of document.querySelectorAll("time.age[datetime]")) {
      el.textContent = age(new Date(el.getAttribute("datetime")));
    }
  }, 15000);

  // Scheduling ------------------------------------------------------------------

  /** Run `fn` now; calls made while it runs collapse into one more run after it. */
  function coalesce(fn) {
    let running = false;
    let again = false;
    return function trigger() {
      if (running) {
        again = true;
        return;
      }
      running = true;
      (async () => {
        try {
          do {
            again = false;
            await fn();
          } while (again);
        } catch (error) {
          flash(explain(error));
        } finally {
          running = false;
        }
      })();
    };
  }
  Brain.coalesce = coalesce;

  function debounce(fn, ms) {
    let timer = null;
    return function debounced(...args) {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }
  Brain.debounce = debounce;

  /** Rethrow outside the caller, so a page bug shows without stopping the stream. */
  function report(error) {
    setTimeout(() => {
      throw error;
    }, 0);
  }
  Brain.report = report;

  // Connection state --------------------------------------------------------------

  const STATE_TEXT = {
    connecting: "connecting…",
    live: "live",
    reconnecting: "reconnecting…",
    "catching-up": "catching up…",
    "signed-out": "signed out",
  };

  function showState(state, detail) {
    const el = document.getElementById("conn-state");
    if (!el) return;
    el.dataset.state = state;
    el.textContent = STATE_TEXT[state] || state;
    el.title = detail || "";
  }

  // The live connection -------------------------------------------------------------

  const BASE_DELAY_MS = 500;
  const MAX_DELAY_MS = 10000;
  const PING_EVERY_MS = 20000;
  const PONG_WITHIN_MS = 10000;
  const CLOSE_UNAUTHORIZED = 4401;

  /**
   * One WebSocket to /ws/events/ that survives drops.
   *
   * It remembers the last `meta.seq` it passed on and resumes with `since=` after a
   * reconnect (exponential backoff with jitter), so the server replays exactly what
   * was missed; an event at or below that seq is never passed on twice. `onSync` is
   * called once the first subscription stands and after every `reset`: the page
   * loads its state over REST then, and events that follow are applied on top.
   */
  class LiveConnection {
    constructor({ types = "", subject = "", onEvent, onSync }) {
      this.types = types;
      this.subject = subject;
      this.onEvent = onEvent || (() => {});
      this.onSync = onSync || (() => {});
      this.lastSeq = null;
      this.attempt = 0;
      this.ws = null;
      this.stopped = false;
      this.syncing = false;
      this.syncAgain = null;
      this.replaying = false;
      this.reconnectTimer = null;
      this.pingTimer = null;
      this.pongTimer = null;
    }

    start() {
      this.stopped = false;
      window.addEventListener("online", () => this.reconnectNow());
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") this.reconnectNow();
      });
      this.open();
      return this;
    }

    stop() {
      this.stopped = true;
      clearTimeout(this.reconnectTimer);
      this.stopHeartbeat();
      if (this.ws) this.ws.close(1000);
      this.ws = null;
    }

    /** Skip the remaining backoff when the browser says the network is back. */
    reconnectNow() {
      if (this.stopped || this.ws || this.reconnectTimer === null) return;
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      this.open();
    }

    url() {
      const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      const query = new URLSearchParams();
      if (this.types) query.set("types", this.types);
      if (this.subject) query.set("subject", this.subject);
      if (this.lastSeq !== null) query.set("since", String(this.lastSeq));
      const text = query.toString();
      return `${scheme}//${window.location.host}/ws/events/${text ? `?${text}` : ""}`;
    }

    open() {
      this.reconnectTimer = null;
      if (this.lastSeq !== null || this.attempt > 0) this.setState("reconnecting");
      const ws = new WebSocket(this.url());
      this.ws = ws;
      ws.onmessage = (message) => this.frame(ws, message.data);
      ws.onclose = (event) => this.closed(ws, event.code);
      ws.onerror = () => {}; // a close follows; it decides what happens next
    }

    setState(state) {
      showState(state, this.lastSeq === null ? "" : `last event seen: #${this.lastSeq}`);
    }

    frame(ws, text) {
      if (ws !== this.ws) return;
      clearTimeout(this.pongTimer);
      let frame;
      try {
        frame = JSON.parse(text);
      } catch (_) {
        return;
      }
      if (frame && typeof frame.control === "string") {
        this.control(frame);
        return;
      }
      const seq = frame && frame.meta ? frame.meta.seq : undefined;
      if (typeof seq !== "number") return;
      if (this.lastSeq !== null && seq <= this.lastSeq) return;
      this.lastSeq = seq;
      try {
        this.onEvent(frame);
      } catch (error) {
        report(error);
      }
    }

    control(frame) {
      switch (frame.control) {
        case "subscribed":
          this.attempt = 0;
          this.startHeartbeat();
          if (this.lastSeq === null) {
            this.lastSeq = frame.last_seq;
            this.sync("initial");
          } else {
            this.replaying = Boolean(frame.replaying);
            if (!this.syncing) this.setState(this.replaying ? "catching-up" : "live");
          }
          break;
        case "caught_up":
          this.replaying = false;
          if (!this.syncing) this.setState("live");
          break;
        case "reset":
          this.lastSeq = frame.last_seq;
          this.sync("reset");
          break;
        case "error":
          console.warn(`live events: ${frame.detail}`);
          break;
        default:
          break; // pong, and whatever a newer server adds
      }
    }

    /** Load state over REST (first subscription, reset); one sync at a time. */
    async sync(reason) {
      if (this.syncing) {
        this.syncAgain = reason;
        return;
      }
      this.syncing = true;
      this.setState("catching-up");
      try {
        await this.onSync(reason, this.lastSeq);
      } catch (error) {
        flash(explain(error));
        this.syncAgain = this.syncAgain || reason;
        await new Promise((resolve) => setTimeout(resolve, 2000));
      } finally {
        this.syncing = false;
      }
      if (this.syncAgain && !this.stopped) {
        const again = this.syncAgain;
        this.syncAgain = null;
        await this.sync(again);
        return;
      }
      if (this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.setState(this.replaying ? "catching-up" : "live");
      }
    }

    closed(ws, code) {
      if (ws !== this.ws) return;
      this.ws = null;
      this.stopHeartbeat();
      if (this.stopped) return;
      if (code === CLOSE_UNAUTHORIZED) {
        this.signedOut();
        return;
      }
      this.setState("reconnecting");
      const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
      const delay = ceiling / 2 + Math.random() * (ceiling / 2);
      this.attempt += 1;
      this.reconnectTimer = setTimeout(() => this.open(), delay);
      // A refused handshake looks like any failed connection; an expired session
      // shows on a REST call, and retrying would not help.
      if (this.attempt % 3 === 0) {
        api("/api/events", { params: { after: this.lastSeq || 0, limit: 1 } }).catch((error) => {
          if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
            this.signedOut();
          }
        });
      }
    }

    signedOut() {
      this.stopped = true;
      clearTimeout(this.reconnectTimer);
      this.setState("signed-out");
      flash("You are signed out: reload the page to sign in.");
    }

    /** A ping now and then; no answer means a dead connection, so drop it. */
    startHeartbeat() {
      this.stopHeartbeat();
      this.pingTimer = setInterval(() => {
        const ws = this.ws;
        if (!ws || ws.readyState !== WebSocket.OPEN) return;
        ws.send(JSON.stringify({ action: "ping" }));
        clearTimeout(this.pongTimer);
        this.pongTimer = setTimeout(() => {
          if (ws !== this.ws) return;
          ws.onclose = null;
          ws.close();
          this.closed(ws, 1006);
        }, PONG_WITHIN_MS);
      }, PING_EVERY_MS);
    }

    stopHeartbeat() {
      clearInterval(this.pingTimer);
      clearTimeout(this.pongTimer);
    }
  }

  /** Open the page's live connection: `Brain.live({types, subject, onEvent, onSync})`. */
  Brain.live = function live(options) {
    const connection = new LiveConnection(options);
    Brain.connection = connection;
    return connection.start();
  };
  Brain.LiveConnection = LiveConnection;

  // Charts ------------------------------------------------------------------------

  Brain.STATUS_COLORS = {
    PENDING: "#94a3b8",
    RUNNING: "#2563eb",
    COMPLETED: "#16a34a",
    FAILED: "#dc2626",
    CANCELLED: "#a16207",
  };

  /** A Chart.js chart with the dashboard's defaults (no animation: updates are live). */
  Brain.chart = function chart(canvas, config) {
    if (!window.Chart || !canvas) return null;
    window.Chart.defaults.animation = false;
    window.Chart.defaults.maintainAspectRatio = false;
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    return new window.Chart(canvas, config);
  };

  /** A line chart of values over time (x: milliseconds), without a date adapter. */
  Brain.timeChart = function timeChart(canvas, { label, color, y = {} }) {
    return Brain.chart(canvas, {
      type: "line",
      data: { datasets: [{ label, data: [], borderColor: color, backgroundColor: color, pointRadius: 2, tension: 0.2 }] },
      options: {
        parsing: false,
        plugins: { legend: { display: false } },
        scales: {
          x: {
            type: "linear",
            ticks: {
              maxTicksLimit: 8,
              // Seconds matter over a short span, not over hours.
              callback(value) {
                const text = clock(new Date(value));
                return this.max - this.min < 600000 ? text : text.slice(0, 5);
              },
            },
          },
          y,
        },
      },
    });
  };

  /**
   * Events of roughly the last `window` seqs before `head` that match, oldest first.
   * The history API pages forward from a seq, so "recent" is a window of the log.
   */
  Brain.recentEvents = async function recentEvents({ types = "", subject = "", head, window = 2000 }) {
    const limit = 1000;
    let after = Math.max(0, (head || 0) - window);
    const events = [];
    for (let round = 0; round < 10; round += 1) {
      const page = await api("/api/events", { params: { after, types, subject, limit } });
      events.push(...page.results);
      after = page.last_seq;
      if (page.results.length < limit) break;
    }
    return events;
  };
})();
