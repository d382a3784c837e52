"use strict";
// What the wall screen and the manager's page share: talking to the API, and one competition's
// live feed (server-sent events), which keeps itself alive:
//   - on any stream error the EventSource is closed and reopened after a growing, jittered delay
//     (1 s, 2 s, 4 s … 15 s), resuming after the last message id it saw;
//   - while the stream is down the leaderboard JSON is polled, so the page keeps moving, and a
//     poll that succeeds means the server is back: the stream is retried at once.
// The browser's own EventSource retry is not used: it has no backoff, and it gives up for good
// on a non-200 answer (e.g. a 503 from a restarting server).

const Live = (() => {
  const params = new URLSearchParams(location.search);
  // A display token (wall screens) rides on every request: EventSource cannot send headers.
  const token = params.get("token");

  function withQuery(path, query) {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(query || {})) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
    }
    if (token) url.searchParams.set("token", token);
    return url.pathname + url.search;
  }

  // options.quiet: a refusal of this request is not the page's problem (an optional panel).
  async function getJson(path, query, options) {
    const response = await fetch(withQuery(path, query), { cache: "no-store" });
    if (!response.ok) {
      // Not a lost connection: this link lacks a valid token or login, or may not see this.
      const denied = response.status === 401 || response.status === 403;
      if (denied && api.onDenied && !(options && options.quiet)) api.onDenied(response.status, path);
      const error = new Error(path + " → " + response.status);
      error.status = response.status;
      throw error;
    }
    return response.json();
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children) {
      if (child !== undefined && child !== null && child !== false) node.append(child);  // text, not HTML
    }
    return node;
  }

  // "40.00" → "40", "12.50" → "12.5": points are whole numbers most of the time.
  function num(value) {
    if (value === null || value === undefined || value === "") return "";
    const n = Number(value);
    if (!Number.isFinite(n)) return String(value);
    return n.toLocaleString("zh-CN", { maximumFractionDigits: 2 });
  }

  function signed(value) {
    const n = Number(value);
    return (n > 0 ? "+" : n < 0 ? "−" : "±") + num(Math.abs(n));
  }

  // 10000000 元 → "1,000万": plans speak in 万元.
  function money(value) {
    const n = Number(value);
    if (!Number.isFinite(n)) return String(value);
    if (Math.abs(n) >= 10000) return num(Math.round(n / 100) / 100) + "万";
    return num(n);
  }

  function clock(iso) {
    const d = iso ? new Date(iso) : new Date();
    if (Number.isNaN(d.getTime())) return "";
    return d.toLocaleTimeString("zh-CN", { hour12: false, hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" });
  }

  const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
  // The server's keep-alive pings are SSE comments, which a page never sees. After this long
  // without a message the feed asks the JSON board itself: unreachable means lost; a board that
  // moved without a snapshot means the stream died silently (a proxy, a sleeping network).
  const QUIET_MS = 45000;

  function rowsKey(board) {
    return JSON.stringify((board.rows || []).map((r) => [r.id, r.rank, r.points]));
  }

  class Feed {
    // streamPath/pollPath: the competition's stream and leaderboard; query: their shared
    // parameters. Callbacks: onSnapshot(board, how), onScored(message), onState(state).
    constructor(options) {
      this.o = Object.assign({ pollMs: 5000 }, options);
      this.state = "idle";
      this.source = null;
      this.lastId = null;
      this.failures = 0;
      this.retryTimer = null;
      this.pollTimer = null;
      this.stopped = true;
      this.lastMessageAt = 0;
      this.lastRows = null;
      this.watchdog = null;
    }

    start() {
      if (!this.stopped) return;
      this.stopped = false;
      this._connect();
      this.watchdog = setInterval(() => this._check(), QUIET_MS / 3);
    }

    stop() {
      this.stopped = true;
      clearInterval(this.watchdog);
      clearTimeout(this.retryTimer);
      clearTimeout(this.pollTimer);
      this.retryTimer = this.pollTimer = null;
      if (this.source) this.source.close();
      this.source = null;
      this._set("idle");
    }

    _set(state) {
      if (state === this.state) return;
      this.state = state;
      if (this.o.onState) this.o.onState(state, this);
    }

    _connect() {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      if (this.stopped) return;
      if (this.source) this.source.close();
      const query = Object.assign({}, this.o.query);
      if (this.lastId !== null) query.last_event_id = this.lastId;
      const source = new EventSource(withQuery(this.o.streamPath, query));
      this.source = source;
      if (this.state !== "lost") this._set("connecting");
      source.addEventListener("open", () => {
        if (source !== this.source) return;
        this.failures = 0;
        clearTimeout(this.pollTimer);
        this.pollTimer = null;
        this._set("live");
      });
      source.addEventListener("snapshot", (e) => this._message(source, e, (data) => {
        this.lastRows = rowsKey(data);
        this.o.onSnapshot(data, "stream");
      }));
      source.addEventListener("scored", (e) => this._message(source, e, (data) => this.o.onScored && this.o.onScored(data)));
      source.addEventListener("error", () => {
        if (source !== this.source || this.stopped) return;
        source.close();
        this.source = null;
        this._lost();
      });
    }

    _message(source, e, handle) {
      if (source !== this.source) return;
      this.lastMessageAt = Date.now();
      if (e.lastEventId) this.lastId = e.lastEventId;
      if (this.state !== "live") {  // a message proves the stream works even if "open" was missed
        this.failures = 0;
        this._set("live");
      }
      let data;
      try {
        data = JSON.parse(e.data);
      } catch (err) {
        console.warn("unreadable stream message", err);
        return;
      }
      handle(data);
    }

    async _check() {
      if (this.stopped || this.state !== "live" || Date.now() - this.lastMessageAt < QUIET_MS) return;
      const source = this.source;
      try {
        const board = await getJson(this.o.pollPath, this.o.query);
        if (source !== this.source || this.state !== "live" || rowsKey(board) === this.lastRows) {
          this.lastMessageAt = Date.now();  // quiet, and rightly so
          return;
        }
        this.o.onSnapshot(board, "poll");
      } catch (err) {
        // the server does not answer: the stream is as good as gone
      }
      if (source !== this.source || this.stopped) return;
      if (this.source) this.source.close();
      this.source = null;
      this._lost();
    }

    _lost() {
      this._set("lost");
      const base = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)];
      this.failures += 1;
      const delay = base * (0.8 + Math.random() * 0.4);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this._connect(), delay);
      if (!this.pollTimer) this.pollTimer = setTimeout(() => this._poll(), Math.min(this.o.pollMs, delay));
    }

    async _poll() {
      this.pollTimer = null;
      if (this.stopped || this.state === "live") return;
      try {
        const board = await getJson(this.o.pollPath, this.o.query);
        if (this.stopped || this.state === "live") return;
        this.o.onSnapshot(board, "poll");
        // The server answers again: try the stream now rather than at the end of the backoff.
        if (!this.source) {
          this.failures = 0;
          this._connect();
        }
      } catch (err) {
        // still away; the next poll or stream attempt will tell
      }
      if (!this.stopped && this.state !== "live" && !this.pollTimer) {
        this.pollTimer = setTimeout(() => this._poll(), this.o.pollMs);
      }
    }
  }

  const api = { params, token, withQuery, getJson, el, num, signed, money, clock, Feed, onDenied: null };
  return api;
})();
