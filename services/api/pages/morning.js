"use strict";
// The 晨会 page of one sub-branch, /morning/{sub_branch_id}?competition=&day=: yesterday's close
// (or ?day=), who climbed and who fell, progress against the targets, who is closest to the next
// rank, every manager's line; printable (morning.css's print rules) and as XLSX. It reads one
// report from the API and draws it; nothing here is live.

(() => {
  const { el, getJson, withQuery, params } = Live;
  const subBranch = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop() || "");
  const $ = (id) => document.getElementById(id);
  const state = (window.morningState = { ready: false, report: null });

  function problem(text) {
    $("problem").hidden = false;
    $("problem").textContent = text;
  }

  Live.onDenied = (status) => problem(status === 401 ? "链接无效或已过期，请向管理员索取新的链接" : "无权查看这个支行");

  function change(n) {
    if (n === null || n === undefined) return el("span", { class: "muted" }, "新上榜");
    if (n > 0) return el("span", { class: "up" }, "↑" + n);
    if (n < 0) return el("span", { class: "down" }, "↓" + -n);
    return el("span", { class: "muted" }, "—");
  }

  function figure(value, label) {
    return el("div", { class: "figure" }, el("b", {}, value), el("span", {}, label));
  }

  function list(id, items, draw) {
    const ol = $(id);
    ol.replaceChildren(...items.map(draw));
    $(id + "-empty").hidden = items.length > 0;
  }

  function draw(r) {
    document.title = `晨会 · ${r.sub_branch_name} · ${r.day}`;
    $("title").textContent = `${r.sub_branch_name} 晨会`;
    $("subtitle").textContent = `${r.competition_name} · 截至 ${r.day} 日终 · 全行 ${r.board_size} 人上榜`;
    $("summary").replaceChildren(
      figure(r.total, "支行合计积分"),
      figure("+" + r.gained, "昨日新增"),
      figure(String(r.lines.length), "上榜客户经理"),
      ...r.targets.map((t) => figure(`${t.met} / ${r.lines.length}`, `${t.label}（${t.points} 分）`)),
    );
    list("up", r.up, (m) => el("li", {}, `${m.name} 第${m.rank}名 `, change(m.change), ` · +${m.gained}`));
    list("down", r.down, (m) => el("li", {}, `${m.name} 第${m.rank}名 `, change(m.change), ` · +${m.gained}`));
    list("closest", r.closest, (c) =>
      el("li", {}, `${c.name} 第${c.rank}名，再得 `, el("b", {}, c.gap), ` 分追平 ${c.ahead}（第${c.next_rank}名）`));
    $("badges-card").hidden = !r.badges.length;
    $("badges").replaceChildren(...r.badges.map((b) => el("li", { "data-cm": b.cm_id },
      el("b", {}, b.name), " 获得「", b.badge, "」",
      el("span", { class: "muted" }, " " + new Date(b.at).toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" })))));
    $("lines").tBodies[0].replaceChildren(...r.lines.map((l) => el("tr", { "data-cm": l.cm_id },
      el("td", {}, String(l.rank)), el("td", {}, l.name), el("td", { class: "num" }, l.points),
      el("td", { class: "num" }, "+" + l.gained), el("td", {}, change(l.change)),
      el("td", {}, l.reached.join("、") || "—"))));
    $("foot").textContent = `数据来自积分台账，按业务发生时间统计至 ${r.day} 24:00（北京时间）`;
    $("xlsx").href = withQuery(`/api/competitions/${encodeURIComponent(r.competition_id)}/morning.xlsx`,
      { sub_branch: subBranch, day: r.day });
  }

  async function load() {
    const competitions = await getJson("/api/competitions");
    const listing = Array.isArray(competitions) ? competitions : competitions.competitions || [];
    const wanted = params.get("competition") || (listing[0] && listing[0].id);
    $("competition").replaceChildren(...listing.map((c) => el("option", { value: c.id, selected: c.id === wanted }, c.name)));
    if (!wanted) return problem("还没有竞赛");
    const query = { sub_branch: subBranch, day: params.get("day") || "" };
    const report = await getJson(`/api/competitions/${encodeURIComponent(wanted)}/morning`, query);
    $("day").value = report.day;
    state.report = report;
    draw(report);
    state.ready = true;
  }

  function go(changes) {
    const url = new URL(location.href);
    for (const [k, v] of Object.entries(changes)) url.searchParams.set(k, v);
    location.href = url.toString();
  }

  $("print").addEventListener("click", () => window.print());
  $("day").addEventListener("change", (e) => e.target.value && go({ day: e.target.value }));
  $("competition").addEventListener("change", (e) => go({ competition: e.target.value }));
  load().catch((err) => {
    if (err.status !== 401 && err.status !== 403) problem("加载失败：" + err.message);
    state.failed = String(err.message);
  });
})();
