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
Indexes are updated per event so one event recomputes only the counters it touches. They are
compact and bounded: per customer only its latest assignment in each period, per agreement its
first batch, per sale its earliest report, per account a folded balance history (balances.py).
An account that changes manager (customer.transferred) counts in deposit_increase through each
manager's own view of its balance (holdings.py): the growth up to the transfer stays with the old
manager, the new one's starts from the balance at the transfer.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from schemas.envelope import Envelope
from schemas.events import (
    CustomerAssigned,
    CustomerTransferred,
    DepositBalance,
    PayrollPaid,
    PayrollSigned,
    ProductSold,
)
from streams.core.calendar import day_of
from streams.core.compact import micros
from streams.core.points import q
from streams.core.rules import Competition
from streams.core.scoring.balances import Account, Spec
from streams.core.scoring.base import NO_TOUCH, BucketValue, Context, Scorer, Touch, Unit
from streams.core.scoring.deposits import snap_of
from streams.core.scoring.holdings import Holdings, moves_of
from streams.core.vocabulary import ScorecardRule

BUCKET = "scorecard|composite"
TOUCHED = Touch(frozenset({BUCKET}))
FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal(0)
ONE = Decimal(1)


class Counters:
    """Counts for one period, kept up to date item by item (derived from the indexes on load)."""

    def __init__(self, name: str, start: date, end: date) -> None:
        self.name = name
        self.start, self.end = start.toordinal(), end.toordinal()
        self.customers: dict[str, int] = {}
        self.growth: dict[str, int] = {}  # account -> growth in cents
        self.deposit = 0  # cents
        self.agreements: set[str] = set()
        self.products: dict[str, int] = {}
        self.sales: set[str] = set()
        self.changes = 0  # bumped when a count other than deposits changes (see evaluate)

    def within(self, day: int) -> bool:
        return self.start <= day <= self.end


