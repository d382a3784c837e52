"""How far a manager is from each target a competition's rules state, with no I/O.

Targets come from the rules themselves, never from a separate plan:
- a scorecard (小小银行家): each dimension against its target (e.g. 线下授信客户 25, 线上授信客户 30,
  非授信客户 50), and the balance rule: below `balance_floor` on any dimension, the composite is
  multiplied by `balance_penalty` (the warning says which dimension and what it costs);
- a minimum_total modifier (达标门槛): the points before the threshold against the minimum;
- a contest cap (活动封顶) on a day-based rule: that rule's points before the cap against the cap,
  so a manager sees how much room is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.readmodel.labels import component_label, dimension_label, dimension_unit
from streams.core.points import ZERO
from streams.core.rules import Competition
from streams.core.standing import Standing
from streams.core.vocabulary import ScorecardRule

_DAILY_PREFIX = {
    "account_opening": "opening",
    "payroll": "payroll",
    "product_sold": "product",
    "visit": "visit",
}


@dataclass(frozen=True)
class Progress:
    metric: str
    label: str
    actual: Decimal
    targets: tuple[Decimal, ...]
    unit: str


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    actual: Decimal
    target: Decimal
    attainment: Decimal
    below_floor: bool = False  # under the balance rule's floor: the short stave the page marks


@dataclass(frozen=True)
class Scorecard:
    composite: Decimal
    penalised: bool
    dimensions: tuple[Dimension, ...]
    warning: str | None


def progress_of(comp: Competition, standing: Standing | None) -> list[Progress]:
    out: list[Progress] = []
    card = scorecard_of(comp, standing)
    if card is not None:
        rule: ScorecardRule = comp.rule("scorecard")
        units = {d.name: dimension_unit(d) for d in rule.dimensions}
        out += [Progress(d.name, d.label, d.actual, (d.target,), units[d.name]) for d in card.dimensions]
    components = standing.components if standing is not None else {}
    for kind, prefix in _DAILY_PREFIX.items():
        rule = comp.rule(kind)
        cap = getattr(rule, "contest_cap", None) if rule is not None else None
        if cap is None:
            continue
        before_cap = sum(
            (v for c, v in components.items() if c.split(".")[0] == prefix and c != f"{prefix}.contest_cap"),
            ZERO,
        )
        out.append(Progress(f"{prefix}_cap", f"{component_label(prefix)}封顶", before_cap, (cap,), "分"))
    minimum = comp.minimum_total()
    if minimum is not None:
        points = standing.points if standing is not None else ZERO
        before = points - components.get("threshold", ZERO)
        out.append(Progress("minimum_total", "达标门槛", before, (minimum.points,), "分"))
    return out


def scorecard_of(comp: Competition, standing: Standing | None) -> Scorecard | None:
    rule: ScorecardRule | None = comp.rule("scorecard")
    if rule is None:
        return None
    figures = standing.scorecard if standing is not None else None
    dims = []
    short: list[str] = []
    for dim in rule.dimensions:
        actual = figures.actual.get(dim.name, ZERO) if figures else ZERO
        attainment = figures.attainment.get(dim.name, ZERO) if figures else ZERO
        label = dimension_label(dim)
        below = attainment < rule.balance_floor
        dims.append(Dimension(dim.name, label, actual, dim.target, attainment, below))
        if below:
            short.append(label)
    warning = None
    if short:
        warning = (
            f"均衡要求：{'、'.join(short)}完成率低于 {rule.balance_floor * 100:.0f}%，"
            f"综合得分按 ×{rule.balance_penalty} 计"
        )
    return Scorecard(
        composite=figures.composite if figures else ZERO,
        penalised=figures.penalised if figures else False,
        dimensions=tuple(dims),
        warning=warning,
    )
