// 企业微信通知: a published competition's group robot (docs/notifications.md). The webhook is a
// secret: the API shows it masked, and the field stays empty unless a new one is typed (an
// empty field keeps the one set). Organisers and admins only; others do not see the card.
"use strict";

import { get, put } from "./api.js";
import { $, $$, clear, el, toast, when } from "./ui.js";

const KIND_NAMES = { rank: "前 N 名排名上升", award: "获奖名单审批", badge: "徽章", challenge: "挑战赛获胜" };

export class RobotPanel {
  constructor(canWrite) {
    this.canWrite = canWrite;
    this.competitionId = null;
    this.wired = false;
  }

  async show(competitionId) {
    if (!this.canWrite()) return this.hide();
    if (!this.wired) this._wire();
    this.competitionId = competitionId;
    $("#robot").hidden = false;
    $("#robot-error").textContent = "";
    try {
      this._draw(await get(`/api/competitions/${encodeURIComponent(competitionId)}/notifications`));
    } catch (err) {
      $("#robot-error").textContent = err.message;
    }
  }

  hide() {
    this.competitionId = null;
    $("#robot").hidden = true;
  }

  _wire() {
    this.wired = true;
    $("#robot-form").addEventListener("submit", (e) => { e.preventDefault(); this._save(); });
  }

  _draw(shown) {
    const kinds = new Set(shown.configured ? shown.kinds : ["rank", "award"]);
    clear($("#robot-kinds")).append(...(shown.kinds_known || Object.keys(KIND_NAMES)).map((k) =>
      el("label", { class: "inline" }, el("input", { type: "checkbox", value: k, checked: kinds.has(k) }), " " + (KIND_NAMES[k] || k))));
    $("#robot-url").value = "";
    $("#robot-url").placeholder = shown.configured ? `已设置：${shown.webhook}（留空则不变）` : "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…";
    $("#robot-url").required = !shown.configured;
    $("#robot-top").value = shown.configured ? shown.top_n : 5;
    $("#robot-enabled").checked = shown.configured ? shown.enabled : true;
    $("#robot-status").textContent = shown.configured
      ? `已发送 ${shown.outbox.sent} 条，待发送 ${shown.outbox.waiting} 条` +
        (shown.outbox.digests_failing ? `，${shown.outbox.digests_failing} 批重试中` : "") +
        ` · ${shown.updated_by} 更新于 ${when(shown.updated_at)}`
      : "尚未设置";
  }

  async _save() {
    const id = this.competitionId;
    if (!id) return;
    const body = {
      top_n: Number($("#robot-top").value),
      kinds: $$("#robot-kinds input:checked").map((i) => i.value),
      enabled: $("#robot-enabled").checked,
    };
    const url = $("#robot-url").value.trim();
    if (url) body.webhook_url = url;
    $("#robot-error").textContent = "";
    try {
      this._draw(await put(`/api/competitions/${encodeURIComponent(id)}/notifications`, body));
      toast("企业微信通知已保存");
    } catch (err) {
      $("#robot-error").textContent = err.field ? `${err.field}: ${err.reason}` : err.message;
    }
  }
}
