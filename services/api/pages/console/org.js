// 组织架构: import a roster CSV (it becomes org.changed events with effective dates) and look
// at the tree as it stood on any day.
"use strict";

import * as backend from "./backend.js";
import { $, clear, el, toast, todayShanghai } from "./ui.js";

export class OrgTab {
  constructor(session) {
    this.session = session;
    this.wired = false;
  }

  async enter() {
    if (!this.wired) this._wire();
    await this.show();
  }

  leave() {}

  _wire() {
    this.wired = true;
    $("#org-as-of").value = todayShanghai();
    $("#org-show").addEventListener("click", () => this.show());
    $("#org-as-of").addEventListener("change", () => this.show());
    $("#org-import-form").addEventListener("submit", (e) => { e.preventDefault(); this._import(); });
  }

  async show() {
    const asOf = $("#org-as-of").value || todayShanghai();
    const seq = (this.seq = (this.seq || 0) + 1);  // only the latest answer is drawn
    let units;
    try {
      units = await backend.orgTree(asOf);
      if (seq !== this.seq) return;
    } catch (err) {
      if (seq !== this.seq) return;
      const box = clear($("#org-tree"));
      box.append(el("p", { class: "error" }, "读取失败：" + (err.reason || err.message)));
      return;
    }
    const box = clear($("#org-tree"));
    box.dataset.asOf = asOf;
    if (!units.length) {
      box.append(el("p", { class: "empty" }, `${asOf} 时没有任何支行（请先导入花名册）`));
      return;
    }
    const person = (m) => el("li", { "data-cm": m.id }, m.name || m.id, el("span", { class: "id" }, m.id));
    box.append(el("ul", {}, ...units.map((u) => el("li", { "data-unit": u.id },
      el("span", { class: "unit" }, u.name || u.id), el("span", { class: "id" }, u.id),
      el("span", { class: "count" }, `${u.headcount ?? u.members.length} 人`),
      el("ul", {},
        ...u.teams.map((t) => el("li", { "data-unit": t.id },
          el("span", { class: "unit" }, "团队 " + (t.name || t.id)), el("span", { class: "id" }, t.id),
          el("span", { class: "count" }, `${t.members.length} 人`), el("ul", {}, ...t.members.map(person)))),
        ...u.loose.map(person))))));
  }

  async _import() {
    $("#org-import-error").textContent = "";
    $("#org-import-result").textContent = "";
    const file = $("#org-file").files[0];
    if (!file) {
      $("#org-import-error").textContent = "请选择 CSV 文件";
      return;
    }
    try {
      const result = await backend.importOrg(await file.text(), $("#org-effective").value || undefined);
      $("#org-import-result").textContent = result.summary;
      toast("花名册已导入");
      await this.show();
      // The changes reach the tree once the pipeline has passed them on (a few seconds): look again.
      for (const wait of [1500, 3000, 6000, 12000]) setTimeout(() => this.show(), wait);
    } catch (err) {
      const where = err.field ? `${err.field}：` : "";
      $("#org-import-error").textContent = "导入失败：" + where + (err.reason || err.message);
    }
  }
}