class ScorecardScorer(Scorer):
    kind = "scorecard"
    types = frozenset(
        {
            "customer.assigned",
            "customer.transferred",
            "deposit.balance",
            "payroll.signed",
            "payroll.paid",
            "product.sold",
        }
    )

    def __init__(self, final: Competition | None = None) -> None:
        periods: list[tuple[str, date, date]] = []
        rule = final.rule(self.kind) if final is not None else None
        if final is not None and rule is not None:
            periods.append(("current", final.window.start, final.window.end))
            if rule.previous_period is not None:
                periods.append(("previous", rule.previous_period.start, rule.previous_period.end))
        self._setup(periods)
        # customer -> period -> (occurred_at µs, event_id, segment) of its latest assignment in it
        self.assigned: dict[str, dict[str, tuple[int, str, str]]] = {}
        self.accounts: dict[str, Account] = {}
        self.holdings = Holdings()
        self.signed: set[str] = set()
        self.first_paid: dict[str, tuple[int, str, int]] = {}  # agreement -> (µs, event_id, day)
        self.sales: dict[str, tuple[int, str, str, int]] = {}  # sale -> (µs, event_id, product, day)
        self._evaluated: dict[
            str, tuple[int, int, dict[str, Any]]
        ] = {}  # period -> changes, deposit, figures
        self._partial: dict[str, tuple[int, Partial]] = {}  # period -> changes, the other dimensions
        self._plan: Plan | None = None
        self._stamp: tuple[Any, int, Unit, bool] | None = None  # the window end's unit, per org revision
        self._ratios: dict[str, tuple[int, tuple[Decimal, ...]]] = {}  # period -> deposit attainments
        self._stale = False  # the stored figures lag the deposit counts (never the points)

    def _setup(self, periods: list[tuple[str, date, date]]) -> None:
        self.period_list = periods
        self.periods = {name: Counters(name, start, end) for name, start, end in periods}
        watch: list[int] = []
        for c in self.periods.values():
            watch += [c.start - 1, c.end]
        last = max((c.end for c in self.periods.values()), default=0)
        self.spec = Spec("", 0, 0, 0, tuple(sorted(set(watch))), last)

    def buckets(self) -> set[str]:
        return {BUCKET} if self.periods else set()

    def check(self, event: Envelope, ctx: Context) -> None:
        if self.periods and isinstance(event, DepositBalance):
            account = self.accounts.get(event.data.account_id)
            if account is not None:
                account.check(snap_of(event), self.spec)
        elif self.periods and isinstance(event, CustomerTransferred):
            for account_id, move in moves_of(event, ctx.cm_id):
                self.holdings.check_move(account_id, move, self.accounts.get(account_id))

    def observe(self, event: Envelope, ctx: Context, explain: bool = True) -> Touch:
        if not self.periods:
            return NO_TOUCH
        if isinstance(event, CustomerTransferred):
            # regrown when read (compute): a departure joins the balances lazily (holdings.py)
            moved = [
                self.holdings.take_move(self.accounts, account_id, move)
                for account_id, move in moves_of(event, ctx.cm_id)
            ]
            return TOUCHED if any(moved) else NO_TOUCH
        if isinstance(event, DepositBalance):
            account_id = event.data.account_id
            account = self.accounts.get(account_id)
            if account is not None and account_id not in self.holdings.moves:  # the usual account
                if not account.add(snap_of(event), self.spec, ctx.org):
                    return NO_TOUCH
            elif not self.holdings.take_balance(
                self.accounts, account_id, snap_of(event), self.spec, ctx.org
            ):
                return NO_TOUCH
            account = self.accounts[account_id]
            changed = False
            for c in self.periods.values():
                changed |= self._regrow(c, account_id, account)
            if not changed:
                return NO_TOUCH
            if self._same_attainment():
                # Most balances move only the deposit figure shown, not the composite (attainment
                # capped, or still where it was): the bucket's figures are brought up to date
                # when read (settle), not on every balance.
                self._stale = True
                return NO_TOUCH
        elif isinstance(event, CustomerAssigned):
            customer = event.data.customer_id
            latest = self.assigned.setdefault(customer, {})
            mark = (micros(event.occurred_at), event.event_id, event.data.segment.value)
            day = day_of(event.occurred_at).toordinal()
            for c in self.periods.values():
                if c.within(day) and (c.name not in latest or latest[c.name][:2] < mark[:2]):
                    old = latest[c.name][2] if c.name in latest else None
                    latest[c.name] = mark
                    _move(c.customers, old, mark[2])
                    c.changes += 1
        elif isinstance(event, PayrollSigned | PayrollPaid):
            agreement = event.data.agreement_id
            if isinstance(event, PayrollSigned):
                self.signed.add(agreement)
            else:
                first = self.first_paid.get(agreement)
                paid = (micros(event.occurred_at), event.event_id)
                if first is None or paid < first[:2]:
                    self.first_paid[agreement] = (*paid, day_of(event.occurred_at).toordinal())
            for c in self.periods.values():
                self._recount_agreement(c, agreement)
        elif isinstance(event, ProductSold):
            sale = event.data.sale_id
            earlier = self.sales.get(sale)
            sold = (micros(event.occurred_at), event.event_id)
            if earlier is not None and earlier[:2] <= sold:
                return NO_TOUCH
            new = (*sold, event.data.product.value, day_of(event.occurred_at).toordinal())
            self.sales[sale] = new
            for c in self.periods.values():
                self._recount_sale(c, sale, earlier, new)
        else:
            return NO_TOUCH
        return TOUCHED

    def _regrow(self, c: Counters, account_id: str, account: Account) -> bool:
        growth = account.balance_on(c.end)[0] - account.balance_on(c.start - 1)[0]
        old = c.growth.get(account_id, 0)
        if growth == old:
            return False
        c.deposit += growth - old
        c.growth[account_id] = growth
        return True

    def _recount_agreement(self, c: Counters, agreement: str) -> None:
        c.agreements.discard(agreement)
        paid = self.first_paid.get(agreement)
        if agreement in self.signed and paid is not None and c.within(paid[2]):
            c.agreements.add(agreement)
        c.changes += 1

    def _recount_sale(
        self,
        c: Counters,
        sale: str,
        earlier: tuple[int, str, str, int] | None,
        new: tuple[int, str, str, int],
    ) -> None:
        if earlier is not None and sale in c.sales:
            c.sales.discard(sale)
            c.products[earlier[2]] -= 1
        if c.within(new[3]):
            c.sales.add(sale)
            c.products[new[2]] = c.products.get(new[2], 0) + 1
        c.changes += 1

    def compute(self, bucket: str, ctx: Context) -> BucketValue:
        out = BucketValue()
        final = ctx.final
        rule: ScorecardRule | None = final.rule(self.kind)
        if rule is None or "current" not in self.periods:
            return out
        if self.holdings.moves:
            self._place_departures(ctx)
        out.extra = self._figures(rule)
        self._stale = False
        stamp = self._stamp
        if stamp is None or stamp[0] is not ctx.org or stamp[1] != ctx.org.revision:
            unit = ctx.unit(final.window.end)
            stamp = self._stamp = (ctx.org, ctx.org.revision, unit, final.takes_part(unit.sub_branch_id))
        if stamp[3]:
            label = "小小银行家综合得分" + (
                f"（均衡系数 ×{rule.balance_penalty}）" if out.extra["penalised"] else ""
            )
            out.add("scorecard", stamp[2], out.extra["composite"], label)
        return out

    def _place_departures(self, ctx: Context) -> None:
        for account_id in self.holdings.unplaced():
            self.holdings.settle(self.accounts, account_id, self.spec, ctx.org)
            for c in self.periods.values():
                self._regrow(c, account_id, self.accounts[account_id])

    def _figures(self, rule: ScorecardRule) -> dict[str, Any]:
        current = self._evaluate(rule, self.periods["current"])
        extra: dict[str, Any] = {**current, "previous_composite": None, "improvement": None}
        if "previous" in self.periods:
            previous = self._evaluate(rule, self.periods["previous"])
            extra["previous_composite"] = previous["composite"]
            extra["improvement"] = q(current["composite"] - previous["composite"])
        return extra  # Decimals: made JSON strings only when the state is written

    def _same_attainment(self) -> bool:
        """Would the composite stay as last computed? (Only the deposit counts moved.)"""
        plan = self._plan
        if plan is None:
            return False
        for c in self.periods.values():
            seen = self._ratios.get(c.name)
            if seen is None or seen[0] != c.changes or seen[1] != plan.deposit_ratios(c):
                return False
        return True

    def settle(self, bucket: BucketValue | None) -> None:
        """Bring the stored figures up to date before they are read or written."""
        if not self._stale:
            return
        self._stale = False
        if bucket is not None and bucket.extra is not None and self._plan is not None:
            bucket.extra = self._figures(self._plan.rule)

    def _evaluate(self, rule: ScorecardRule, c: Counters) -> dict[str, Any]:
        """evaluate(), cached until the period's counts change (the previous period rarely does).
        Most events are balances: they move only the deposit dimension, so the other dimensions'
        part is cached apart and only the deposit is worked out again."""
        hit = self._evaluated.get(c.name)
        if hit is not None and hit[0] == c.changes and hit[1] == c.deposit:
            return hit[2]
        if self._plan is None or self._plan.rule is not rule:
            self._plan = Plan(rule)
            self._partial.clear()
        partial = self._partial.get(c.name)
        if partial is None or partial[0] != c.changes:
            partial = self._partial[c.name] = (c.changes, Partial(self._plan, c))
        figures = partial[1].finish(self._plan, c)
        self._evaluated[c.name] = (c.changes, c.deposit, figures)
        self._ratios[c.name] = (c.changes, self._plan.deposit_ratios(c))
        return figures

    # -- JSON: only the indexes; the counters are derived again on load ---------------------------

    def dump(self) -> Any:
        return {
            "periods": [[n, s.isoformat(), e.isoformat()] for n, s, e in self.period_list],
            "assigned": [
                [cust, p, *mark] for cust, marks in self.assigned.items() for p, mark in marks.items()
            ],
            "accounts": {a: account.to_list() for a, account in self.accounts.items()},
            "moves": self.holdings.dump(),
            "signed": sorted(self.signed),
            "paid": [[a, *mark] for a, mark in self.first_paid.items()],
            "sales": [[s, *mark] for s, mark in self.sales.items()],
        }

    def load(self, raw: Any) -> None:
        self._setup([(n, date.fromisoformat(s), date.fromisoformat(e)) for n, s, e in raw["periods"]])
        for cust, period, us, eid, segment in raw["assigned"]:
            self.assigned.setdefault(cust, {})[period] = (int(us), eid, segment)
            _move(self.periods[period].customers, None, segment)
        self.accounts = {a: Account.from_list(r) for a, r in raw["accounts"].items()}
        self.holdings.load(raw.get("moves"))
        self.signed = set(raw["signed"])
        self.first_paid = {a: (int(us), eid, int(day)) for a, us, eid, day in raw["paid"]}
        self.sales = {s: (int(us), eid, product, int(day)) for s, us, eid, product, day in raw["sales"]}
        for c in self.periods.values():
            for account_id, account in self.accounts.items():
                self._regrow(c, account_id, account)
            for agreement in set(self.signed) | set(self.first_paid):
                self._recount_agreement(c, agreement)
            for sale, mark in self.sales.items():
                self._recount_sale(c, sale, None, mark)


