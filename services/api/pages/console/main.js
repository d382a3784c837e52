// The console's entry: who is logged in, the login form, the tabs.
"use strict";

import { get, onUnauthorized, post } from "./api.js";
import { AccessTab } from "./access.js";
import { AdjustmentsTab } from "./adjustments.js";
import { AuditTab } from "./audit.js";
import { AwardsTab } from "./awards.js";
import { CompetitionsTab } from "./competitions.js";
import { OrgTab } from "./org.js";
import { $, $$, ROLE, toast } from "./ui.js";

const session = { user: null };
const tabs = {
  competitions: new CompetitionsTab(session),
  org: new OrgTab(session),
  adjustments: new AdjustmentsTab(session),
  awards: new AwardsTab(session),
  audit: new AuditTab(session),
  access: new AccessTab(session),
};
let current = "competitions";

function showLogin(message) {
  session.user = null;
  $("#app").hidden = true;
  $("#who").hidden = true;
  $("#login-view").hidden = false;
  $("#login-error").textContent = message || "";
  tabs.competitions.leave();
  $("#login-username").focus();
}

function showApp(user) {
  session.user = user;
  $("#login-view").hidden = true;
  $("#app").hidden = false;
  $("#who").hidden = false;
  $("#who-name").textContent = user.display_name || user.username || user.name;
  $("#who-role").textContent = ROLE[user.role] || user.role;
  $("#who-role").dataset.role = user.role;
  document.body.dataset.role = user.role;
  openTab(current);
}

function openTab(name) {
  current = name;
  for (const button of $$("nav.tabs button")) button.classList.toggle("active", button.dataset.tab === name);
  for (const [key, tab] of Object.entries(tabs)) {
    $("#tab-" + key).hidden = key !== name;
    if (key !== name && tab.leave) tab.leave();
  }
  tabs[name].enter().catch((err) => toast("加载失败：" + err.message, true));
}

// The API answers who the session belongs to; a missing or expired cookie is a 401.
async function whoAmI() {
  try {
    return await get("/api/auth/me", { quiet401: true });
  } catch (err) {
    if (err.status === 401 || err.status === 403) return null;
    throw err;
  }
}

async function login(event) {
  event.preventDefault();
  $("#login-error").textContent = "";
  $("#login-submit").disabled = true;
  try {
    const username = $("#login-username").value.trim();
    const body = await post("/api/auth/login", { username, password: $("#login-password").value }, { quiet401: true });
    $("#login-password").value = "";
    showApp((await whoAmI()) || body.user || body);
  } catch (err) {
    // The API does not say which part was wrong, and neither does the console.
    $("#login-error").textContent = err.status === 401 || err.status === 403 ? "用户名或密码错误"
      : err.status === 429 ? "尝试次数过多，请稍后再试" : "登录失败：" + err.message;
  } finally {
    $("#login-submit").disabled = false;
  }
}

async function logout() {
  try { await post("/api/auth/logout", {}, { quiet401: true }); } catch { /* the session is gone either way */ }
  showLogin("已退出");
}

async function start() {
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  for (const button of $$("nav.tabs button")) button.addEventListener("click", () => openTab(button.dataset.tab));
  onUnauthorized(() => showLogin("登录已失效，请重新登录"));
  const user = await whoAmI();
  if (user) showApp(user);
  else showLogin();
  document.body.dataset.ready = "1";
}

start().catch((err) => {
  document.body.dataset.ready = "error";
  showLogin("无法连接服务器：" + err.message);
});
