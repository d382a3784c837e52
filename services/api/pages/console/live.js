// The console's live board: the published competition's customer-manager ranking as the wall
// screens see it (the leaderboard stream, contract A), so an organiser watches a publish take
// effect. Where the stream cannot be opened it polls the leaderboard instead.
"use strict";

import { get, query } from "./api.js";
import { $, clear, el } from "./ui.js";

const POLL_MS = 2000;
const FEED_MAX = 20;

export class LiveBoard {
  constructor() {
    this.source = null;
    this.timer = null;
    this.competitionId = null;
    this.lastPoints = new Map();
    this.refresh = null;
  }

  show(competitionId) {
    if (this.competitionId === competitionId && (this.source || this.timer)) return;
    this.stop();
    this.competitionId = competitionId;
    this.lastPoints = new Map();
    $("#live").hidden = false;
    clear($("#live-table tbody"));
    clear($("#live-feed"));
    this._status("连接中…");
    this._connect(0);
  }

  // The read model learns of a publish a moment after the API recorded it, and the stream of a
  // competition it does not know yet is a 404: wait until the competition is listed, then open
  // the stream. A stream that cannot be opened at all is replaced by polling.
  async _connect(failures) {
    const id = this.competitionId;
    if (!id) return;
    let listed = false;
    try {
      listed = ((await get("/api/competitions")).competitions || []).some((c) => c.id === id);
    } catch {
      listed = false;
    }
    if (this.competitionId !== id) return;
    if (!listed) {
      this._status("等待发布生效…");
      this.timer = setTimeout(() => this._connect(failures), 1000);
      return;
    }
    this.timer = null;
    const url = `/api/competitions/${encodeURIComponent(id)}/stream` + query({ ranking: "customer_manager", limit: 20 });
    let opened = false;
    const source = new EventSource(url, { withCredentials: true });
    this.source = source;
    source.addEventListener("snapshot", (e) => { opened = true; this._draw(JSON.parse(e.data), "实时推送"); });
    source.addEventListener("scored", (e) => this._scored(JSON.parse(e.data)));
    source.addEventListener("error", () => {
      if (this.source !== source) return;
      if (opened && source.readyState !== EventSource.CLOSED) {
        this._status("连接中断，重连中…");  // EventSource reconnects by itself, with Last-Event-ID
        return;
      }
      source.close();
      this.source = null;
      if (!opened && failures >= 2) this._poll();
      else this.timer = setTimeout(() => this._connect(opened ? 0 : failures + 1), 1000);
    });
  }

  stop() {
    if (this.source) this.source.close();
    this.source = null;
    clearTimeout(this.timer);
    this.timer = null;
    this.competitionId = null;
    $("#live").hidden = true;
  }

  async _poll() {
    const id = this.competitionId;
    if (!id) return;
    try {
      const board = await get(`/api/competitions/${encodeURIComponent(id)}/leaderboard` +
        query({ ranking: "customer_manager", limit: 20 }));
      if (this.competitionId === id) this._draw(board, "每 2 秒刷新");
    } catch (err) {
      this._status(err.status === 404 ? "尚无榜单（等待发布生效）" : "读取失败：" + err.message);
    }
    if (this.competitionId === id) this.timer = setTimeout(() => this._poll(), POLL_MS);
  }

  _draw(board, how) {
    const body = clear($("#live-table tbody"));
    const rows = board.rows || [];
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 3, class: "empty" }, "暂无积分")));
    for (const row of rows) {
      const changed = this.lastPoints.has(row.id) && this.lastPoints.get(row.id) !== row.points;
      body.append(el("tr", { class: changed ? "flash" : "", "data-id": row.id },
        el("td", {}, String(row.rank)),
        el("td", {}, row.name && row.name !== row.id ? `${row.name}（${row.id}）` : row.id),
        el("td", { class: "num", "data-points": row.points }, row.points)));
    }
    this.lastPoints = new Map(rows.map((r) => [r.id, r.points]));
    const revision = board.revision !== undefined ? `，版本 ${board.revision}` : "";
    this._status(`${how}${revision}，更新于 ${new Date().toLocaleTimeString("zh-CN", { hour12: false })}`);
  }

  _scored(item) {
    const feed = $("#live-feed");
    for (const old of feed.querySelectorAll(".fresh")) old.classList.remove("fresh");
    feed.prepend(el("li", { class: "fresh" },
      `${item.name || item.cm_id} ${item.label || item.component} ${Number(item.points) >= 0 ? "+" : ""}${item.points}`));
    while (feed.children.length > FEED_MAX) feed.lastChild.remove();
    // A scored message says who moved, not the new order: read the board once the burst settles.
    clearTimeout(this.refresh);
    this.refresh = setTimeout(() => this._reload(), 300);
  }

  async _reload() {
    const id = this.competitionId;
    if (!id) return;
    try {
      const board = await get(`/api/competitions/${encodeURIComponent(id)}/leaderboard` +
        query({ ranking: "customer_manager", limit: 20 }));
      if (this.competitionId === id) this._draw(board, "实时推送");
    } catch (err) {
      this._status("读取失败：" + err.message);
    }
  }

  _status(text) { $("#live-status").textContent = text; }
}
