// 竞赛: the list of competitions and their versions, a new draft from a template, the rules form,
// the what-if preview beside the published version, publish and close.
"use strict";

import * as backend from "./backend.js";
import { DefinitionForm } from "./form.js";
import { LiveBoard } from "./live.js";
import { RobotPanel } from "./robot.js";
import { $, $$, clear, confirmDialog, el, RANKING, reasonText, statusBadge, toast, todayShanghai, when } from "./ui.js";

// JSON with sorted keys: two definitions that differ only in key order are the same.
function canonical(value) {
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  if (value && typeof value === "object") {
    return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }
  return JSON.stringify(value);
}

// A version recorded as published (or closed) whose fan-out to the scoring partitions is still
// on its way (docs/operations.md, "Publishing a version"): the relay completes it by itself.
function fanoutNote(v) {
  if (!v.fanout || v.fanout.state !== "pending") return "";
  return el("span", { class: "hint fanout-pending", title: "尚未通知全部计分分区，系统会自动重试" }, " 分发中");
}

const canWrite = (session) => session.user && ["admin", "organiser"].includes(session.user.role);

export class CompetitionsTab {
  constructor(session) {
    this.session = session;
    this.form = new DefinitionForm($("#definition-form"));
    this.live = new LiveBoard();
    this.robot = new RobotPanel(() => canWrite(this.session));
    this.competitions = [];
    this.selected = null;  // {id, version}
    this.versions = [];
    this.units = [];
    this.preview = null;
    this.jsonDirty = false;
    this.wired = false;
  }

  async enter() {
    if (!this.wired) this._wire();
    await Promise.all([this._loadTemplates(), this.refresh()]);
    if (this.selected) await this.open(this.selected.id, this.selected.version);
  }

  leave() { this.live.stop(); }

  _wire() {
    this.wired = true;
    $("#create-form").addEventListener("submit", (e) => { e.preventDefault(); this._create(); });
    $("#refresh-list").addEventListener("click", () => this.refresh());
    $("#save-draft").addEventListener("click", () => this._save());
    $("#run-preview").addEventListener("click", () => this._preview());
    $("#publish").addEventListener("click", () => this._publish());
    $("#close-competition").addEventListener("click", () => this._close());
    $("#new-version").addEventListener("click", () => this._newVersion());
    $("#json-editor").addEventListener("input", () => { this.jsonDirty = true; });
    $("#json-apply").addEventListener("click", () => this._applyJson());
    $("#json-panel").addEventListener("toggle", () => {
      if ($("#json-panel").open && !this.jsonDirty) $("#json-editor").value = JSON.stringify(this.form.read(), null, 2);
    });
    $("#definition-form").addEventListener("input", () => {
      $("#save-status").textContent = "有未保存的修改";
      $("#save-status").classList.add("dirty");
    });
    $("#preview-ranking").addEventListener("change", () => this._runPreview(this.form.read(), $("#preview-ranking").value));
    $("#template").addEventListener("change", () => this._suggestId());
  }

  // -- the list ----------------------------------------------------------------------------

  async refresh() {
    this.competitions = await backend.listCompetitions();
    const body = clear($("#competition-list tbody"));
    if (!this.competitions.length) body.append(el("tr", {}, el("td", { colspan: 4, class: "empty" }, "还没有竞赛，可从模板新建")));
    for (const comp of this.competitions) {
      for (const v of comp.versions) {
        const selected = this.selected && this.selected.id === comp.id && this.selected.version === v.version;
        body.append(el("tr", {
          class: "clickable" + (selected ? " selected" : ""), "data-id": comp.id, "data-version": v.version,
          "data-status": v.status, onclick: () => this.open(comp.id, v.version),
        },
        el("td", {}, v.name || comp.name, el("div", { class: "hint" }, comp.id)),
        el("td", {}, "v" + v.version),
        el("td", {}, statusBadge(v.status), fanoutNote(v)),
        el("td", { class: "hint" }, v.window ? `${v.window.start} ~ ${v.window.end}` : "")));
      }
    }
  }

