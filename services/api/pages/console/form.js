// The competition definition as a form. Every input carries the definition's own field path
// (`rules[0].points.basic`, the path the core's RuleError names), so an API refusal lands beside
// the field it is about, and reading the form back is "set each path on a copy of the original".
"use strict";

import { $$, clear, el, label, LABEL, RANKING, reasonText, RULE_KIND } from "./ui.js";

const VOCAB = {
  account_type: ["basic", "general", "special", "temporary"],
  segment: ["credit_online", "credit_offline", "non_credit"],
  channel: ["tax_agent", "bookkeeper", "registration_office", "tax_bureau", "development_commission",
    "industrial_park", "customer_referral", "personal_referral", "corporate_linkage", "walk_in", "other"],
  close_kind: ["closed", "moved_away"],
  deposit_category: ["settlement", "pure", "margin", "savings"],
  product: ["bill_discount", "international_settlement", "cash_management", "credit_card", "corporate_wealth",
    "tax_collection", "utility_collection", "other"],
  visit_channel: ["phone", "on_site", "sms", "online"],
  daily_kind: ["account_opening", "payroll", "product_sold", "visit"],
  measure: ["point_in_time", "daily_average"],
  dimension_measure: ["customers", "deposit_increase", "payroll_agreements", "products"],
  ranking: ["customer_manager", "team", "sub_branch_total", "sub_branch_per_head"],
  tie_break: ["points_desc", "basic_accounts_desc", "accounts_desc", "improvement_desc", "first_reached"],
  // badges and challenges (streams/core/badge_rules.py)
  count_measure: ["accounts", "basic_accounts", "payroll_agreements", "products", "visits"],
  badge_measure: ["accounts", "basic_accounts", "payroll_agreements", "products", "visits", "points"],
  per: ["contest", "month"],
  every: ["working_day", "month"],
  sides: ["customer_manager", "team", "sub_branch"],
};

const CAPS = [["daily_cap", "num"], ["contest_cap", "num"]];
// What each rule kind may hold (streams/core/vocabulary.py), in the order a person reads it.
// Keys a definition holds that are not listed here are still shown, by their JSON type.
const FIELDS = {
  account_opening: [["points", "dict:account_type"], ["segment_bonus", "dict:segment"],
    ["channel_bonus", "dict:channel"], ["new_firm_bonus", "num"], ["bonus_account_types", "list:account_type"],
    ...CAPS, ["clawback_days", "int"], ["clawback_kinds", "list:close_kind", ["closed", "moved_away"]]],
  deposit_growth: [["measure", "select:measure"], ["baseline_date", "date"], ["points_per_wan", "num"],
    ["weights", "dict:deposit_category"]],
  payroll: [["points_per_agreement", "num"], ["points_per_head", "num"], ...CAPS],
  product_sold: [["points", "dict:product"], ...CAPS],
  visit: [["points", "dict:visit_channel"], ...CAPS],
  scorecard: [["dimensions", "dims"], ["attainment_cap", "num"], ["balance_floor", "num"],
    ["balance_penalty", "num"], ["scale", "num"], ["previous_period", "period"]],
  multiplier: [["start", "date"], ["end", "date"], ["factor", "num"], ["applies_to", "list:daily_kind"],
    ["label", "text"]],
  minimum_total: [["points", "num"]],
  milestone: [["id", "text"], ["name", "text"], ["measure", "select:count_measure"], ["count", "int"],
    ["per", "select:per"]],
  threshold: [["id", "text"], ["name", "text"], ["measure", "select:badge_measure"], ["at", "num"]],
  streak: [["id", "text"], ["name", "text"], ["measure", "select:badge_measure"], ["every", "select:every"],
    ["at_least", "num"], ["run", "int"]],
  challenge: [["id", "text"], ["name", "text"], ["start", "date"], ["end", "date"],
    ["measure", "select:badge_measure"], ["goal", "num"], ["winners", "int"], ["sides", "select:sides"]],
};
const DIMENSION = [["name", "text"], ["measure", "select:dimension_measure"], ["segment", "nselect:segment"],
  ["products", "list:product"], ["target", "num"], ["weight", "num"]];

