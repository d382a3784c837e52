"""存款增量: balance growth per account over a baseline date, 时点 or 日均.

Balances are snapshots (deposit.balance, as_of a business date). For one account and date the
snapshot with the latest (occurred_at, event_id) wins, so corrections replace, duplicates vanish.

- Baseline: the last snapshot on or before the baseline date. An account with no snapshot by then
  has baseline 0: it is new money (a new account, or a balance first reported in the window).
- 时点 (point_in_time): last snapshot on or before the window end minus the baseline. The growth is
  split into its steps (each snapshot minus the one before), each stamped on its as_of day's unit.
- 日均 (daily_average): the mean over every window day of (that day's balance minus baseline),
  where a day's balance is the last snapshot on or before it (0 before the first). Days after
  the last snapshot carry it forward, so mid-window this is the projected average.
A decrease is negative growth and scores negative points.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal

from schemas.envelope import Envelope
from schemas.events import DepositBalance
from schemas.vocabulary import DepositCategory
from streams.core.calendar import ONE_DAY, days
from streams.core.org import Unit
from streams.core.points import WAN, fmt
from streams.core.scoring.base import NO_TOUCH, BucketValue, Context, Scorer, Touch
from streams.core.vocabulary import DepositGrowthRule


class Account:
    """One account's snapshots, one per as_of date."""

    def __init__(self) -> None:
        self.snaps: dict[date, DepositBalance] = {}
        self._dates: list[date] | None = None

    def add(self, event: DepositBalance) -> bool:
        day = event.data.as_of
        known = self.snaps.get(day)
        if known is not None and (known.occurred_at, known.event_id) >= (event.occurred_at, event.event_id):
            return False
        self.snaps[day] = event
        self._dates = None
        return True

    @property
    def dates(self) -> list[date]:
        if self._dates is None:
            self._dates = sorted(self.snaps)
        return self._dates

    def balance_on(self, day: date) -> Decimal:
        i = bisect_right(self.dates, day)
        return self.snaps[self.dates[i - 1]].data.balance if i else Decimal(0)

    def category(self, end: date) -> DepositCategory | None:
        i = bisect_right(self.dates, end)
        return self.snaps[self.dates[i - 1]].data.category if i else None

    def steps(self, baseline: date, end: date) -> Iterator[tuple[date, Decimal]]:
        """Point-in-time growth split into (as_of, change) steps after the baseline date."""
        previous = self.balance_on(baseline)
        for day in self.dates[bisect_right(self.dates, baseline) : bisect_right(self.dates, end)]:
            balance = self.snaps[day].data.balance
            yield day, balance - previous
            previous = balance

    def runs(self, start: date, end: date, breaks: list[date]) -> Iterator[tuple[date, int, Decimal]]:
        """(first day, length, balance) runs over start..end, cut at snapshots and at `breaks`."""
        cuts = sorted(
            {start, *(d for d in self.dates if start < d <= end), *(d for d in breaks if start < d <= end)}
        )
        for i, first in enumerate(cuts):
            last = cuts[i + 1] - ONE_DAY if i + 1 < len(cuts) else end
            yield first, days(first, last), self.balance_on(first)

    def growth(self, baseline: date, start: date, end: date, measure: str) -> Decimal:
        """Unweighted growth in yuan (the scorecard uses this)."""
        base = self.balance_on(baseline)
        if measure == "point_in_time":
            return self.balance_on(end) - base if self.dates and self.dates[0] <= end else Decimal(0)
        n = days(start, end)
        return sum(((bal - base) * length for _, length, bal in self.runs(start, end, [])), Decimal(0)) / n


def baseline_of(rule: DepositGrowthRule, window_start: date) -> date:
    return rule.baseline_date or window_start - timedelta(days=1)


class DepositScorer(Scorer):
    kind = "deposit_growth"

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}

    def observe(self, event: Envelope, ctx: Context | None) -> Touch:
        if not isinstance(event, DepositBalance):
            return NO_TOUCH
        account = self.accounts.setdefault(event.data.account_id, Account())
        if not account.add(event):
            return NO_TOUCH
        return Touch(frozenset({f"{self.kind}|{event.data.account_id}"}))

    def buckets(self) -> set[str]:
        return {f"{self.kind}|{a}" for a in self.accounts}

    def compute(self, bucket: str, ctx: Context) -> BucketValue:
        out = BucketValue()
        final = ctx.final
        rule = final.rule(self.kind)
        account_id = bucket.split("|", 1)[1]
        account = self.accounts.get(account_id)
        if rule is None or account is None:
            return out
        window = final.window
        category = account.category(window.end)
        weight = rule.weights.get(category, Decimal(0)) if category else Decimal(0)
        if not weight:
            return out
        scale = weight * rule.points_per_wan / WAN
        baseline = baseline_of(rule, window.start)
        per_unit: dict[Unit, Decimal] = {}
        unit_of: Callable[[date], Unit] = ctx.unit
        if rule.measure == "point_in_time":
            for day, change in account.steps(baseline, window.end):
                unit = unit_of(day)
                per_unit[unit] = per_unit.get(unit, Decimal(0)) + change
        else:
            base = account.balance_on(baseline)
            n = days(window.start, window.end)
            for first, length, balance in account.runs(window.start, window.end, ctx.org.change_days()):
                unit = unit_of(first)
                per_unit[unit] = per_unit.get(unit, Decimal(0)) + (balance - base) * length / n
        label = "存款增量（{}）账户 {} 权重 {}".format(
            "时点" if rule.measure == "point_in_time" else "日均", account_id, fmt(weight)[1:]
        )
        for unit, growth in per_unit.items():
            if final.takes_part(unit.sub_branch_id):
                out.add("deposit", unit, growth * scale, label)
        return out
