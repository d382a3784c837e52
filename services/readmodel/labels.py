"""Chinese names for what screens show: ledger components, scorecard dimensions, rankings.

A ledger component is named by the core ("opening", "opening.clawback", "payroll.contest_cap",
"deposit", "scorecard", "threshold", ...: streams/core/scoring/daily.py and book.py). The
component alone says "account-opening points"; the entry's structured label says what it
counted ({"kind": "opening", "account_type": "basic"}: streams/core/labels.py), so an opening of
a basic account reads 新开基本户 on a wall screen. Entries written before labels existed have
none: for those the reason text the core wrote is read instead. A screen label never carries an
amount of money or a customer's or account's id, so it can be shown in privacy mode; the reason
can carry both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress

from schemas.vocabulary import AccountType
from streams.core.scoring.opening import TYPE_ZH
from streams.core.scoring.simple import PRODUCT_ZH, VISIT_ZH
from streams.core.vocabulary import Dimension

# The rule's own points, by the component prefix the core uses (daily.PREFIX).
_BASE = {
    "opening": "新开账户",
    "payroll": "代发工资",
    "product": "产品销售",
    "visit": "客户拜访",
    "deposit": "存款增量",
    "scorecard": "小小银行家综合得分",
    "threshold": "未达门槛扣回",
    "adjustment": "人工调整",  # points.adjusted: the reason carries the code and the note
    "badge": "获得徽章",  # 0 points: a badge won (streams/core/badges.py)
    "challenge": "挑战达成",
}
# The adjustments each day-based rule may add (daily.py, book.py).
_SUFFIX = {
    "clawback": "销户扣回",
    "multiplier": "倍数奖励",
    "daily_cap": "单日封顶",
    "contest_cap": "活动封顶",
}
_OPENED = re.compile(r"^开立(基本户|一般户|专用户|临时户)")
_SOLD = re.compile(r"^销售(\S+?)\s")
_VISIT = re.compile(r"^(\S*拜访)\s")

SEGMENT_CUSTOMERS = {
    "credit_offline": "线下授信客户",
    "credit_online": "线上授信客户",
    "non_credit": "非授信客户",
}
RANKING_NAMES = {
    "customer_manager": "客户经理",
    "team": "团队",
    "sub_branch_total": "支行（总分）",
    "sub_branch_per_head": "支行（人均）",
}


def component_label(component: str, reason: str = "", label: Mapping[str, str] | None = None) -> str:
    """新开基本户, 销户扣回, 代发工资, ...; an unknown component is shown as it is named."""
    base, _, adjustment = component.partition(".")
    if adjustment:
        return _SUFFIX.get(adjustment, component)
    if label is not None:
        return _labelled(base, label) or _BASE.get(base, component)
    # an entry older than labels: its reason says what it counted
    if base == "opening" and (found := _OPENED.match(reason)):
        return f"新开{found.group(1)}"
    if base == "product" and (found := _SOLD.match(reason)):
        return f"销售{found.group(1)}"
    if base == "visit" and (found := _VISIT.match(reason)):
        return found.group(1)
    return _BASE.get(base, component)


def _labelled(base: str, label: Mapping[str, str]) -> str | None:
    if base in ("badge", "challenge"):
        revoked = label.get("action") == "revoke"
        head = (
            ("收回徽章" if revoked else "获得徽章")
            if base == "badge"
            else ("撤销挑战达成" if revoked else "挑战达成")
        )
        name = label.get("name")
        return f"{head}「{name}」" if name else head
    if base == "opening" and (kind := label.get("account_type")):
        with suppress(ValueError):
            return f"新开{TYPE_ZH[AccountType(kind)]}"
    if base == "product" and (product := label.get("product")) in PRODUCT_ZH:
        return f"销售{PRODUCT_ZH[product]}"
    if base == "visit" and (channel := label.get("channel")) in VISIT_ZH:
        return VISIT_ZH[channel]
    return None


def component_labels(components: list[str]) -> dict[str, str]:
    return {c: component_label(c) for c in components}


def dimension_label(dim: Dimension) -> str:
    if dim.measure == "customers":
        return SEGMENT_CUSTOMERS.get(str(dim.segment.value) if dim.segment else "", "管户客户")
    return {
        "deposit_increase": "存款增量",
        "payroll_agreements": "代发工资协议",
        "products": "重点产品销售",
    }.get(dim.measure, dim.name)


def dimension_unit(dim: Dimension) -> str:
    return {"customers": "户", "deposit_increase": "元", "payroll_agreements": "户", "products": "笔"}[
        dim.measure
    ]


# Shown with every late entry (streams/core/lateness.py): it counts, but not in its own month.
LATE_NOTE = "该笔在所属月份冻结后才到达：照常计分，但计入下一个未冻结月份的调整，不参与原月份评奖"
