"use strict";
// A customer manager's own page, /me/{cm_id}: per competition the rank and points, what the
// points are made of, progress against the plan's targets (and the 小小银行家 dimensions with the
// balance rule), who is just above, and the latest events that scored. Live: each competition's
// stream says when something changed; the page then asks again (at most every REFRESH_MS).

(() => {
  const { el, num, signed, money, clock, getJson, Feed } = Live;
  const cmId = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop() || "");
  const REFRESH_MS = 1500;
  const MAX_STREAMS = 4;
  const STATUS_NAMES = { published: "进行中", closed: "已结束", draft: "草稿" };
  // Labels for components the API did not label (it normally sends component_labels).
  const COMPONENT_LABELS = {
    base: "基础分", clawback: "扣回", cap: "封顶扣减", daily_cap: "日封顶扣减", contest_cap: "总封顶扣减",
    bonus: "加分", segment_bonus: "客群加分", channel_bonus: "渠道加分", new_firm_bonus: "新注册企业加分",
    adjustment: "人工调整", composite: "综合得分", threshold: "达标奖励", tier: "阶梯奖励",
  };
  const $ = (id) => document.getElementById(id);
  const state = {
    manager: null, around: new Map(), feeds: new Map(), timer: null, last: 0, seenRecent: new Set(), first: true,
    open: new Set(), explainable: false,
  };
  const meState = (window.meState = { connection: "connecting", refreshes: 0, scored: 0 });

  function setConnection(kind) {
    $("conn").className = "conn " + kind;
    $("conn-text").textContent = { live: "实时", connecting: "连接中", lost: "连接已断开，正在重连…" }[kind];
    meState.connection = kind;
    document.body.dataset.connection = kind;
  }

  function feedsChanged() {
    const states = [...state.feeds.values()].map((f) => f.state);
    if (states.includes("lost")) setConnection("lost");
    else if (states.includes("connecting")) setConnection("connecting");
    else if (states.length) setConnection("live");
  }

  function componentLabel(comp, key) {
    const labels = comp.component_labels || {};
    if (labels[key]) return labels[key];
    const tail = key.split(/[.:|]/).pop();
    return COMPONENT_LABELS[key] || COMPONENT_LABELS[tail] || key;
  }

  // A published contest outside its window is not "running": not yet started, or being settled.
  function phase(comp) {
    const day = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
    const w = comp.window || {};
    if (comp.status === "published" && w.start && day < w.start) return "未开始";
    if (comp.status === "published" && w.end && day > w.end) return "已截止";
    return STATUS_NAMES[comp.status] || comp.status || "";
  }

  // One line per competition at the top: where I stand everywhere, before the details.
  function overview(comps) {
    return comps.map((c) => el("a", { class: "chip", href: "#c-" + c.competition_id, "data-id": c.competition_id },
      el("span", { class: "n" }, c.name),
      el("b", {}, c.rank ? "第" + c.rank + "名" : "未上榜"),
      el("span", { class: "v" }, num(c.points) + "分")));
  }

  function dayRange(w) {
    const fmt = (s) => { const [, m, d] = String(s).split("-"); return Number(m) + "月" + Number(d) + "日"; };
    return w ? fmt(w.start) + " – " + fmt(w.end) : "";
  }

  function isAmount(item) {
    return (item.unit && /元/.test(item.unit)) || /amount|deposit|balance|increase/i.test(item.metric || item.name || "");
  }

  function fmtValue(item, v) {
    return isAmount(item) ? money(v) : num(v);
  }

  function unitOf(item) {
    if (isAmount(item)) return "元";
    return item.unit ? " " + item.unit : "";
  }

  // A measure against one or several targets: ticks at each, "还差" to the next one not reached.
  function progressBar(item, low) {
    const actual = Number(item.actual) || 0;
    const targets = (item.targets || (item.target !== undefined ? [item.target] : [])).map(Number).filter((t) => t > 0);
    const top = targets.length ? Math.max(...targets) : Math.max(actual, 1);
    const next = targets.find((t) => t > actual);
    const track = el("div", { class: "track" },
      el("div", { class: "fill", style: "width:" + (Math.min(1, actual / top) * 100).toFixed(1) + "%" }));
    for (const t of targets.slice(0, -1)) track.append(el("span", { class: "tick", style: "left:" + ((t / top) * 100).toFixed(1) + "%" }));
    // A cap (活动封顶) is room left, not a goal.
    const cap = /_cap$/.test(item.metric || "");
    const left = next === undefined
      ? el("div", { class: "left" }, cap ? "已到封顶，再多不计分" : "已达成全部目标")
      : el("div", { class: "left" }, (cap ? "距封顶 " : "距目标 ") + fmtValue(item, next) + unitOf(item) + (cap ? " 还可得 " : " 还差 "),
        el("b", {}, fmtValue(item, next - actual)),
        unitOf(item), targets.length > 1 ? "（目标 " + targets.map((t) => fmtValue(item, t)).join(" / ") + "）" : "");
    const attainment = item.attainment !== undefined && item.attainment !== null
      ? " · " + Math.round(Number(item.attainment) * 100) + "%" : "";
    return el("div", { class: "bar" + (next === undefined ? " done" : "") + (low ? " low" : ""), "data-metric": item.metric || item.name || "" },
      el("div", { class: "label" }, el("span", {}, item.label || item.metric || item.name),
        el("b", {}, fmtValue(item, actual) + " / " + fmtValue(item, top) + unitOf(item) + attainment)),
      track, left);
  }

  function changeBadge(change) {
    if (change === undefined) return null;
    if (change === null) return el("span", { class: "change new" }, "新");
    if (change > 0) return el("span", { class: "change up" }, "▲" + change);
    if (change < 0) return el("span", { class: "change down" }, "▼" + -change);
    return null;
  }

  function aroundList(comp, around) {
    if (!around || !around.row) return null;
    const me = around.row;
    const list = el("ol", { class: "around" });
    const line = (r, cls) => {
      const diff = Number(r.points) - Number(me.points);
      return el("li", { class: cls, "data-id": r.id },
        el("span", { class: "r" }, String(r.rank)),
        el("span", { class: "n" }, r.id === cmId ? "我" : (r.name || r.id)),
        el("span", { class: "v" }, num(r.points),
          r.id === cmId ? null : el("span", { class: "d" }, diff > 0 ? "领先我 " + num(diff) : diff < 0 ? "落后我 " + num(-diff) : "同分")));
    };
    for (const r of around.above || []) list.append(line(r, "above"));
    list.append(line(me, "me"));
    for (const r of around.below || []) list.append(line(r, "below"));
    return list;
  }

  // The distance to the next place up: to the nearest row ranked strictly ahead (rows tied with
  // me share my rank and are not ahead).
  function gapLine(around) {
    if (!around || !around.row) return null;
    const me = around.row;
    const ahead = (around.above || []).filter((r) => r.rank < me.rank);
    const next = ahead[ahead.length - 1];
    if (next) {
      const diff = Number(next.points) - Number(me.points);
      return el("div", { class: "gap" }, "距第 " + next.rank + " 名（" + (next.name || next.id) + "）还差 ", el("b", {}, num(diff)), " 分");
    }
    const tied = (around.above || []).concat(around.below || []).filter((r) => r.rank === me.rank);
    if (me.rank === 1) return el("div", { class: "gap lead" }, tied.length ? "★ 并列第一，再多一分就领先！" : "★ 暂列第一，保持住！");
    return el("div", { class: "gap" }, "与 " + tied.map((r) => r.name || r.id).join("、") + " 并列第 " + me.rank + " 名");
  }

  function componentsTable(comp) {
    const entries = Object.entries(comp.components || {});
    if (!entries.length) return null;
    const table = el("table", { class: "components" });
    for (const [key, points] of entries) {
      table.append(el("tr", { class: Number(points) < 0 ? "minus" : "", "data-component": key },
        el("td", {}, componentLabel(comp, key)), el("td", { class: "p" }, signed(points))));
    }
    table.append(el("tr", { class: "total" }, el("td", {}, "合计"), el("td", { class: "p" }, num(comp.points))));
    return table;
  }

  function scorecardBlock(card) {
    if (!card) return null;
    const box = el("div", { class: "scorecard" },
      el("h3", {}, "小小银行家 · 各维度达成"),
      el("div", { class: "composite" }, "综合得分", el("b", {}, num(card.composite)), card.penalised ? el("span", { class: "muted" }, "（已按均衡规则折算）") : null));
    if (card.warning) box.append(el("div", { class: "warning", role: "alert" }, "⚠ " + card.warning));
    const dims = card.dimensions || [];
    const weakest = Math.min(...dims.map((d) => Number(d.attainment)));
    for (const d of dims) {
      const low = d.below_floor !== undefined ? d.below_floor : card.penalised && Number(d.attainment) === weakest;
      box.append(progressBar({ metric: d.name, label: d.label, actual: d.actual, targets: [d.target], attainment: d.attainment, unit: d.unit }, low));
    }
    return box;
  }

  function competitionCard(comp) {
    const around = state.around.get(comp.competition_id);
    const card = el("article", { class: "comp", id: "c-" + comp.competition_id, "data-id": comp.competition_id },
      el("h2", {}, comp.name),
      el("div", { class: "meta" }, phase(comp) + " · " + dayRange(comp.window)));
    const rankBox = el("div", { class: "rank" }, el("small", {}, "当前排名"));
    if (comp.rank) rankBox.append(el("b", {}, String(comp.rank)), el("span", { class: "of" }, "/ " + comp.count), changeBadge(around && around.row ? around.row.rank_change : undefined));
    else rankBox.append(el("b", {}, "—"));
    card.append(el("div", { class: "hero" }, rankBox, el("div", { class: "pts" }, el("small", {}, "积分"), el("b", {}, num(comp.points)))));
    card.append(gapLine(around) || "");
    const list = aroundList(comp, around);
    if (list) card.append(el("h3", {}, "我的前后"), list);
    const table = componentsTable(comp);
    if (table) card.append(el("h3", {}, "积分构成"), table);
    const ledger = explainBlock(comp);
    if (ledger) card.append(ledger);
    // The scorecard's dimensions are drawn with it, below, with their attainment.
    const dims = new Set(((comp.scorecard && comp.scorecard.dimensions) || []).map((d) => d.name));
    const progress = (comp.progress || []).filter((p) => !dims.has(p.metric));
    if (progress.length) {
      card.append(el("h3", {}, "目标进度"));
      for (const p of progress) card.append(progressBar(p, false));
    }
    const sc = scorecardBlock(comp.scorecard);
    if (sc) card.append(sc);
    const wall = badgeWall(comp);
    if (wall) card.append(el("h3", {}, "我的徽章"), wall);
    const sprints = challengeList(comp);
    if (sprints) card.append(el("h3", {}, "冲刺挑战"), sprints);
    return card;
  }

  // The badge wall: every badge the competition offers; won ones lit (with when, and how many
  // times for a monthly or streak badge), the rest dimmed as still to win.
  const REWARD = /^(badge|challenge)$/;  // the core's 0-point entries for badges and challenges
  const BADGE_ICONS = { milestone: "★", threshold: "◎", streak: "连" };
  function badgeWall(comp) {
    const badges = comp.badges || [];
    if (!badges.length) return null;
    return el("ul", { class: "badge-wall" }, ...badges.map((b) => {
      const won = b.earned.length > 0;
      const last = won ? b.earned[b.earned.length - 1] : null;
      return el("li", { class: "badge" + (won ? " won" : ""), "data-badge": b.badge },
        el("span", { class: "icon", "aria-hidden": "true" }, BADGE_ICONS[b.kind] || "★"),
        el("b", {}, b.name),
        el("small", {}, won ? shortDate(last.at) + " 获得" + (b.earned.length > 1 ? " · ×" + b.earned.length : "") : "待解锁"));
    }));
  }

  function challengeList(comp) {
    const list = comp.challenges || [];
    if (!list.length) return null;
    return el("ul", { class: "sprints" }, ...list.map((c) => {
      const share = Math.min(1, Number(c.value) / Number(c.goal));
      return el("li", { class: c.reached_at ? "done" : "", "data-challenge": c.id },
        el("div", { class: "line" }, el("b", {}, c.name), el("span", {}, c.reached_at ? "已达成 " + shortDate(c.reached_at) : c.value + " / " + c.goal)),
        el("div", { class: "track" }, el("div", { class: "fill", style: "width:" + Math.round(share * 100) + "%" })),
        el("small", { class: "muted" }, c.start.slice(5) + " — " + c.end.slice(5)));
    }));
  }

  // A late entry arrived after its month was frozen: it counts, but in the next open month's
  // adjustment, not in its own month's prizes (docs/competitions.md).
  const LATE_NOTE = "该笔在所属月份冻结后才到达：照常计分，但计入下一个未冻结月份的调整，不参与原月份评奖";

  // Runs of the same thing (a scorecard re-scored by twenty assignments) read as one line "×20".
  function runs(recent) {
    const out = [];
    for (const r of recent) {
      const last = out[out.length - 1];
      if (last && last.competition_id === r.competition_id && last.label === r.label && last.points === r.points) {
        last.times += 1;
        last.keys.push(r.event_id + "|" + r.competition_id + "|" + r.component);
      } else {
        out.push(Object.assign({ times: 1, keys: [r.event_id + "|" + r.competition_id + "|" + r.component] }, r));
      }
    }
    return out;
  }

  function drawRecent(manager) {
    const names = new Map((manager.competitions || []).map((c) => [c.competition_id, c.name]));
    const list = $("recent");
    const items = runs(manager.recent || []).map((r) => {
      const fresh = !state.first && r.keys.some((k) => !state.seenRecent.has(k));
      r.keys.forEach((k) => state.seenRecent.add(k));
      const why = el("span", { class: "why" },
        clock(r.occurred_at) + " · " + (names.get(r.competition_id) || r.competition_id) + (r.reason ? " · " + r.reason : ""));
      return el("li", { class: (Number(r.points) < 0 ? "minus" : "") + (fresh ? " fresh" : ""), "data-event": r.event_id },
        el("span", { class: "what" }, r.label || r.component, r.times > 1 ? el("span", { class: "times" }, " ×" + r.times) : null,
          r.late ? el("span", { class: "late", title: LATE_NOTE }, " 迟到·计入下期调整") : null),
        el("span", { class: "p" }, REWARD.test(r.component || "") ? "★" : signed(r.points)),
        why);
    });
    list.replaceChildren(...items);
    $("recent-empty").hidden = items.length > 0;
  }

  // 积分明细: every ledger entry behind the points (the explain API), opened on demand.
  function explainBlock(comp) {
    if (!state.explainable) return null;
    const cid = comp.competition_id;
    const open = state.open.has(cid);
    const box = el("div", { class: "ledger" });
    const button = el("button", { class: "ledger-toggle", type: "button", "aria-expanded": open ? "true" : "false" },
      open ? "收起积分明细 ▾" : "查看积分明细 ▸");
    button.addEventListener("click", () => {
      if (state.open.has(cid)) state.open.delete(cid);
      else state.open.add(cid);
      box.replaceWith(explainBlock(comp));
    });
    box.append(button);
    if (!open) return box;
    const list = el("ol", { class: "ledger-list" }, el("li", { class: "muted" }, "加载中…"));
    box.append(list);
    getJson("/api/competitions/" + encodeURIComponent(cid) + "/explain/" + encodeURIComponent(cmId), {}, { quiet: true })
      .then((found) => {
        const entries = (found.entries || []).slice().reverse();
        list.replaceChildren(...entries.slice(0, 50).map((e) => el("li", { class: Number(e.points) < 0 ? "minus" : "" },
          el("span", { class: "what" }, e.label || e.component,
            e.late ? el("span", { class: "late", title: e.late_note || LATE_NOTE }, " 迟到·计入下期调整") : null),
          el("span", { class: "p" }, signed(e.points)),
          el("span", { class: "why" }, shortDate(e.occurred_at) + (e.reason ? " · " + e.reason : "") + " · 规则第 " + e.rule_version + " 版"))));
        if (!entries.length) list.replaceChildren(el("li", { class: "muted" }, "还没有积分记录"));
        else if (entries.length > 50) list.append(el("li", { class: "muted" }, "仅显示最近 50 条，共 " + entries.length + " 条"));
      })
      // 404: nothing is known of the manager in this competition yet (as for their standing).
      .catch((err) => list.replaceChildren(el("li", { class: "muted" },
        err.status === 404 ? "还没有积分记录" : "明细暂不可用，请稍后再试")));
    return box;
  }

  function shortDate(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return "";
    return d.toLocaleString("zh-CN", { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Shanghai" });
  }

  async function refresh() {
    state.timer = null;
    state.last = Date.now();
    try {
      const manager = await getJson("/api/managers/" + encodeURIComponent(cmId));
      const comps = manager.competitions || [];
      const arounds = await Promise.all(comps.map((c) =>
        c.rank ? getJson("/api/competitions/" + encodeURIComponent(c.competition_id) + "/leaderboard/around/" + encodeURIComponent(cmId),
          { ranking: "customer_manager", size: 2 }).catch(() => null) : Promise.resolve(null)));
      comps.forEach((c, i) => state.around.set(c.competition_id, arounds[i]));
      state.manager = manager;
      draw(manager);
      $("problem").hidden = true;
      syncFeeds(comps);
      meState.refreshes += 1;
    } catch (err) {
      if (err.status === 401 || err.status === 403) {
        $("problem").hidden = false;
        $("problem").textContent = err.status === 401 ? "请先登录，或使用带有效令牌的链接。" : "无权查看这位客户经理的数据。";
        later(30000);
      } else if (err.status === 404) {
        $("problem").hidden = false;
        $("problem").textContent = "找不到客户经理 " + cmId + "，请确认链接。";
        $("name").textContent = cmId;
      } else if (!state.feeds.size) {
        setConnection("lost");
        later(5000);
      }
    }
  }

  function draw(manager) {
    $("name").textContent = manager.name || manager.cm_id;
    document.title = (manager.name || manager.cm_id) + " · 我的竞赛";
    $("unit").textContent = [manager.sub_branch && manager.sub_branch.name, manager.team && manager.team.name].filter(Boolean).join(" · ");
    const comps = manager.competitions || [];
    $("overview").replaceChildren(...overview(comps));
    $("overview").hidden = comps.length < 2;
    $("comps").replaceChildren(...(comps.length ? comps.map(competitionCard) : [el("p", { class: "card muted" }, "暂未参加进行中的竞赛")]));
    drawRecent(manager);
    state.first = false;
    $("updated").textContent = "更新于 " + new Date().toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
  }

  // Ask again soon, but not more often than every REFRESH_MS however busy the streams are.
  function later(delay) {
    if (state.timer) return;
    const wait = delay !== undefined ? delay : Math.max(0, state.last + REFRESH_MS - Date.now());
    state.timer = setTimeout(refresh, wait);
  }

  function syncFeeds(comps) {
    const live = comps.filter((c) => c.status === "published").slice(0, MAX_STREAMS).map((c) => c.competition_id);
    const want = new Set(live.length ? live : comps.slice(0, MAX_STREAMS).map((c) => c.competition_id));
    for (const [cid, feed] of state.feeds) {
      if (!want.has(cid)) { feed.stop(); state.feeds.delete(cid); }
    }
    for (const cid of want) {
      if (state.feeds.has(cid)) continue;
      const path = "/api/competitions/" + encodeURIComponent(cid);
      const feed = new Feed({
        streamPath: path + "/stream",
        pollPath: path + "/leaderboard",
        query: { ranking: "customer_manager", limit: 1 },
        onSnapshot: (board, how) => {
          // The first snapshot only says the stream is there; later ones mean the board moved.
          if (feed.seenSnapshot || how === "poll") later();
          feed.seenSnapshot = true;
        },
        onScored: (m) => {
          if (m.cm_id === cmId) {
            meState.scored += 1;
            // A badge or challenge entry carries no points: its label says it all, never red.
            if (REWARD.test(m.component || "")) toast("★ " + (m.label || m.component), false);
            else toast((m.label || m.component) + " " + signed(m.points), Number(m.points) < 0);
          }
          later();
        },
        onState: (kind) => {
          feedsChanged();
          if (kind === "live" && feed.wasLost) later();  // catch up on what happened while away
          if (kind === "lost") feed.wasLost = true;
        },
      });
      state.feeds.set(cid, feed);
      feed.start();
    }
    feedsChanged();
  }

  let toastTimer = null;
  function toast(text, minus) {
    const box = $("toast");
    box.textContent = text;
    box.classList.toggle("minus", minus);
    box.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => box.classList.remove("show"), 3500);
  }

  // 为什么这笔没算分: one of this manager's own events, by its id (the API refuses anyone else's).
  const WHY_STATUS = { counted: "已计分", not_counted: "未计分", dead_letter: "被拒收（未进入计分）", unknown: "未找到计分记录" };

  async function askWhy(event) {
    event.preventDefault();
    const id = $("why-id").value.trim();
    const answer = $("why-answer");
    if (!id) return;
    answer.replaceChildren(el("p", { class: "muted" }, "查询中…"));
    try {
      const found = await getJson("/api/managers/" + encodeURIComponent(cmId) + "/events/" + encodeURIComponent(id) + "/explain",
        {}, { quiet: true });
      answer.replaceChildren(...whyLines(found));
    } catch (err) {
      answer.replaceChildren(el("p", { class: "muted" }, err.status === 404 ? `找不到你的事件 ${id}：请核对编号（只能查询本人的事件）`
        : err.status === 403 ? "无权查询这位客户经理的事件。" : "暂时无法查询，请稍后再试。"));
    }
    meState.whyAsked = (meState.whyAsked || 0) + 1;
  }

  function whyLines(found) {
    const lines = [el("p", { class: "why-status " + found.status }, `${found.event_id}：${WHY_STATUS[found.status] || found.status}`)];
    for (const d of found.dead_letters || []) lines.push(el("p", {}, `被拒收：${d.reason}（${d.detail}）`));
    if (found.duplicates && found.duplicates.note) lines.push(el("p", {}, found.duplicates.note));
    for (const c of found.competitions || []) {
      const head = `${c.name || c.competition_id}：${c.counted ? "计 " + signed(c.points_now) + " 分" : "未计分"}`;
      lines.push(el("p", { class: "why-comp" }, head));
      const findings = (c.findings || []).map((f) => el("li", {}, f.text));
      if (findings.length) lines.push(el("ul", { class: "why-findings" }, ...findings));
    }
    return lines;
  }

  $("why-form").addEventListener("submit", askWhy);

  // The explain endpoint (issue 10) may not exist on every server: offer 积分明细 only if it does.
  async function probeExplain() {
    try {
      const r = await fetch(Live.withQuery("/openapi.json"), { cache: "no-store" });
      const spec = r.ok ? await r.json() : {};
      state.explainable = Object.keys(spec.paths || {}).some((p) => p.includes("/explain/{cm_id}"));
    } catch (err) {
      state.explainable = false;
    }
  }

  if (!cmId) {
    $("problem").hidden = false;
    $("problem").textContent = "链接里缺少客户经理编号（/me/客户经理编号）。";
  } else {
    probeExplain().finally(refresh);
  }
})();
