// 月末: freeze a period and run its awards. The freeze waits for complete data (the stages and the
// ledger sink caught up, no parked record of the period): a refusal shows the API's reason as it
// is, naming what lags. A run's warnings (no entry of its own, late entries waiting) must be
// acknowledged before approval.
"use strict";

import * as backend from "./backend.js";
import { post } from "./api.js";
import { $, clear, el, toast } from "./ui.js";

export class AwardsTab {
  constructor(session) {
    this.session = session;
    this.wired = false;
    this.run = null;
  }

  async enter() {
    if (!this.wired) this._wire();
    const competitions = await backend.listCompetitions();
    const select = clear($("#awards-competition"));
    for (const c of competitions) {
      if (c.versions.some((v) => v.status !== "draft")) select.append(el("option", { value: c.id }, `${c.name}（${c.id}）`));
    }
  }

  leave() {}

  _wire() {
    this.wired = true;
    $("#awards-freeze").addEventListener("click", () => this._ask("/api/awards/freezes", "冻结"));
    $("#awards-run").addEventListener("click", () => this._ask("/api/awards/runs", "计算奖项"));
    $("#awards-approve").addEventListener("click", () => this._approve());
  }

  _body() {
    return {
      competition_id: $("#awards-competition").value,
      period: $("#awards-period").value.trim(),
      acknowledge_parked: $("#awards-ack-parked").checked,
    };
  }

  _say(text, bad) {
    $("#awards-error").textContent = bad ? text : "";
    $("#awards-result").textContent = bad ? "" : text;
  }

  async _ask(path, what) {
    this._say("", false);
    const buttons = [$("#awards-freeze"), $("#awards-run")];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const answer = await post(path, this._body());
      if (path.endsWith("/runs")) this._showRun(answer);
      else this._say(`已冻结：${answer.entries} 笔，${answer.points} 分（${answer.frozen_at}）`, false);
      toast(what + "完成");
    } catch (err) {
      // 409: the period is not due yet, or its data is not complete; the detail says what lags.
      this._say(`${what}未完成：${err.detail || err.message}`, true);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  _showRun(run) {
    this.run = run;
    this._say(`奖项第 ${run.id} 次计算：${run.people} 人，奖金合计 ${run.amount} 元（${run.status === "approved" ? "已审批" : "草稿"}）`, false);
    const list = clear($("#awards-warnings"));
    for (const w of run.warnings || []) list.append(el("li", {}, w));
    $("#awards-warnings-box").hidden = !(run.warnings || []).length;
    $("#awards-approve-box").hidden = run.status !== "draft";
  }

  async _approve() {
    if (!this.run) return;
    try {
      const approved = await post(`/api/awards/runs/${this.run.id}/approve`, {
        acknowledge_warnings: $("#awards-ack-warnings").checked,
      });
      this._showRun({ ...this.run, ...approved, warnings: [] });
      toast("已审批");
    } catch (err) {
      this._say("审批未完成：" + (err.detail || err.message), true);
    }
  }
}
