"""小小银行家: attainment against targets on several dimensions, capped, weighted, balanced.

For a period (the window, and optionally a previous period for "most improved"):
  customers           distinct customers assigned to the CM in the period (customer.assigned),
                      each in the class of its latest assignment in the period; optional segment
  deposit_increase    sum over the CM's accounts of point-in-time growth in yuan
                      (balance at period end minus balance on the day before the period starts)
  payroll_agreements  agreements whose first batch was paid in the period
  products            sales (distinct sale_id) in the period, optionally of some products only
attainment = min(actual / target, attainment_cap)                         (negative growth counts 0)
composite  = scale x sum(weight x attainment) / sum(weight)
balance    : if any attainment < balance_floor, composite x balance_penalty   (木桶: no gap hidden)
improvement = composite(window) - composite(previous_period)
Indexes are updated per event so one event recomputes only the counters it touches.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from schemas.envelope import Envelope
from schemas.events import CustomerAssigned, DepositBalance, PayrollPaid, PayrollSigned, ProductSold
from streams.core.calendar import day_of
from streams.core.points import q
from streams.core.rules import Competition
from streams.core.scoring.base import NO_TOUCH, BucketValue, Context, Scorer, Touch
from streams.core.scoring.deposits import Account
from streams.core.vocabulary import ScorecardRule

BUCKET = "scorecard|composite"


class Counters:
    """Counts for one period, kept up to date item by item."""

    def __init__(self, start: date, end: date) -> None:
        self.start, self.end = start, end
        self.segment_of: dict[str, str] = {}  # customer -> class counted
        self.customers: dict[str, int] = {}
        self.growth: dict[str, Decimal] = {}  # account -> growth
        self.deposit = Decimal(0)
        self.agreements: set[str] = set()
        self.products: dict[str, int] = {}
        self.sales: set[str] = set()

    def within(self, day: date) -> bool:
        return self.start <= day <= self.end


class ScorecardScorer(Scorer):
    kind = "scorecard"

    def __init__(self, final: Competition) -> None:
        rule = final.rule(self.kind)
        self.periods: dict[str, Counters] = {}
        if rule is not None:
            self.periods["current"] = Counters(final.window.start, final.window.end)
            if rule.previous_period is not None:
                self.periods["previous"] = Counters(rule.previous_period.start, rule.previous_period.end)
        self.assigned: dict[str, list[CustomerAssigned]] = {}
        self.accounts: dict[str, Account] = {}
        self.signed: set[str] = set()
        self.first_paid: dict[str, PayrollPaid] = {}
        self.sales: dict[str, ProductSold] = {}

    def buckets(self) -> set[str]:
        return {BUCKET} if self.periods else set()

    def observe(self, event: Envelope, ctx: Context | None) -> Touch:
        if not self.periods:
            return NO_TOUCH
        if isinstance(event, CustomerAssigned):
            self.assigned.setdefault(event.data.customer_id, []).append(event)
            for c in self.periods.values():
                self._recount_customer(c, event.data.customer_id)
        elif isinstance(event, DepositBalance):
            account = self.accounts.setdefault(event.data.account_id, Account())
            if not account.add(event):
                return NO_TOUCH
            for c in self.periods.values():
                growth = account.growth(c.start - timedelta(days=1), c.start, c.end, "point_in_time")
                c.deposit += growth - c.growth.get(event.data.account_id, Decimal(0))
                c.growth[event.data.account_id] = growth
        elif isinstance(event, PayrollSigned | PayrollPaid):
            agreement = event.data.agreement_id
            if isinstance(event, PayrollSigned):
                self.signed.add(agreement)
            else:
                first = self.first_paid.get(agreement)
                if first is None or (event.occurred_at, event.event_id) < (first.occurred_at, first.event_id):
                    self.first_paid[agreement] = event
            paid = self.first_paid.get(agreement)
            for c in self.periods.values():
                c.agreements.discard(agreement)
                if agreement in self.signed and paid is not None and c.within(day_of(paid.occurred_at)):
                    c.agreements.add(agreement)
        elif isinstance(event, ProductSold):
            earlier = self.sales.get(event.data.sale_id)
            if earlier is not None and (earlier.occurred_at, earlier.event_id) <= (
                event.occurred_at,
                event.event_id,
            ):
                return NO_TOUCH
            self.sales[event.data.sale_id] = event
            for c in self.periods.values():
                if earlier is not None and event.data.sale_id in c.sales:
                    c.sales.discard(event.data.sale_id)
                    c.products[earlier.data.product] -= 1
                if c.within(day_of(event.occurred_at)):
                    c.sales.add(event.data.sale_id)
                    c.products[event.data.product] = c.products.get(event.data.product, 0) + 1
        else:
            return NO_TOUCH
        return Touch(frozenset({BUCKET}))

    def _recount_customer(self, c: Counters, customer: str) -> None:
        inside = [e for e in self.assigned[customer] if c.within(day_of(e.occurred_at))]
        new = max(inside, key=lambda e: (e.occurred_at, e.event_id)).data.segment.value if inside else None
        old = c.segment_of.get(customer)
        if old == new:
            return
        if old is not None:
            c.customers[old] -= 1
            del c.segment_of[customer]
        if new is not None:
            c.customers[new] = c.customers.get(new, 0) + 1
            c.segment_of[customer] = new

    def compute(self, bucket: str, ctx: Context) -> BucketValue:
        out = BucketValue()
        final = ctx.final
        rule = final.rule(self.kind)
        if rule is None or "current" not in self.periods:
            return out
        current = evaluate(rule, self.periods["current"])
        extra: dict[str, Any] = {**current, "previous_composite": None, "improvement": None}
        if "previous" in self.periods:
            previous = evaluate(rule, self.periods["previous"])
            extra["previous_composite"] = previous["composite"]
            extra["improvement"] = str(q(Decimal(current["composite"]) - Decimal(previous["composite"])))
        out.extra = extra
        unit = ctx.unit(final.window.end)
        if final.takes_part(unit.sub_branch_id):
            label = "小小银行家综合得分" + (
                f"（均衡系数 ×{rule.balance_penalty}）" if current["penalised"] else ""
            )
            out.add("scorecard", unit, Decimal(current["composite"]), label)
        return out


def actual_of(rule_dim: Any, c: Counters) -> Decimal:
    if rule_dim.measure == "customers":
        if rule_dim.segment is None:
            return Decimal(sum(c.customers.values()))
        return Decimal(c.customers.get(rule_dim.segment.value, 0))
    if rule_dim.measure == "deposit_increase":
        return c.deposit
    if rule_dim.measure == "payroll_agreements":
        return Decimal(len(c.agreements))
    kinds = rule_dim.products or list(c.products)
    return Decimal(sum(c.products.get(k, 0) for k in kinds))


def evaluate(rule: ScorecardRule, c: Counters) -> dict[str, Any]:
    """Composite and per-dimension figures for one period (JSON-safe: Decimals as strings)."""
    attainment: dict[str, Decimal] = {}
    actual: dict[str, Decimal] = {}
    for dim in rule.dimensions:
        value = actual_of(dim, c)
        actual[dim.name] = value
        attainment[dim.name] = min(max(value, Decimal(0)) / dim.target, rule.attainment_cap)
    total_weight = sum((d.weight for d in rule.dimensions), Decimal(0))
    weighted = sum((d.weight * attainment[d.name] for d in rule.dimensions), Decimal(0)) / total_weight
    penalised = any(a < rule.balance_floor for a in attainment.values())
    composite = rule.scale * weighted * (rule.balance_penalty if penalised else Decimal(1))
    return {
        "composite": str(q(composite)),
        "penalised": penalised,
        "attainment": {k: str(v.quantize(Decimal("0.0001"))) for k, v in attainment.items()},
        "actual": {k: str(q(v)) for k, v in actual.items()},
    }