// New rules and modifiers start from these (the organiser fills in the rest).
const SKELETON = {
  account_opening: { kind: "account_opening", points: { basic: 10, general: 4 } },
  deposit_growth: { kind: "deposit_growth", measure: "point_in_time", points_per_wan: "0.1", weights: { settlement: 1 } },
  payroll: { kind: "payroll", points_per_agreement: 20, points_per_head: "0.5" },
  product_sold: { kind: "product_sold", points: { credit_card: 2 } },
  visit: { kind: "visit", points: { on_site: 2 } },
  scorecard: { kind: "scorecard", dimensions: [{ name: "customers", measure: "customers", target: 100, weight: 1 }] },
  multiplier: { kind: "multiplier", start: "", end: "", factor: 2 },
  minimum_total: { kind: "minimum_total", points: 10 },
  milestone: { kind: "milestone", id: "", name: "", measure: "basic_accounts", count: 1, per: "month" },
  threshold: { kind: "threshold", id: "", name: "", measure: "points", at: 100 },
  streak: { kind: "streak", id: "", name: "", measure: "basic_accounts", every: "working_day", at_least: 1, run: 5 },
  challenge: { id: "", name: "", start: "", end: "", measure: "basic_accounts", goal: 2, winners: 3,
    sides: "customer_manager" },
};

export function pathTokens(path) {
  const out = [];
  String(path).replace(/([^.[\]]+)|\[(\d+)\]/g, (_, name, index) => {
    out.push(index !== undefined ? Number(index) : name);
    return "";
  });
  return out;
}

function getAt(obj, tokens) {
  let node = obj;
  for (const t of tokens) {
    if (node === null || typeof node !== "object" || !(t in node)) return undefined;
    node = node[t];
  }
  return node;
}

function setAt(obj, tokens, value) {
  let node = obj;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if (node[t] === null || typeof node[t] !== "object") node[t] = typeof tokens[i + 1] === "number" ? [] : {};
    node = node[t];
  }
  const last = tokens[tokens.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
}

const clone = (v) => JSON.parse(JSON.stringify(v));
const isNumeric = (text) => /^-?\d+(\.\d+)?$/.test(text);