def _move(counts: dict[str, int], old: str | None, new: str) -> None:
    if old == new:
        return
    if old is not None:
        counts[old] -= 1
    counts[new] = counts.get(new, 0) + 1


class Plan:
    """A scorecard rule's dimensions as plain tuples: evaluated on every balance that moves growth."""

    def __init__(self, rule: ScorecardRule) -> None:
        self.rule = rule
        self.dims = [
            (
                d.name,
                d.measure,
                d.segment.value if d.segment is not None else None,
                tuple(p.value for p in d.products),
                d.target,
                d.weight,
            )
            for d in rule.dimensions
        ]
        self.total_weight = sum((d.weight for d in rule.dimensions), Decimal(0))
        self.cap, self.floor = rule.attainment_cap, rule.balance_floor
        self.penalty, self.scale = rule.balance_penalty, rule.scale
        self.deposit_targets = [d.target for d in rule.dimensions if d.measure == "deposit_increase"]

    def deposit_ratios(self, c: Counters) -> tuple[Decimal, ...]:
        """The deposit dimensions' attainments, unrounded: all the composite reads of deposits."""
        value = Decimal(c.deposit) / 100
        return tuple(min(value / t, self.cap) if value > 0 else ZERO for t in self.deposit_targets)


def actual_of(measure: str, segment: str | None, products: tuple[str, ...], c: Counters) -> Decimal:
    if measure == "customers":
        return Decimal(sum(c.customers.values()) if segment is None else c.customers.get(segment, 0))
    if measure == "deposit_increase":
        return Decimal(c.deposit) / 100
    if measure == "payroll_agreements":
        return Decimal(len(c.agreements))
    if not products:
        return Decimal(sum(c.products.values()))
    return Decimal(sum(c.products.get(k, 0) for k in products))