  async _loadTemplates() {
    const select = $("#template");
    if (select.options.length) return;
    const templates = await backend.listTemplates();
    for (const t of templates) select.append(el("option", { value: t.key, "data-id": t.id }, `${t.title}（${t.name}）`));
    // A new contest usually runs this month.
    const today = todayShanghai();
    const [year, month] = today.split("-").map(Number);
    $("#new-start").value = `${today.slice(0, 7)}-01`;
    $("#new-end").value = `${today.slice(0, 7)}-${String(new Date(year, month, 0).getDate()).padStart(2, "0")}`;
    this._suggestId();
  }

  _suggestId() {
    const option = $("#template").selectedOptions[0];
    if (!option) return;
    const month = todayShanghai().slice(0, 7).replace("-", "");
    $("#new-id").placeholder = `${option.dataset.id || option.value}-${month}`;
  }

  async _create() {
    $("#create-error").textContent = "";
    const id = $("#new-id").value.trim() || $("#new-id").placeholder;
    try {
      const made = await backend.instantiate($("#template").value, {
        id, name: $("#new-name").value.trim() || undefined, start: $("#new-start").value, end: $("#new-end").value,
      });
      toast(`已新建草稿 ${made.id} v${made.version}`);
      $("#new-id").value = "";
      $("#new-name").value = "";
      await this.refresh();
      await this.open(made.id, made.version);
    } catch (err) {
      const where = err.field ? { id: "竞赛编号", "window.start": "开始日期", "window.end": "结束日期", window: "竞赛窗口",
        name: "名称" }[err.field] || err.field : "";
      $("#create-error").textContent = (err.status === 409 ? "编号已被使用：" : "新建失败：") +
        (where ? `${where}：${reasonText(err.reason)}` : err.reason || err.message);
    }
  }

  // -- one version -------------------------------------------------------------------------

  async open(id, version) {
    this.selected = { id, version };
    for (const row of $$("#competition-list tbody tr")) {
      row.classList.toggle("selected", row.dataset.id === id && Number(row.dataset.version) === version);
    }
    const [versions, units] = await Promise.all([backend.listVersions(id), this._units()]);
    this.versions = versions;
    const current = versions.find((v) => v.version === version) || versions[versions.length - 1];
    if (!current) return;
    this.selected.version = current.version;
    this.current = current;
    const readOnly = current.status !== "draft" || !canWrite(this.session);
    $("#editor").hidden = false;
    $("#editor-title").textContent = current.definition.name;
    const badge = $("#editor-status");
    badge.replaceWith(Object.assign(statusBadge(current.status), { id: "editor-status" }));
    this._drawVersions();
    this.form.clearErrors();
    this.form.render(current.definition, { units, readOnly });
    this.jsonDirty = false;
    $("#json-editor").value = JSON.stringify(current.definition, null, 2);
    $("#json-editor").readOnly = readOnly;
    $("#json-apply").disabled = readOnly;
    $("#form-error").textContent = "";
    $("#save-status").textContent = "";
    $("#editor-hint").textContent = this._hint(current);
    $("#save-draft").hidden = readOnly;
    $("#publish").hidden = readOnly;
    $("#run-preview").hidden = current.status !== "draft" || !canWrite(this.session);
    $("#close-competition").hidden = current.status !== "published" || !canWrite(this.session);
    $("#new-version").hidden = current.status === "draft" || !canWrite(this.session) ||
      versions.some((v) => v.status === "draft");
    $("#preview").hidden = true;
    if (versions.some((v) => v.status === "published" || v.status === "closed")) {
      this.live.show(id);
      this.robot.show(id);
    } else {
      this.live.stop();
      this.robot.hide();
    }
  }

  _hint(v) {
    const who = [];
    if (v.created_by) who.push(`创建：${v.created_by} ${when(v.created_at)}`);
    if (v.updated_by && v.updated_at !== v.created_at) who.push(`修改：${v.updated_by} ${when(v.updated_at)}`);
    if (v.published_by) who.push(`发布：${v.published_by} ${when(v.published_at)}`);
    if (v.closed_by) who.push(`结束：${v.closed_by} ${when(v.closed_at)}`);
    if (v.fanout && v.fanout.state === "pending") {
      who.push("分发中：尚未通知全部计分分区，系统会自动重试" + (v.fanout.last_error ? `（${v.fanout.last_error}）` : ""));
    }
    const lock = v.status === "draft" ? "" : "已发布的版本不可修改；修改请「基于此版本新建草稿」。";
    return [lock, who.join("；")].filter(Boolean).join(" ");
  }