// A typed number keeps the JSON type the definition had there (a decimal string stays a string,
// so saving an untouched form changes nothing); a new one is a number when whole, else a string
// (decimals travel as strings). Text that is not a number is sent as typed: the API names it.
function numberValue(text, original) {
  if (!isNumeric(text)) return text;
  if (typeof original === "string") return text;
  if (typeof original === "number") return Number(text);
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

export class DefinitionForm {
  constructor(form) {
    this.form = form;
    this.original = null;
    this.units = [];
    this.readOnly = false;
    form.addEventListener("input", (e) => this._checkLocally(e.target));
  }

  /** Draw `definition`; `units` are sub-branches [{id, name, teams:[{id, name}]}] to choose from. */
  render(definition, { units = this.units, readOnly = this.readOnly } = {}) {
    this.original = clone(definition);
    this.units = units;
    this.readOnly = readOnly;
    const d = this.original;
    clear(this.form);
    this.form.append(
      this._basics(d),
      this._participants(d.participants || []),
      el("fieldset", { "data-path": "rules" },
        el("legend", {}, label("rules")),
        ...(d.rules || []).map((rule, i) => this._rule(rule, `rules[${i}]`, "rules", i)),
        this._adder("rules", ["account_opening", "deposit_growth", "payroll", "product_sold", "visit", "scorecard"],
          (d.rules || []).map((r) => r.kind))),
      el("fieldset", { "data-path": "modifiers" },
        el("legend", {}, label("modifiers")),
        ...(d.modifiers || []).map((mod, i) => this._rule(mod, `modifiers[${i}]`, "modifiers", i)),
        this._adder("modifiers", ["multiplier", "minimum_total"], [])),
      // Badges and challenges: as many as wanted; ids unique (the API says which one is not).
      el("fieldset", { "data-path": "badges" },
        el("legend", {}, label("badges")),
        ...(d.badges || []).map((b, i) => this._rule(b, `badges[${i}]`, "badges", i)),
        this._adder("badges", ["milestone", "threshold", "streak"], [])),
      el("fieldset", { "data-path": "challenges" },
        el("legend", {}, label("challenges")),
        ...(d.challenges || []).map((c, i) => this._rule(c, `challenges[${i}]`, "challenges", i, "challenge")),
        this._adder("challenges", ["challenge"], [])),
    );
    if (readOnly) for (const node of $$("input, select, textarea, button", this.form)) node.disabled = true;
  }

  /** The definition as the form now says it. */
  read() {
    const out = clone(this.original);
    for (const node of $$("[data-path][data-kind]", this.form)) {
      const tokens = pathTokens(node.dataset.path);
      const before = getAt(this.original, tokens);
      const value = this._value(node, before);
      if (value === undefined && before === null) setAt(out, tokens, null);  // an explicit "none" stays
      else setAt(out, tokens, value);
    }
    return out;
  }

  _value(node, before) {
    const kind = node.dataset.kind;
    if (kind === "checks") {
      const chosen = $$("input[type=checkbox]", node).filter((c) => c.checked).map((c) => c.value);
      const fallback = node.dataset.default ? JSON.parse(node.dataset.default) : [];
      if (before === undefined && JSON.stringify(chosen) === JSON.stringify(fallback)) return undefined;
      return chosen;
    }
    if (kind === "ordered") {
      const chosen = $$("select", node).map((s) => s.value).filter(Boolean);
      const fallback = JSON.parse(node.dataset.default);
      if (before === undefined && (!chosen.length || JSON.stringify(chosen) === JSON.stringify(fallback))) return undefined;
      return chosen;
    }
    const text = node.value.trim();
    if (text === "") return undefined;
    if (kind === "num" || kind === "int") return numberValue(text, before);
    return text;
  }

  // -- errors ------------------------------------------------------------------------------

  clearErrors() {
    for (const node of $$(".field-error", this.form)) node.remove();
    for (const node of $$(".invalid", this.form)) node.classList.remove("invalid");
  }

  /** Mark the field at `path` (or its nearest drawn ancestor); false when nothing in the form matches. */
  showError(path, reason) {
    const tokens = pathTokens(path || "");
    let target = null;
    for (let n = tokens.length; n > 0 && !target; n--) {
      const prefix = tokens.slice(0, n).map((t, i) => (typeof t === "number" ? `[${t}]` : (i ? "." : "") + t)).join("");
      target = this.form.querySelector(`[data-path="${CSS.escape(prefix)}"]`);
    }
    if (!target) return false;
    const holder = target.closest(".field") || target;
    holder.classList.add("invalid");
    const message = el("span", { class: "field-error", "data-error-for": path, title: reason || "" },
      `${reasonText(reason)}`);
    if (holder.tagName === "FIELDSET") holder.querySelector("legend").after(message);
    else holder.append(message);
    holder.scrollIntoView({ block: "center", behavior: "instant" });
    const focusable = holder.matches("input, select") ? holder : holder.querySelector("input, select");
    if (focusable && !focusable.disabled) focusable.focus({ preventScroll: true });
    return true;
  }

  _checkLocally(input) {
    const field = input.closest(".field");
    if (!field || !(input.dataset.kind === "num" || input.dataset.kind === "int")) return;
    for (const node of $$(".field-error.local", field)) node.remove();
    field.classList.remove("invalid");
    const text = input.value.trim();
    const ok = text === "" || (input.dataset.kind === "int" ? /^\d+$/.test(text) : isNumeric(text));
    if (!ok) {
      field.classList.add("invalid");
      field.append(el("span", { class: "field-error local" }, input.dataset.kind === "int" ? "请输入整数" : "请输入数字"));
    }
  }

  // -- drawing -----------------------------------------------------------------------------

  _basics(d) {
    const windowSet = el("fieldset", { "data-path": "window", class: "field wide" },
      el("legend", {}, label("window")),
      el("div", { class: "grid" },
        this._field("window.start", "date", d.window && d.window.start, "start"),
        this._field("window.end", "date", d.window && d.window.end, "end")));
    const startInput = windowSet.querySelector('[data-path="window.start"]');
    const effective = this._field("effective_from", "text", d.effective_from, "effective_from");
    // The usual case: a version takes effect when its window opens; keep them together until
    // the organiser sets an effective time of their own.
    startInput.addEventListener("change", () => {
      const input = effective.querySelector("input");
      if (/T00:00:00\+08:00$/.test(input.value) || !input.value) input.value = `${startInput.value}T00:00:00+08:00`;
    });
    return el("fieldset", {},
      el("legend", {}, "基本信息"),
      el("div", { class: "grid" },
        el("div", { class: "field" }, el("span", { class: "name" }, "竞赛编号"),
          el("input", { value: d.id || "", disabled: true, "data-role": "id" })),
        el("div", { class: "field" }, el("span", { class: "name" }, "版本"),
          el("input", { value: d.version || "", disabled: true })),
        this._field("name", "text", d.name, "name", "wide"),
        windowSet,
        effective,
        this._field("grace_days", "int", d.grace_days, "grace_days"),
        this._checks("rankings", VOCAB.ranking, d.rankings, ["customer_manager"], (k) => RANKING[k]),
        this._ordered("tie_break", VOCAB.tie_break, d.tie_break)));
  }

  _participants(chosen) {
    const known = new Set(this.units.map((u) => u.id));
    const extra = chosen.filter((id) => !known.has(id)).map((id) => ({ id, name: id, teams: [] }));
    const units = [...this.units, ...extra];
    const group = el("div", { class: "checks tree-pick", "data-path": "participants", "data-kind": "checks" });
    if (!units.length) group.append(el("span", { class: "hint" }, "组织架构中还没有支行（可先在「组织架构」导入花名册）"));
    for (const unit of units) {
      group.append(el("div", {},
        el("label", {},
          el("input", { type: "checkbox", value: unit.id, checked: chosen.includes(unit.id), "data-unit": unit.id }),
          unit.name && unit.name !== unit.id ? `${unit.name}（${unit.id}）` : unit.id,
          unit.headcount !== undefined ? el("span", { class: "hint" }, ` ${unit.headcount} 人`) : null),
        (unit.teams || []).length
          ? el("div", { class: "team" }, "团队：" + unit.teams.map((t) => t.name || t.id).join("、")) : null));
    }
    return el("fieldset", { class: "field" },
      el("legend", {}, label("participants")),
      el("p", { class: "hint" }, "不选 = 全部支行参赛；按事件发生当天客户经理所在支行判断"),
      group);
  }

  _rule(rule, path, list, index, kind = rule.kind) {
    const known = FIELDS[kind] || [];
    const fields = known.map(([key, type, fallback]) => this._typed(`${path}.${key}`, type, rule[key], key, fallback));
    for (const [key, value] of Object.entries(rule)) {
      if (key === "kind" || known.some(([k]) => k === key)) continue;
      fields.push(this._generic(`${path}.${key}`, value, key));
    }
    const remove = el("button", { type: "button", class: "plain small", "data-remove": path,
      onclick: () => this._mutate((d) => d[list].splice(index, 1)) }, "删除");
    return el("fieldset", { "data-path": path, "data-rule-kind": kind },
      el("legend", {}, RULE_KIND[kind] || kind, " ", remove),
      el("div", { class: "grid" }, ...fields));
  }

  _adder(list, kinds, present) {
    const free = kinds.filter((k) => !present.includes(k));
    if (!free.length) return null;
    const select = el("select", { "data-add": list }, ...free.map((k) => el("option", { value: k }, RULE_KIND[k] || k)));
    return el("div", { class: "row" }, select,
      el("button", { type: "button", class: "plain small",
        onclick: () => this._mutate((d) => { (d[list] = d[list] || []).push(clone(SKELETON[select.value])); }) },
      list === "rules" ? "添加规则" : list === "badges" ? "添加徽章" : list === "challenges" ? "添加挑战" : "添加"));
  }

  /** Change the definition's structure (add or remove a rule): read, change, draw again. */
  _mutate(change) {
    const d = this.read();
    change(d);
    this.render(d);
    this.form.dispatchEvent(new Event("input", { bubbles: true }));
  }

  _typed(path, type, value, key, fallback) {
    const [base, vocab] = type.split(":");
    if (base === "dict") return this._dict(path, VOCAB[vocab], value || {}, key);
    if (base === "list") return this._checks(path, VOCAB[vocab], value, fallback || [], label, key);
    if (base === "select" || base === "nselect") return this._select(path, VOCAB[vocab], value, key, base === "nselect");
    if (base === "dims") return this._dimensions(path, value || []);
    if (base === "period") {
      return el("fieldset", { "data-path": path, class: "field wide" }, el("legend", {}, label(key)),
        el("div", { class: "grid" },
          this._field(`${path}.start`, "date", value && value.start, "start"),
          this._field(`${path}.end`, "date", value && value.end, "end")));
    }
    return this._field(path, base, value, key);
  }

  _generic(path, value, key) {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return el("fieldset", { "data-path": path, class: "field wide" }, el("legend", {}, label(key)),
        el("div", { class: "grid" }, ...Object.entries(value).map(([k, v]) => this._generic(`${path}.${k}`, v, k))));
    }
    if (Array.isArray(value)) {
      return el("div", { class: "field wide", "data-path": path }, el("span", { class: "name" }, label(key)),
        el("span", { class: "hint" }, "（列表：请在 JSON 中编辑）"));
    }
    const type = typeof value === "number" || (typeof value === "string" && isNumeric(value)) ? "num" : "text";
    return this._field(path, type, value, key);
  }

  _field(path, kind, value, key, extraClass, placeholder) {
    const attrs = { "data-path": path, "data-kind": kind, name: path,
      value: value === null || value === undefined ? "" : String(value) };
    if (kind === "date") attrs.type = "date";
    else if (kind === "num" || kind === "int") {
      attrs.inputmode = "decimal";
      attrs.placeholder = placeholder || (/_cap$|_days$/.test(key) ? "不限" : "默认");
    }
    if (key === "effective_from") attrs.placeholder = "2026-02-01T00:00:00+08:00";
    return el("label", { class: "field" + (extraClass ? " " + extraClass : "") },
      el("span", { class: "name" }, label(key)), el("input", attrs));
  }

  _select(path, options, value, key, nullable) {
    const redraw = key === "measure" && path.includes(".dimensions[") ? () => this._mutate(() => {}) : null;
    const select = el("select", { "data-path": path, "data-kind": "text", name: path, onchange: redraw },
      nullable ? el("option", { value: "" }, "（不限）") : null,
      ...options.map((o) => el("option", { value: o, selected: o === value }, label(o))));
    return el("label", { class: "field" }, el("span", { class: "name" }, label(key)), select);
  }

  _dict(path, keys, value, key) {
    const all = [...keys, ...Object.keys(value).filter((k) => !keys.includes(k))];
    return el("fieldset", { "data-path": path, class: "field wide" },
      el("legend", {}, label(key), el("span", { class: "hint" }, "（留空 = 不计分）")),
      el("div", { class: "grid" }, ...all.map((k) => this._field(`${path}.${k}`, "num", value[k], k, null, "不计分"))));
  }

  _checks(path, options, value, fallback, name = label, key = path) {
    const chosen = value === undefined || value === null ? fallback : value;
    const group = el("div", { class: "checks", "data-path": path, "data-kind": "checks",
      "data-default": JSON.stringify(fallback) },
    ...options.map((o) => el("label", {},
      el("input", { type: "checkbox", value: o, checked: chosen.includes(o) }), name(o) || o)));
    return el("div", { class: "field wide" }, el("span", { class: "name" }, label(key)), group);
  }

  _ordered(path, options, value) {
    const fallback = ["points_desc", "first_reached"];  // the core's default order
    const chosen = value || fallback;
    const selects = [0, 1, 2].map((i) => el("select", { "aria-label": `第 ${i + 1} 排序` },
      el("option", { value: "" }, "—"),
      ...options.map((o) => el("option", { value: o, selected: chosen[i] === o }, LABEL[o] || o))));
    return el("div", { class: "field wide" }, el("span", { class: "name" }, label("tie_break")),
      el("div", { class: "checks", "data-path": path, "data-kind": "ordered", "data-default": JSON.stringify(fallback) },
        ...selects));
  }

  // A segment belongs to a customers dimension and a product list to a products one: the other
  // measures do not show them (unless a definition holds one anyway, so the API can name it).
  _dimensionShows(dim, key) {
    if (key === "segment") return dim.measure === "customers" || (dim.segment !== undefined && dim.segment !== null);
    if (key === "products") return dim.measure === "products" || (dim.products || []).length > 0;
    return true;
  }

  _dimensions(path, dims) {
    const list = pathTokens(path);
    return el("fieldset", { "data-path": path, class: "field wide" }, el("legend", {}, label("dimensions")),
      ...dims.map((dim, j) => el("fieldset", { "data-path": `${path}[${j}]` },
        el("legend", {}, dim.name || `维度 ${j + 1}`, " ",
          el("button", { type: "button", class: "plain small",
            onclick: () => this._mutate((d) => getAt(d, list).splice(j, 1)) }, "删除")),
        el("div", { class: "grid" },
          ...DIMENSION.filter(([key]) => this._dimensionShows(dim, key))
            .map(([key, type]) => this._typed(`${path}[${j}].${key}`, type, dim[key], key))))),
      el("button", { type: "button", class: "plain small",
        onclick: () => this._mutate((d) => getAt(d, list).push({ name: `dimension_${dims.length + 1}`,
          measure: "customers", target: 10, weight: 1 })) }, "添加维度"));
  }
}
