// Small DOM helpers and the words the console shows: statuses, roles, rule fields, reasons.
"use strict";

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, "");
    else node.setAttribute(k, v);
  }
  // Strings become text nodes: nothing the API returns is ever parsed as HTML.
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

export function clear(node) { while (node.firstChild) node.firstChild.remove(); return node; }

export function confirmDialog(text) {
  const dialog = $("#confirm");
  $("#confirm-text").textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

let toastTimer = null;
export function toast(text, bad = false) {
  const node = $("#toast");
  node.textContent = text;
  node.className = bad ? "bad" : "";
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 4000);
}

export const STATUS = { draft: "草稿", published: "已发布", closed: "已结束" };
export const ROLE = { admin: "管理员", organiser: "组织者", viewer: "只读", display: "大屏", source: "数据源" };
export const RANKING = {
  customer_manager: "客户经理", team: "团队", sub_branch_total: "支行（总分）", sub_branch_per_head: "支行（人均）",
};

export function statusBadge(status) {
  return el("span", { class: "status " + status, "data-status": status }, STATUS[status] || status);
}

// Labels for the definition's fields and the vocabulary's keys (docs/competitions.md).
export const LABEL = {
  name: "名称", window: "竞赛窗口", start: "开始日期", end: "结束日期", effective_from: "本版本生效时间",
  grace_days: "宽限天数", participants: "参赛支行", rankings: "发布的榜单", tie_break: "并列时排序",
  rules: "计分规则", modifiers: "加成与门槛",
  points: "基础积分", segment_bonus: "客群加分", channel_bonus: "渠道加分", new_firm_bonus: "新注册企业加分",
  bonus_account_types: "可获加分的账户类型", daily_cap: "每日上限", contest_cap: "全程上限",
  clawback_days: "销户回扣天数", clawback_kinds: "回扣的销户类型",
  measure: "口径", baseline_date: "基数日期", points_per_wan: "每万元积分", weights: "存款类别权重",
  points_per_agreement: "每户代发积分", points_per_head: "每人代发积分",
  dimensions: "考核维度", attainment_cap: "完成率封顶", balance_floor: "均衡下限", balance_penalty: "不均衡系数",
  scale: "满分", previous_period: "上期（进步排名）", target: "目标", weight: "权重", segment: "客群",
  products: "产品", factor: "倍数", applies_to: "适用规则", label: "名称",
  // vocabulary keys
  basic: "基本户", general: "一般户", special: "专用户", temporary: "临时户",
  credit_online: "线上授信", credit_offline: "线下授信", non_credit: "非授信",
  tax_agent: "税务师事务所", bookkeeper: "代账会计", registration_office: "工商注册部门", tax_bureau: "税务部门",
  development_commission: "发改委", industrial_park: "园区招商", customer_referral: "存客转介",
  personal_referral: "亲朋推荐", corporate_linkage: "大公司联动", walk_in: "自然到访", other: "其他",
  settlement: "结算存款", pure: "纯存款", margin: "保证金存款", savings: "储蓄存款",
  bill_discount: "票据贴现", international_settlement: "国际结算", cash_management: "现金管理",
  credit_card: "信用卡", corporate_wealth: "对公理财", tax_collection: "代缴税", utility_collection: "代扣水电费",
  phone: "电话", on_site: "上门", sms: "短信", online: "线上",
  closed: "销户", moved_away: "挪户",
  point_in_time: "时点", daily_average: "日均",
  customers: "管户数", deposit_increase: "存款增量", payroll_agreements: "代发户数",
  points_desc: "积分高者优先", basic_accounts_desc: "基本户多者优先", accounts_desc: "开户多者优先",
  improvement_desc: "进步大者优先", first_reached: "先达到者优先",
  // badges and challenges
  badges: "徽章与连续达成", challenges: "冲刺挑战", calendar: "银行工作日", holidays: "节假日", workdays: "调休上班日",
  id: "编号", count: "第几个", per: "统计周期", at: "达到", every: "连续单位", at_least: "每期至少", run: "连续期数",
  goal: "目标", winners: "获胜人数（先到先得）", sides: "对抗方式",
  contest: "整个竞赛", month: "每月", working_day: "工作日", accounts: "开户数", basic_accounts: "基本户数",
  visits: "拜访次数", customer_manager: "客户经理个人", team: "团队对抗", sub_branch: "支行对抗",
};

export const RULE_KIND = {
  account_opening: "开户（多开户、多开基本户）", deposit_growth: "存款增量", payroll: "代发工资",
  product_sold: "产品销售（三小一卡）", visit: "客户拜访", scorecard: "综合考核（小小银行家）",
  multiplier: "倍数加成", minimum_total: "最低总分门槛",
  milestone: "里程碑徽章", threshold: "门槛徽章", streak: "连续达成徽章", challenge: "冲刺挑战",
};

export const label = (key) => LABEL[key] || key;

// pydantic's reasons, in the words an organiser reads; the original stays in the tooltip.
const REASONS = [
  [/^field required$/i, "必填"],
  [/valid decimal|valid number|valid integer|parse string as an? (integer|number)/i, "请输入数字"],
  [/greater than 0$/i, "必须大于 0"],
  [/greater than or equal to 0$/i, "不能为负数"],
  [/greater than or equal to (\S+)/i, "不能小于 $1"],
  [/less than or equal to (\S+)/i, "不能大于 $1"],
  [/end is before start/i, "结束日期早于开始日期"],
  [/valid date|date in the format/i, "请输入有效日期"],
  [/timezone|valid datetime/i, "请输入带时区的时间，如 2026-02-01T00:00:00+08:00"],
  [/at least 1 item|too_short|at least 1 character/i, "不能为空"],
  [/at most one rule of kind/i, "每种规则最多一条"],
  [/decimal places/i, "最多两位小数"],
  [/extra inputs are not permitted/i, "不认识的字段"],
  [/string should match pattern/i, "格式不对（只允许字母、数字、_ . -）"],
  [/invalid key/i, "不认识的类别"],
  [/already (published|closed)/i, "该版本已发布，不能修改；请新建版本"],
  [/is scoped to one sub-branch/i, "须填写一个支行编号"],
  [/sees every sub-branch; give none/i, "该角色可看全部支行，不填支行编号"],
  [/^at least (\d+) characters/i, "至少 $1 个字符"],
  [/already exists/i, "已存在"],
  [/badge and challenge ids must be unique/i, "徽章与挑战的编号不能重复"],
  [/must lie inside the window/i, "挑战须在竞赛窗口之内"],
];

export function reasonText(reason) {
  if (!reason) return "无效";
  for (const [pattern, words] of REASONS) {
    const m = String(reason).match(pattern);
    if (m) return words.replace("$1", m[1] || "");
  }
  return String(reason);
}

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

export function todayShanghai() {
  return new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
}