  _drawVersions() {
    const box = clear($("#versions"));
    for (const v of this.versions) {
      box.append(el("button", {
        type: "button", class: v.version === this.selected.version ? "selected" : "",
        "data-version": v.version, onclick: () => this.open(this.selected.id, v.version),
      }, `v${v.version} `, statusBadge(v.status)));
    }
  }

  async _units() {
    try {
      this.units = await backend.subBranches(todayShanghai());
    } catch (err) {
      if (err.status !== 404) toast("组织架构读取失败：" + err.message, true);
    }
    return this.units;
  }

  _definition() {
    if (this.jsonDirty && !this._applyJson()) return null;
    return this.form.read();
  }

  _applyJson() {
    $("#json-error").textContent = "";
    let parsed;
    try {
      parsed = JSON.parse($("#json-editor").value);
    } catch (err) {
      $("#json-error").textContent = "JSON 格式错误：" + err.message;
      return false;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      $("#json-error").textContent = "应为一个 JSON 对象";
      return false;
    }
    this.form.render(parsed);
    this.jsonDirty = false;
    return true;
  }

  /** Show an API refusal beside its field; true when it was a field error. */
  _refused(err, what) {
    this.form.clearErrors();
    if (err.status === 422 && err.field !== null && err.field !== undefined) {
      const placed = this.form.showError(err.field, err.reason);
      $("#form-error").textContent = placed ? `${what}失败：请修改标红的项` : `${what}失败：${err.field}：${err.reason}`;
      $("#form-error").dataset.field = err.field;
      return true;
    }
    $("#form-error").textContent = `${what}失败：` + (err.reason || err.message);
    delete $("#form-error").dataset.field;
    return false;
  }

  async _save({ quiet = false, onlyIfChanged = false } = {}) {
    const definition = this._definition();
    if (!definition) return false;
    // Publishing saves first; an unchanged draft is not saved again (no empty edit in the audit log).
    if (onlyIfChanged && canonical(definition) === canonical(this.current.definition)) return true;
    $("#form-error").textContent = "";
    this.form.clearErrors();
    let saved;
    try {
      saved = await backend.saveDraft(this.selected.id, this.selected.version, definition);
    } catch (err) {
      this._refused(err, "保存");
      return false;
    }
    $("#save-status").textContent = "已保存 " + new Date().toLocaleTimeString("zh-CN", { hour12: false });
    $("#save-status").classList.remove("dirty");
    if (!quiet) toast("草稿已保存");
    // The record holds the definition as the core wrote it (decimals as text, defaults filled
    // in): the form goes on from that, so the next comparison is like with like.
    this.current = saved;
    if (canonical(definition) !== canonical(saved.definition)) this.form.render(saved.definition);
    $("#editor-title").textContent = saved.definition.name;
    $("#editor-hint").textContent = this._hint(saved);
    await this.refresh();
    return true;
  }

  // -- what-if -----------------------------------------------------------------------------

  async _preview() {
    const definition = this._definition();
    if (!definition) return;
    const select = $("#preview-ranking");
    const offered = definition.rankings && definition.rankings.length ? definition.rankings : ["customer_manager"];
    if ([...select.options].map((o) => o.value).join() !== offered.join()) {
      clear(select);
      for (const ranking of offered) select.append(el("option", { value: ranking }, RANKING[ranking] || ranking));
    }
    await this._runPreview(definition, select.value || offered[0]);
  }

  async _runPreview(definition, ranking) {
    $("#form-error").textContent = "";
    this.form.clearErrors();
    $("#run-preview").disabled = true;
    $("#preview-meta").textContent = "试算中…（读取窗口内的历史事件）";
    $("#preview").hidden = false;
    $("#preview").dataset.state = "running";
    try {
      this.preview = await backend.preview(this.selected.id, definition, ranking);
    } catch (err) {
      $("#preview").hidden = true;
      this._refused(err, "试算");
      return;
    } finally {
      $("#run-preview").disabled = false;
    }
    this._drawPreview();
    $("#preview").dataset.state = "done";
  }

