// 用户与密钥 (admins only): people who log in, and keys for programs and wall screens. A new key
// is shown once, in the answer that made it; the console never sees it again.
"use strict";

import * as backend from "./backend.js";
import { $, $$, clear, confirmDialog, el, reasonText, ROLE, toast, when } from "./ui.js";

export class AccessTab {
  constructor(session) {
    this.session = session;
    this.wired = false;
  }

  async enter() {
    if (!this.wired) this._wire();
    await this.list();
  }

  leave() {}

  _wire() {
    this.wired = true;
    $("#user-form").addEventListener("submit", (e) => { e.preventDefault(); this._addUser(); });
    $("#key-form").addEventListener("submit", (e) => { e.preventDefault(); this._addKey(); });
  }

  async list() {
    const [users, keys] = await Promise.all([backend.users(), backend.keys()]);
    const userRows = clear($("#user-list tbody"));
    for (const u of users) {
      const me = u.username === this.session.user.name;
      userRows.append(el("tr", { "data-user": u.username },
        el("td", {}, u.username), el("td", {}, ROLE[u.role] || u.role), el("td", {}, u.sub_branch_id || "全部"),
        el("td", { class: "hint" }, `${u.created_by} ${when(u.created_at)}`),
        el("td", {}, u.disabled_at ? `已停用 ${when(u.disabled_at)}` : "正常"),
        el("td", {}, u.disabled_at || me ? null : el("button", { type: "button", class: "plain small danger",
          onclick: () => this._disable(u.username) }, "停用"))));
    }
    const keyRows = clear($("#key-list tbody"));
    for (const k of keys) {
      keyRows.append(el("tr", { "data-key": k.key_id },
        el("td", {}, el("code", {}, k.key_id)), el("td", {}, k.label), el("td", {}, ROLE[k.role] || k.role),
        el("td", {}, k.sub_branch_id || "全部"), el("td", { class: "hint" }, `${k.created_by} ${when(k.created_at)}`),
        el("td", {}, k.revoked_at ? `已吊销 ${when(k.revoked_at)}` : "有效"),
        el("td", {}, k.revoked_at ? null : el("button", { type: "button", class: "plain small danger",
          onclick: () => this._revoke(k) }, "吊销"))));
    }
  }

  _clear(form) {
    for (const node of $$(".field-error", form)) node.remove();
    for (const node of $$(".invalid", form)) node.classList.remove("invalid");
  }

  _refused(form, errorBox, err) {
    this._clear(form);
    const field = err.field && { sub_branch_id: "sub_branch" }[err.field] || err.field;
    const input = field && form.querySelector(`[data-field="${field}"]`);
    if (input) {
      input.classList.add("invalid");
      input.closest("label").append(el("span", { class: "field-error" }, reasonText(err.reason)));
    }
    $(errorBox).textContent = (err.status === 409 ? "已存在：" : "失败：") + reasonText(err.reason || err.message);
  }

  async _addUser() {
    const form = $("#user-form");
    $("#user-error").textContent = "";
    const body = { username: $("#user-name").value.trim(), password: $("#user-password").value,
      role: $("#user-role").value, sub_branch: $("#user-sub-branch").value.trim() || null };
    try {
      await backend.createUser(body);
    } catch (err) {
      this._refused(form, "#user-error", err);
      return;
    }
    form.reset();
    this._clear(form);
    toast(`已新增用户 ${body.username}`);
    await this.list();
  }

  async _addKey() {
    const form = $("#key-form");
    $("#key-error").textContent = "";
    $("#key-made").hidden = true;
    const body = { role: $("#key-role").value, label: $("#key-label").value.trim(),
      sub_branch: $("#key-sub-branch").value.trim() || null };
    let made;
    try {
      made = await backend.createKey(body);
    } catch (err) {
      this._refused(form, "#key-error", err);
      return;
    }
    this._clear(form);
    $("#key-value").textContent = made.key;
    const screen = made.role === "display";
    $("#key-screen").hidden = !screen;
    if (screen) {
      const url = `${location.origin}/screen?sub_branch=${encodeURIComponent(made.sub_branch_id)}&token=${encodeURIComponent(made.key)}`;
      $("#key-screen-link").textContent = url;
      $("#key-screen-link").href = url;
    }
    $("#key-made").hidden = false;
    await this.list();
  }

  async _disable(username) {
    if (!(await confirmDialog(`确认停用用户 ${username}？停用后无法登录。`))) return;
    try { await backend.disableUser(username); } catch (err) { toast("停用失败：" + (err.reason || err.message), true); }
    await this.list();
  }

  async _revoke(key) {
    if (!(await confirmDialog(`确认吊销「${key.label}」（${key.key_id}）？立即生效。`))) return;
    try { await backend.revokeKey(key.key_id); } catch (err) { toast("吊销失败：" + (err.reason || err.message), true); }
    await this.list();
  }
}
