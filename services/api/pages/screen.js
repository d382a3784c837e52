"use strict";
// The wall screen: /screen?sub_branch=sb-x&competitions=a,b&privacy=1&rotate=20
//   sub_branch    whose office this is: its managers' board, its place among sub-branches
//   competitions  which ones, in this order (default: the published ones running today)
//   privacy       1 on screens customers can see: no amounts, no customer names or ids
//   rotate        seconds per competition (0: stay on the first)
//   replay        YYYY-MM-DD: replay that day instead of showing it live: the board steps
//                 through the day's changes (GET …/leaderboard/changes), each step the board as
//                 it stood then (…/leaderboard?as_of=, from the ledger); `step` seconds a step (3)
// One competition at a time, each fitting the screen; rows move to their new places (FLIP),
// every scored event shows in the ticker and as a toast.

(() => {
  const { params, el, num, signed, money, clock, getJson, Feed } = Live;
  const config = {
    subBranch: params.get("sub_branch") || "",
    only: (params.get("competitions") || "").split(",").map((s) => s.trim()).filter(Boolean),
    privacy: ["1", "true", "yes"].includes((params.get("privacy") || "").toLowerCase()),
    rotateMs: Math.max(0, Number(params.get("rotate") ?? 20) || 0) * 1000,
    ranking: params.get("ranking") || "customer_manager",
    replay: /^\d{4}-\d{2}-\d{2}$/.test(params.get("replay") || "") ? params.get("replay") : "",
    stepMs: Math.max(0.2, Number(params.get("step") ?? 3) || 3) * 1000,
  };
  const REPLAY_STEPS = 48;  // at most this many steps a day: busy days step through groups of changes
  const MAX_STREAMS = 4;  // browsers allow 6 connections per host over HTTP/1.1; keep room for fetches
  const TICKER_MAX = 12;
  const CAP = /\.(daily_cap|contest_cap)$/;  // the core's cap components (services/readmodel/labels.py)
  const REWARD = /^(badge|challenge)$/;  // the core's 0-point entries: a badge won, a challenge reached
  const MAX_BARS = 4;  // the plan's 100 customers (25 / 30 / 50) and deposits, on a scorecard
  const ROOMY_ROWS = 6;  // this many rows or fewer are drawn bigger (4.4rem each: 6 fit at 1080)
  const STATUS_NAMES = { published: "进行中", closed: "已结束", draft: "草稿" };
  const METRIC_LABELS = {
    accounts: "开户", basic_accounts: "基本户", customers: "客户", payroll_agreements: "代发签约",
    payroll_employees: "代发人数", products: "产品", visits: "拜访", sales: "销售",
  };
  // Metrics that are money: never on a privacy screen.
  const AMOUNT = /amount|balance|deposit|yuan|increase|money|sum/i;
  const SIDE_RANKINGS = [
    ["sub_branch_total", "支行排行（总分）"],
    ["team", "团队排行"],
  ];

  const $ = (id) => document.getElementById(id);
  const state = {
    comps: [], index: 0, boards: new Map(), sideBoards: new Map(), feeds: new Map(),
    seen: new Set(), seenOrder: [], toasts: [], toastTimer: null, unitName: "",
    rotateTimer: null, sideTimer: null, listingTimer: null, replayAt: "", replayRun: 0,
    parties: [], partyTimer: null, challenges: new Map(), challengeTimer: null,
  };
  // For tests and for whoever debugs a screen on the wall: what the page believes.
  const screenState = (window.screenState = {
    connection: "connecting", current: null, snapshots: 0, polls: 0, scored: 0, moves: 0, rendered: 0,
    replay: null,  // in replay mode: { day, steps, step, at, done }
  });

  if (config.privacy) document.body.classList.add("privacy");
  Live.onDenied = (status) => {
    state.denied = status;
    setConnection("denied");
  };

  // -- the connection badge ---------------------------------------------------------------

  function setConnection(kind) {
    const badge = $("conn");
    if (state.denied && kind !== "live") kind = "denied";
    if (kind === "live") state.denied = null;
    const text = {
      live: "实时更新", connecting: "正在连接…", lost: "连接已断开，正在重连…",
      replay: "回放 " + config.replay,
      denied: state.denied === 403 ? "无权查看：令牌不属于本支行" : "无权查看：链接缺少有效的显示令牌",
    }[kind];
    badge.className = "conn " + kind;
    $("conn-text").textContent = text;
    screenState.connection = kind;
    document.body.dataset.connection = kind;
  }

  function feedsChanged() {
    const states = [...state.feeds.values()].map((f) => f.state);
    if (states.includes("lost")) setConnection("lost");
    else if (states.includes("connecting") || !states.length) setConnection(states.length ? "connecting" : screenState.connection);
    else setConnection("live");
  }

  // -- choosing the competitions -----------------------------------------------------------

  function today() {
    if (config.replay) return config.replay;
    return new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });  // YYYY-MM-DD
  }

  function choose(listing) {
    const all = listing.competitions || [];
    if (config.only.length) {
      const byId = new Map(all.map((c) => [c.id, c]));
      return config.only.filter((id) => byId.has(id)).map((id) => byId.get(id));
    }
    const day = today();
    const published = all.filter((c) => c.status === "published");
    const running = published.filter((c) => c.window.start <= day && day <= c.window.end);
    return running.length ? running : published;
  }

  async function loadListing() {
    try {
      const listing = await getJson("/api/competitions");
      const comps = choose(listing);
      const ids = comps.map((c) => c.id).join(",");
      if (ids !== state.comps.map((c) => c.id).join(",")) {
        state.comps = comps;
        state.index = Math.min(state.index, Math.max(0, comps.length - 1));
        drawDots();
        syncFeeds();
        show(state.index, false);
        scheduleRotation();
        if (config.replay) replay();
      }
      if (!comps.length) {
        $("comp-name").textContent = "暂无进行中的竞赛";
        $("comp-meta").textContent = "";
        if (!state.feeds.size) setConnection("live");
      }
    } catch (err) {
      if (!state.feeds.size) setConnection("lost");
    } finally {
      clearTimeout(state.listingTimer);
      // New competitions appear within a minute; until the first answer, retry soon.
      state.listingTimer = setTimeout(loadListing, state.comps.length ? 60000 : 5000);
    }
  }

  // -- feeds: one per competition shown (or only the current one when there are many) -------

  function wanted() {
    if (state.comps.length <= MAX_STREAMS) return state.comps.map((c) => c.id);
    return state.comps.length ? [state.comps[state.index].id] : [];
  }

  function syncFeeds() {
    if (config.replay) return;  // a replay reads the ledger's past boards, not the live feeds
    const want = new Set(wanted());
    for (const [cid, feed] of state.feeds) {
      if (!want.has(cid)) {
        feed.stop();
        state.feeds.delete(cid);
      }
    }
    for (const cid of want) {
      if (state.feeds.has(cid)) continue;
      const comp = state.comps.find((c) => c.id === cid);
      const path = "/api/competitions/" + encodeURIComponent(cid);
      const feed = new Feed({
        streamPath: path + "/stream",
        pollPath: path + "/leaderboard",
        query: { ranking: rankingOf(comp), sub_branch: config.subBranch, limit: rowsThatFit(), privacy: config.privacy ? 1 : "" },
        onSnapshot: (board, how) => snapshot(cid, board, how),
        onScored: (message) => scored(comp, message),
        onState: feedsChanged,
      });
      state.feeds.set(cid, feed);
      feed.start();
    }
    feedsChanged();
  }

  function rankingOf(comp) {
    const offered = (comp && comp.rankings) || [];
    return offered.includes(config.ranking) ? config.ranking : offered[0] || config.ranking;
  }

  function rowsThatFit() {
    const rows = $("rows");
    const rowPx = parseFloat(getComputedStyle(document.documentElement).fontSize) * 3.3;
    return Math.max(3, Math.min(20, Math.floor(rows.clientHeight / rowPx) || 10));
  }

  // -- the board ---------------------------------------------------------------------------

  function snapshot(cid, board, how) {
    state.boards.set(cid, board);
    screenState.snapshots += 1;
    if (how === "poll") screenState.polls += 1;
    learnUnitName(board.rows || []);
    if (current() && current().id === cid) {
      drawBoard(board, true);
      refreshSideSoon();
    }
  }

  function current() {
    return state.comps[state.index] || null;
  }

  function learnUnitName(rows) {
    if (!config.subBranch || state.unitName) return;
    const row = rows.find((r) => r.sub_branch_id === config.subBranch && r.sub_branch_name);
    if (row) setUnitName(row.sub_branch_name);
  }

  function setUnitName(name) {
    if (!name || name === state.unitName) return;
    state.unitName = name;
    $("unit").textContent = name;
    document.title = name + " · 普惠金融竞赛实时大屏";
  }

  function drawMeta(comp, board) {
    const meta = $("comp-meta");
    const parts = [phase(comp), dayRange(comp.window)];
    const left = daysLeft(comp.window.end);
    meta.replaceChildren();
    meta.append(parts.join(" · "));
    if (comp.status === "published" && left === 0) meta.append(" · ", el("b", {}, "今天截止"));
    else if (comp.status === "published" && left !== null && left > 0) meta.append(" · 还剩 ", el("b", {}, String(left)), " 天");
    if (board && board.count !== undefined) meta.append(" · 共 ", el("b", {}, String(board.count)), " 人上榜");
  }

  // A published contest outside its window is not "running": not yet started, or being settled.
  function phase(comp) {
    const day = today();
    if (comp.status === "published" && day < comp.window.start) return "未开始";
    if (comp.status === "published" && day > comp.window.end) return "已截止";
    return STATUS_NAMES[comp.status] || comp.status;
  }

  function dayRange(window) {
    const fmt = (s) => { const [, m, d] = s.split("-"); return Number(m) + "月" + Number(d) + "日"; };
    return fmt(window.start) + " – " + fmt(window.end);
  }

  function daysLeft(end) {
    const ms = Date.parse(end + "T23:59:59+08:00") - Date.now();
    return Number.isFinite(ms) ? Math.floor(ms / 86400000) : null;
  }

  function changeCell(row) {
    const change = row.rank_change;
    if (change === undefined) return el("span", { class: "change" });
    if (change === null) return el("span", { class: "change new", title: "今日新上榜" }, "新");
    if (change > 0) return el("span", { class: "change up", title: "今日上升" }, "▲" + change);
    if (change < 0) return el("span", { class: "change down", title: "今日下降" }, "▼" + -change);
    return el("span", { class: "change same" }, "–");
  }

  function whoCell(row) {
    const sub = [];
    if (!config.subBranch && row.sub_branch_name) sub.push(row.sub_branch_name);
    if (row.team_name) sub.push(row.team_name);
    return el("span", { class: "who" },
      el("span", { class: "name" }, row.name || row.id),
      sub.length ? el("span", { class: "sub" }, sub.join(" · ")) : null);
  }

  function isAmount(item) {
    return (item.unit && /元/.test(item.unit)) || AMOUNT.test(item.metric || item.name || "");
  }

  // 线下授信客户 → 线下授信: four bars share one cell.
  function shortLabel(item) {
    const label = item.label || METRIC_LABELS[item.metric] || item.metric || item.name || "";
    return label.length > 4 ? label.replace(/客户$/, "").replace(/^(重点|代发工资)/, "") : label;
  }

  // One measure against its targets: ticks at each target, the label names the next one to reach.
  function bar(item) {
    const actual = Number(item.actual) || 0;
    const targets = (item.targets || (item.target !== undefined ? [item.target] : [])).map(Number).filter((t) => t > 0);
    const top = targets.length ? Math.max(...targets) : Math.max(actual, 1);
    const next = targets.find((t) => t > actual) ?? top;
    const share = Math.max(0, Math.min(1, actual / top));
    // On the wall a sum of money is a share of its target: shorter, and nothing to hide.
    const shown = isAmount(item) ? Math.floor((actual / top) * 100) + "%" : num(actual) + "/" + num(next);
    const track = el("div", { class: "track" }, el("div", { class: "fill", style: "width:" + (share * 100).toFixed(1) + "%" }));
    if (targets.length > 1) {
      for (const t of targets.slice(0, -1)) track.append(el("span", { class: "tick", style: "left:" + ((t / top) * 100).toFixed(1) + "%" }));
    }
    return el("div", { class: "bar" + (actual >= top ? " done" : ""), "data-metric": item.metric || item.name || "" },
      el("div", { class: "label" }, el("span", {}, shortLabel(item)), el("b", {}, shown)),
      track);
  }

  function figuresCell(row) {
    const cell = el("span", { class: "figures" });
    let progress = row.progress;
    if (!progress && row.scorecard && row.scorecard.dimensions) progress = row.scorecard.dimensions;
    if (progress && progress.length) {
      cell.append(el("div", { class: "bars" }, ...progress.slice(0, MAX_BARS).map(bar)));
      return cell;
    }
    const chips = el("div", { class: "chips" });
    for (const [key, value] of Object.entries(row.metrics || {})) {
      if (config.privacy && AMOUNT.test(key)) continue;
      chips.append(el("span", { class: "chip" + (AMOUNT.test(key) ? " amount" : ""), "data-metric": key },
        (METRIC_LABELS[key] || key) + " ", el("b", {}, AMOUNT.test(key) ? money(value) : num(value))));
    }
    cell.append(chips);
    return cell;
  }

  function rowElement(row) {
    return el("div", { class: "row", "data-id": row.id, "data-rank": String(row.rank), "data-points": row.points },
      el("span", { class: "rank" }, String(row.rank)),
      changeCell(row),
      whoCell(row),
      figuresCell(row),
      el("span", { class: "points" }, num(row.points)));
  }

  // FLIP: note where each row was (First), redraw (Last), push each row back where it was
  // (Invert) and let it glide to its new place (Play).
  function drawBoard(board, animate) {
    const comp = current();
    if (!comp) return;
    drawMeta(comp, board);
    const container = $("rows");
    const before = new Map();
    if (animate) {
      for (const node of container.children) {
        before.set(node.dataset.id, { top: node.getBoundingClientRect().top, rank: Number(node.dataset.rank), points: node.dataset.points });
      }
    }
    const rows = (board.rows || []).slice(0, rowsThatFit());
    container.classList.toggle("roomy", rows.length > 0 && rows.length <= ROOMY_ROWS);
    // Three bars or more need the wide figures cell (the team's name gives way).
    const bars = Math.max(0, ...rows.map((r) => Math.min(MAX_BARS, (r.progress || (r.scorecard && r.scorecard.dimensions) || []).length)));
    document.body.classList.toggle("with-bars", bars >= 3);
    const nodes = rows.map(rowElement);
    container.replaceChildren(...nodes);
    $("empty").hidden = rows.length > 0;
    $("board-head").querySelector(".who").textContent = board.ranking === "customer_manager" ? "客户经理" : "单位";
    screenState.rendered += 1;
    if (!animate) return;
    for (const node of nodes) {
      const was = before.get(node.dataset.id);
      if (!was) {
        node.animate([{ opacity: 0, transform: "translateX(-2rem)" }, { opacity: 1, transform: "none" }], { duration: 600, easing: "ease-out" });
        continue;
      }
      const dy = was.top - node.getBoundingClientRect().top;
      const rank = Number(node.dataset.rank);
      if (rank !== was.rank) {
        screenState.moves += 1;
        node.dataset.moved = rank < was.rank ? "up" : "down";
      }
      if (was.points !== node.dataset.points) {
        node.classList.add("flash");
      }
      if (dy) {
        node.animate([{ transform: "translateY(" + dy + "px)" }, { transform: "none" }],
          { duration: 900, easing: "cubic-bezier(.2,.8,.2,1)" });
      }
    }
  }

  // -- the side card: where this sub-branch (or team) stands -------------------------------

  function sideRanking(comp) {
    return SIDE_RANKINGS.find(([r]) => comp.rankings.includes(r) && r !== rankingOf(comp));
  }

  function refreshSideSoon() {
    if (state.sideTimer) return;
    state.sideTimer = setTimeout(async () => {
      state.sideTimer = null;
      await refreshSide();
    }, 800);
  }

  async function refreshSide() {
    const comp = current();
    if (!comp) return;
    const side = sideRanking(comp);
    if (!side) {
      $("branches-card").hidden = true;
      return;
    }
    try {
      const board = await getJson("/api/competitions/" + encodeURIComponent(comp.id) + "/leaderboard",
        { ranking: side[0], limit: 8, privacy: config.privacy ? 1 : "", as_of: state.replayAt }, { quiet: true });
      state.sideBoards.set(comp.id, { side, board });
      if (current() && current().id === comp.id) drawSide(side, board);
    } catch (err) {
      // A display token may not see the other units' board: then there is no card. Otherwise
      // the feed's badge tells about a lost connection and the card keeps its last figures.
      if (err.status === 401 || err.status === 403) $("branches-card").hidden = true;
    }
  }

  function drawSide(side, board) {
    $("branches-card").hidden = !board.rows.length;  // no units scored yet: no card
    $("branches-title").textContent = side[1];
    const list = $("branches");
    const mine = board.rows.find((r) => r.id === config.subBranch);
    if (mine && mine.name && mine.name !== mine.id) setUnitName(mine.name);
    else if (config.subBranch && !state.unitName) $("unit").textContent = config.subBranch;  // never named
    list.replaceChildren(...board.rows.slice(0, 6).map((r) =>
      el("li", { class: r.id === config.subBranch ? "mine" : "", "data-id": r.id },
        el("span", { class: "r" }, String(r.rank)),
        el("span", { class: "n" }, r.name || r.id),
        el("span", { class: "v" }, num(r.points)))));
    if (mine && mine.rank > 6) {
      list.append(el("li", { class: "mine", "data-id": mine.id },
        el("span", { class: "r" }, String(mine.rank)), el("span", { class: "n" }, mine.name || mine.id), el("span", { class: "v" }, num(mine.points))));
    }
  }

  // -- scored events: ticker and toast -----------------------------------------------------

  function scored(comp, message) {
    const key = message.event_id + "|" + message.competition_id + "|" + (message.component || "");
    if (state.seen.has(key)) return;  // a replay after reconnecting
    state.seen.add(key);
    state.seenOrder.push(key);
    if (state.seenOrder.length > 500) state.seen.delete(state.seenOrder.shift());
    screenState.scored += 1;
    if (REWARD.test(message.component || "")) {
      reward(comp, message);
      return;
    }
    const points = Number(message.points);
    const who = message.name || message.cm_id;
    // A cap's entry (单日封顶, 活动封顶) takes back what went over the cap: not a loss, a note that
    // the manager has reached it. Shown neutral, never as a red minus.
    const cap = CAP.test(message.component || "");
    const label = message.label || message.component || "积分";
    const what = cap ? `${label}：已达上限，超出的 ${num(Math.abs(points))} 分不计` : label + " " + signed(message.points);
    // Privacy screens never show the reason: it may name an account, a customer or an amount.
    const detail = [clock(message.occurred_at), (comp && comp.name) || message.competition_id];
    if (!config.privacy && message.reason) detail.push(message.reason);
    const tone = cap ? "cap" : points < 0 ? "minus" : "";
    const item = el("li", { class: tone, "data-event": message.event_id, "data-competition": message.competition_id },
      el("div", { class: "line" },
        el("span", { class: "cm" }, who), " ",
        el("span", { class: "what" }, cap ? `${label}：已达上限` : label), " ",
        el("span", { class: "p" }, cap ? `${num(Math.abs(points))} 分不计` : signed(message.points))),
      el("small", {}, detail.join(" · ")));
    const ticker = $("ticker");
    ticker.prepend(item);
    while (ticker.children.length > TICKER_MAX) ticker.lastElementChild.remove();
    $("ticker-empty").hidden = true;
    toast(who + " " + what, tone);
  }

  // -- badges and challenges: a celebration, never a red line ------------------------------

  function reward(comp, message) {
    const who = message.name || message.cm_id;
    const revoked = (message.label || "").startsWith("收回") || (message.label || "").startsWith("撤销");
    const label = message.label || (message.component === "challenge" ? "挑战达成" : "获得徽章");
    const detail = [clock(message.occurred_at), (comp && comp.name) || message.competition_id];
    const item = el("li", { class: revoked ? "reward-off" : "reward", "data-event": message.event_id, "data-competition": message.competition_id },
      el("div", { class: "line" },
        el("span", { class: "cm" }, who), " ",
        el("span", { class: "what" }, label), " ",
        el("span", { class: "p" }, revoked ? "" : "★")),
      el("small", {}, detail.join(" · ")));
    const ticker = $("ticker");
    ticker.prepend(item);
    while (ticker.children.length > TICKER_MAX) ticker.lastElementChild.remove();
    $("ticker-empty").hidden = true;
    if (message.component === "challenge") refreshChallengesSoon();
    if (revoked) return;  // a clawback took it back: a quiet line in the ticker, no fanfare
    screenState.celebrations = (screenState.celebrations || 0) + 1;
    state.parties.push({ who, label, challenge: message.component === "challenge" });
    if (state.parties.length > 3) state.parties.splice(0, state.parties.length - 3);
    if (!state.partyTimer) nextParty();
  }

  function nextParty() {
    const box = $("celebrate");
    const item = state.parties.shift();
    if (!item) {
      box.classList.remove("show");
      state.partyTimer = null;
      return;
    }
    box.classList.remove("show");
    void box.offsetWidth;  // restart the animation for the next one
    $("celebrate-icon").textContent = item.challenge ? "冠" : "★";
    $("celebrate-who").textContent = item.who;
    $("celebrate-what").textContent = item.label;
    const sparks = $("sparks");
    sparks.replaceChildren(...Array.from({ length: 18 }, (_, i) =>
      el("i", { style: `--a:${i * 20}deg;--d:${(i % 3) * 0.08}s` })));
    box.classList.add("show");
    state.partyTimer = setTimeout(nextParty, state.parties.length ? 3200 : 5000);
  }

  // -- challenges: the sprints running in the current competition --------------------------

  // "2/3 10:00": when a side reached the goal (the order of the winners)
  function reachedAt(iso) {
    const d = new Date(iso);
    const day = d.toLocaleDateString("zh-CN", { month: "numeric", day: "numeric", timeZone: "Asia/Shanghai" });
    return day.replace(/月/, "/").replace(/日/, "") + " " + clock(iso);
  }

  function refreshChallengesSoon() {
    if (state.challengeTimer) return;
    state.challengeTimer = setTimeout(async () => {
      state.challengeTimer = null;
      await refreshChallenges();
    }, 800);
  }

  async function refreshChallenges() {
    const comp = current();
    if (!comp) return;
    try {
      const found = await getJson("/api/competitions/" + encodeURIComponent(comp.id) + "/challenges", {}, { quiet: true });
      state.challenges.set(comp.id, found.challenges);
      if (current() && current().id === comp.id) drawChallenges(found.challenges);
    } catch (err) {
      if (err.status === 401 || err.status === 403 || err.status === 404) $("challenge-card").hidden = true;
    }
  }

  function drawChallenges(list) {
    // running ones first, then the rest by their start; two at most fit beside the board
    const shown = [...(list || [])].sort((a, b) => (b.today - a.today) || a.start.localeCompare(b.start)).slice(0, 2);
    $("challenge-card").hidden = !shown.length;
    screenState.challenges = shown.length;
    $("challenges").replaceChildren(...shown.map((c) => {
      const rows = c.rows.slice(0, 5);
      return el("div", { class: "challenge" + (c.today ? " running" : ""), "data-challenge": c.id },
        el("div", { class: "c-head" }, el("b", {}, c.name),
          el("small", {}, c.start.slice(5) + "—" + c.end.slice(5) + " · 目标 " + num(c.goal) + " · 前 " + c.winners + " 名获胜")),
        el("ol", { class: "c-rows" }, ...(rows.length ? rows.map((r) =>
          el("li", { class: r.winner ? "won" : "" },
            el("span", { class: "m" }, r.winner ? el("i", { class: "medal p" + Math.min(r.place, 4) }, String(r.place)) : ""),
            el("span", { class: "n" }, r.name || r.id),
            el("span", { class: "t" }, el("span", { style: "width:" + Math.round(Number(r.progress) * 100) + "%" })),
            el("span", { class: "v" }, r.reached_at ? reachedAt(r.reached_at) : num(r.value) + "/" + num(c.goal)))) :
          [el("li", { class: "none" }, "等待第一位冲刺者…")])));
    }));
  }

  function toast(text, tone) {
    state.toasts.push({ text, tone });
    if (state.toasts.length > 3) state.toasts.splice(0, state.toasts.length - 3);
    if (!state.toastTimer) nextToast();
  }

  function nextToast() {
    const box = $("toast");
    const item = state.toasts.shift();
    if (!item) {
      box.classList.remove("show");
      state.toastTimer = null;
      return;
    }
    box.textContent = item.text;
    box.classList.toggle("minus", item.tone === "minus");
    box.classList.toggle("cap", item.tone === "cap");
    box.classList.add("show");
    state.toastTimer = setTimeout(nextToast, state.toasts.length ? 2200 : 4000);
  }

  // -- rotation ----------------------------------------------------------------------------

  function drawDots() {
    $("dots").replaceChildren(...state.comps.map((c, i) =>
      el("li", { class: i === state.index ? "on" : "", title: c.name, "data-id": c.id })));
  }

  function show(index, fade) {
    if (!state.comps.length) return;
    state.index = ((index % state.comps.length) + state.comps.length) % state.comps.length;
    const comp = current();
    const slide = $("slide");
    const draw = () => {
      $("comp-name").textContent = comp.name;
      screenState.current = comp.id;  // once it shows
      $("rows").replaceChildren();
      const board = state.boards.get(comp.id);
      if (board) drawBoard(board, false);
      else drawMeta(comp, null);
      const side = state.sideBoards.get(comp.id);
      if (side) drawSide(side.side, side.board);
      else if (!sideRanking(comp)) $("branches-card").hidden = true;
      refreshSide();
      const sprints = state.challenges.get(comp.id);
      if (sprints) drawChallenges(sprints);
      else $("challenge-card").hidden = true;
      refreshChallenges();
      drawDots();
      slide.classList.remove("leaving");
    };
    syncFeeds();
    if (fade) {
      slide.classList.add("leaving");
      setTimeout(draw, 450);
    } else {
      draw();
    }
  }

  function scheduleRotation() {
    clearInterval(state.rotateTimer);
    const bar = $("rotor-bar");
    bar.getAnimations().forEach((a) => a.cancel());
    if (!config.rotateMs || state.comps.length < 2) return;
    const sweep = () => bar.animate([{ width: "0%" }, { width: "100%" }], { duration: config.rotateMs, easing: "linear" });
    sweep();
    state.rotateTimer = setInterval(() => {
      show(state.index + 1, true);
      sweep();
    }, config.rotateMs);
  }

  // -- start -------------------------------------------------------------------------------

  // -- replay: the day's changes, one step at a time --------------------------------------

  function steps(times) {
    const per = Math.max(1, Math.ceil(times.length / REPLAY_STEPS));
    const out = [];
    for (let i = per - 1; i < times.length; i += per) out.push(times[i]);
    if (times.length && out[out.length - 1] !== times[times.length - 1]) out.push(times[times.length - 1]);
    return out;
  }

  async function replay() {
    const run = ++state.replayRun;  // a new listing starts a new run; the old one stops
    const comp = current();
    setConnection("replay");
    if (!comp) return;
    const path = "/api/competitions/" + encodeURIComponent(comp.id);
    const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
    const startOfDay = config.replay + "T00:00:00+08:00";
    while (run === state.replayRun) {
      try {
        const changes = await getJson(path + "/leaderboard/changes", { day: config.replay });
        const todo = [startOfDay, ...steps(changes.times)];
        screenState.replay = { day: config.replay, steps: todo.length, step: 0, at: null, done: false };
        for (let i = 0; i < todo.length && run === state.replayRun; i += 1) {
          state.replayAt = todo[i];
          const board = await getJson(path + "/leaderboard", {
            ranking: rankingOf(comp), sub_branch: config.subBranch, limit: rowsThatFit(),
            privacy: config.privacy ? 1 : "", as_of: todo[i],
          });
          if (run !== state.replayRun) return;
          snapshot(comp.id, board, "replay");
          screenState.replay = { ...screenState.replay, step: i + 1, at: todo[i], done: i + 1 === todo.length };
          tick();
          await sleep(config.stepMs);
        }
        await sleep(config.stepMs * 3);  // hold the day's end, then play it again
      } catch (err) {
        await sleep(5000);
      }
    }
  }

  function tick() {
    if (config.replay) {
      const at = state.replayAt ? new Date(state.replayAt) : null;
      $("clock").textContent = at
        ? at.toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" })
        : "--:--";
      return;
    }
    $("clock").textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
  }

  if (config.subBranch) $("unit").textContent = "";  // the name arrives with the first board
  tick();
  setInterval(tick, 1000);
  loadListing();
})();