  _names() {
    const names = new Map();
    for (const u of this.units) {
      names.set(u.id, u.name);
      for (const t of u.teams || []) names.set(t.id, t.name);
      for (const m of u.members || []) names.set(m.id, m.name);
      for (const t of u.teams || []) for (const m of t.members || []) names.set(m.id, m.name);
    }
    return names;
  }

  _drawPreview() {
    const p = this.preview;
    if (!p) return;
    const names = this._names();
    const movers = p.rows.filter((r) => r.change !== "same").length;
    $("#preview-meta").textContent = [`耗时 ${(p.elapsedMs / 1000).toFixed(2)} 秒`,
      p.events !== undefined ? `读取事件 ${p.events} 条` : null,
      p.against ? `对比已发布 v${p.against}` : "尚无已发布版本，仅显示试算结果",
      `有变化 ${movers} 人`].filter(Boolean).join(" · ");
    $("#preview-meta").dataset.elapsedMs = String(p.elapsedMs);
    const body = clear($("#preview-table tbody"));
    if (!p.rows.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "empty" }, "窗口内的历史数据没有产生积分")));
    for (const r of p.rows) {
      const cls = { up: "up moved", down: "down moved", new: "new moved", dropped: "dropped moved", same: "" }[r.change] ?? "";
      const name = r.name || names.get(r.id);
      const delta = Number(r.delta);
      body.append(el("tr", { class: cls, "data-id": r.id, "data-change": r.change },
        el("td", {}, r.rank === null ? "—" : String(r.rank)),
        el("td", {}, name && name !== r.id ? `${name}（${r.id}）` : r.id),
        el("td", { class: "num", "data-points": r.points ?? "" }, r.points ?? "—"),
        el("td", { class: "num" }, r.publishedRank === null ? "—" : String(r.publishedRank)),
        el("td", { class: "num" }, r.publishedPoints ?? "—"),
        el("td", { class: "num move" }, r.change === "new" ? "新上榜" : r.change === "dropped" ? "出榜"
          : r.move > 0 ? `↑${r.move}` : r.move < 0 ? `↓${-r.move}` : "—"),
        el("td", { class: "num" }, delta > 0 ? `+${r.delta}` : delta < 0 ? r.delta : "0")));
    }
  }

  // -- publish, close, new version ---------------------------------------------------------

  async _publish() {
    const name = this.form.read().name;
    if (!(await confirmDialog(`确认发布「${name}」v${this.selected.version}？发布后该版本不可修改，计分立即按新规则进行。`))) return;
    if (!(await this._save({ quiet: true, onlyIfChanged: true }))) return;
    try {
      const published = await backend.publish(this.selected.id, this.selected.version);
      if (published.fanout && published.fanout.state === "pending") {
        toast(`已发布 v${this.selected.version}，正在分发到计分分区（系统会自动完成）`);
      } else {
        toast(`已发布 v${this.selected.version}`);
      }
    } catch (err) {
      this._refused(err, "发布");
      return;
    }
    await this.refresh();
    await this.open(this.selected.id, this.selected.version);
  }

  async _close() {
    if (!(await confirmDialog(`确认结束竞赛「${this.current.definition.name}」？结束后不再计分，榜单定格。`))) return;
    try {
      await backend.close(this.selected.id, this.selected.version);
    } catch (err) {
      $("#form-error").textContent = "结束失败：" + (err.reason || err.message);
      return;
    }
    toast("竞赛已结束");
    await this.refresh();
    await this.open(this.selected.id, this.selected.version);
  }

  async _newVersion() {
    try {
      const made = await backend.newVersion(this.selected.id);
      toast(`已新建草稿 v${made.version}`);
      await this.refresh();
      await this.open(this.selected.id, made.version);
    } catch (err) {
      $("#form-error").textContent = "新建版本失败：" + (err.reason || err.message);
    }
  }
}
