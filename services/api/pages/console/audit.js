// 审计: who changed what, when, with the diff (paths in the definition's own notation).
"use strict";

import * as backend from "./backend.js";
import { $, clear, el, label, when } from "./ui.js";

const ACTION = {
  "competition.create": "新建竞赛草稿", "competition.draft": "新建草稿", "competition.update": "修改草稿",
  "competition.save": "修改草稿", "competition.publish": "发布", "competition.close": "结束竞赛",
  "competition.version": "新建版本", "award_run.approve": "审批奖项",
  "award_period.acknowledge_parked": "确认挂起记录后冻结", "competition.edit": "修改草稿", "org.import": "导入花名册", "adjustment.create": "人工调整",
  "user.create": "新建用户", "user.disable": "停用用户", "key.create": "新建密钥", "key.revoke": "吊销密钥",
  "auth.login": "登录", "auth.logout": "退出",
};

const MAX_SHOWN = 12;

function short(value) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 77) + "…" : text;
}

function pathLabel(path) {
  const last = String(path).split(/[.[\]]/).filter(Boolean).pop();
  const words = label(last);
  return words !== last ? `${path}（${words}）` : path;
}

export function diffView(diff) {
  if (diff === null || diff === undefined || (Array.isArray(diff) && !diff.length)) return el("span", { class: "hint" }, "—");
  // A competition's entry: {version, against, changes: [...]}, the changes against version `against`.
  if (diff && Array.isArray(diff.changes)) {
    const head = diff.version !== undefined
      ? el("div", { class: "hint" }, `v${diff.version}` +
        (diff.against && diff.against !== diff.version ? `（对比 v${diff.against}）` : "")) : null;
    return el("div", {}, head, diffView(diff.changes));
  }
  if (!Array.isArray(diff)) {
    if (typeof diff !== "object") return el("span", {}, short(diff));
    return el("ul", { class: "diff" },
      ...Object.entries(diff).slice(0, MAX_SHOWN).map(([k, v]) => el("li", {}, el("code", {}, label(k)), " ", short(v))));
  }
  const items = diff.slice(0, MAX_SHOWN).map((c) => {
    if (c.path === "(competition)" && c.op === "added") return el("li", {}, "新建（完整定义）");
    const what = el("code", {}, pathLabel(c.path));
    if (c.op === "added") return el("li", {}, "新增 ", what, " = ", el("span", { class: "new" }, short(c.to)));
    if (c.op === "removed") return el("li", {}, "删除 ", what, " ", el("span", { class: "old" }, short(c.from)));
    return el("li", {}, what, " ", el("span", { class: "old" }, short(c.from)), " → ", el("span", { class: "new" }, short(c.to)));
  });
  if (diff.length > MAX_SHOWN) items.push(el("li", { class: "hint" }, `…另有 ${diff.length - MAX_SHOWN} 项`));
  return el("ul", { class: "diff" }, ...items);
}

export class AuditTab {
  constructor(session) {
    this.session = session;
    this.wired = false;
  }

  async enter() {
    if (!this.wired) {
      this.wired = true;
      $("#audit-refresh").addEventListener("click", () => this.enter());
    }
    const entries = await backend.audit();
    const body = clear($("#audit-list tbody"));
    if (!entries.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "empty" }, "暂无记录")));
    for (const e of entries) {
      body.append(el("tr", { "data-action": e.action, "data-object": e.object_id },
        el("td", {}, when(e.at)),
        el("td", {}, e.actor),
        el("td", {}, ACTION[e.action] || e.action),
        el("td", {}, e.object_id),
        el("td", {}, diffView(e.diff))));
    }
  }

  leave() {}
}