class Partial:
    """The dimensions other than deposit_increase, evaluated once per change of their counts."""

    def __init__(self, plan: Plan, c: Counters) -> None:
        self.attainment: dict[str, Decimal] = {}
        self.actual: dict[str, Decimal] = {}
        self.weighted = ZERO
        self.penalised = False
        for name, measure, segment, products, target, weight in plan.dims:
            if measure == "deposit_increase":
                self.attainment[name] = self.actual[name] = ZERO  # a place kept in dimension order
                continue
            ratio = _ratio(plan, actual_of(measure, segment, products, c), target, name, self)
            self.weighted += weight * ratio
            self.penalised = self.penalised or ratio < plan.floor

    def finish(self, plan: Plan, c: Counters) -> dict[str, Any]:
        attainment, actual = dict(self.attainment), dict(self.actual)
        holder = _Holder(attainment, actual)
        weighted, penalised = self.weighted, self.penalised
        for name, measure, _, _, target, weight in plan.dims:
            if measure == "deposit_increase":
                ratio = _ratio(plan, Decimal(c.deposit) / 100, target, name, holder)
                weighted += weight * ratio
                penalised = penalised or ratio < plan.floor
        composite = plan.scale * (weighted / plan.total_weight) * (plan.penalty if penalised else ONE)
        return {"composite": q(composite), "penalised": penalised, "attainment": attainment, "actual": actual}


class _Holder:
    def __init__(self, attainment: dict[str, Decimal], actual: dict[str, Decimal]) -> None:
        self.attainment, self.actual = attainment, actual


def _ratio(plan: Plan, value: Decimal, target: Decimal, name: str, into: Partial | _Holder) -> Decimal:
    """min(actual / target, cap), negative counting 0; records the rounded figures."""
    ratio = min(value / target, plan.cap) if value > 0 else ZERO
    into.actual[name] = q(value)
    into.attainment[name] = ratio.quantize(FOUR_PLACES)
    return ratio


def evaluate(plan: Plan, c: Counters) -> dict[str, Any]:
    """Composite and per-dimension figures for one period (Decimals, rounded as shown)."""
    return Partial(plan, c).finish(plan, c)
