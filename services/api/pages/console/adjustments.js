// 人工调整: a manager's points changed by hand, with a reason code and a note; the list of them.
"use strict";

import * as backend from "./backend.js";
import { $, $$, clear, el, reasonText, toast, when } from "./ui.js";

export const REASON = {
  split_credit: "业绩拆分（两位客户经理共享一户）",
  department_correction: "部门更正（普惠金融部要求）",
  data_fix: "数据修正（源系统错误）",
  other: "其他",
};

function newRequestId() {
  return "c" + Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class AdjustmentsTab {
  constructor(session) {
    this.session = session;
    this.wired = false;
    // Sent with the request: submitting the same form twice after a network error books it once.
    this.requestId = newRequestId();
  }

  async enter() {
    if (!this.wired) this._wire();
    const competitions = await backend.listCompetitions();
    const select = clear($("#adjust-competition"));
    for (const c of competitions) {
      if (c.versions.some((v) => v.status !== "draft")) select.append(el("option", { value: c.id }, `${c.name}（${c.id}）`));
    }
    await this.list();
  }

  leave() {}

  _wire() {
    this.wired = true;
    const reasons = $("#adjust-reason");
    for (const [code, words] of Object.entries(REASON)) reasons.append(el("option", { value: code }, words));
    // A split moves points from one manager to another: two entries, one each way.
    const related = el("label", { id: "adjust-related-label", hidden: true }, "转入客户经理编号",
      el("input", { id: "adjust-related", "data-field": "related_cm_id", placeholder: "如 cm-215" }));
    $("#adjust-reason").closest("label").after(related);
    reasons.addEventListener("change", () => {
      const split = reasons.value === "split_credit";
      related.hidden = !split;
      $("#adjust-cm-label").textContent = split ? "转出客户经理编号" : "客户经理编号";
      $("#adjust-points-label").textContent = split ? "拆分积分（转出方减、转入方加）" : "积分（可为负）";
    });
    $("#adjust-form").addEventListener("submit", (e) => { e.preventDefault(); this._submit(); });
    $("#adjust-refresh").addEventListener("click", () => this.list());
  }

  async list() {
    const seq = (this.seq = (this.seq || 0) + 1);  // only the latest answer is drawn
    let items;
    try {
      items = await backend.adjustments();
      if (seq !== this.seq) return;
    } catch (err) {
      if (seq !== this.seq) return;
      const body = clear($("#adjust-list tbody"));
      body.append(el("tr", {}, el("td", { colspan: 7, class: "error" }, "读取失败：" + (err.reason || err.message))));
      return;
    }
    const body = clear($("#adjust-list tbody"));
    if (!items.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "empty" }, "暂无人工调整")));
    for (const a of items) {
      body.append(el("tr", { "data-cm": a.cm_id, "data-event": a.event_id },
        el("td", {}, when(a.occurred_at)),
        el("td", {}, a.competition_id),
        el("td", {}, a.name && a.name !== a.cm_id ? `${a.name}（${a.cm_id}）` : a.cm_id),
        el("td", { class: "num" }, String(a.points)),
        el("td", {}, REASON[a.reason_code] || a.reason_code || ""),
        el("td", {}, a.note || a.reason || ""),
        el("td", { class: "hint" }, when(a.recorded_at))));
    }
  }

  async _submit() {
    for (const node of $$("#adjust-form .field-error")) node.remove();
    for (const node of $$("#adjust-form .invalid")) node.classList.remove("invalid");
    $("#adjust-error").textContent = "";
    $("#adjust-result").textContent = "";
    const reason = $("#adjust-reason").value;
    const cm = $("#adjust-cm").value.trim();
    const points = $("#adjust-points").value.trim();
    const body = { competition_id: $("#adjust-competition").value, reason_code: reason,
      note: $("#adjust-note").value.trim(), request_id: this.requestId };
    if (reason === "split_credit") body.split = { from_cm_id: cm, to_cm_id: $("#adjust-related").value.trim(), points };
    else Object.assign(body, { cm_id: cm, points });
    try {
      await backend.createAdjustment(body);
    } catch (err) {
      const field = { "split.from_cm_id": "cm_id", "split.to_cm_id": "related_cm_id", "split.points": "points" }[err.field] ||
        (err.field && String(err.field).split(/[.[]/)[0]);
      const input = field && $(`#adjust-form [data-field="${field}"]`);
      if (input) {
        input.classList.add("invalid");
        input.closest("label").append(el("span", { class: "field-error" }, reasonText(err.reason)));
        $("#adjust-error").textContent = "提交失败：请修改标红的项";
      } else {
        $("#adjust-error").textContent = "提交失败：" + (err.reason || err.message);
      }
      return;
    }
    this.requestId = newRequestId();
    $("#adjust-result").textContent = "已记录（积分稍后计入榜单）";
    toast("人工调整已提交");
    $("#adjust-points").value = "";
    $("#adjust-note").value = "";
    await this.list();
    // The list is the ledger's: the entries appear once the stream has booked them.
    for (const wait of [2000, 5000, 10000, 20000]) setTimeout(() => this.list(), wait);
  }
}
