"""Day-bucketed scoring shared by openings, payroll, sales and visits.

A day's value, in this order (each a separate ledger component, prefixed by the rule's name):
  base        sum of the day's items' points, each item scored by the version in force when it occurred
  clawback    minus the points of items that did not stick (openings only)
  multiplier  (factor - 1) x (base + clawback), for days inside a multiplier modifier
  daily_cap   minus whatever exceeds the rule's daily cap
Contest caps are applied across days by the book (see book.py).

A day keeps a running aggregate of its items' contributions, so an event that adds or changes one
item costs O(1), not O(items that day). The aggregate is rebuilt from scratch whenever the day's
org unit changes or an item that set its latest time leaves.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from streams.core.org import Unit
from streams.core.points import fmt
from streams.core.rules import Competition
from streams.core.scoring.base import BucketValue, Context, Scorer

PREFIX = {"account_opening": "opening", "payroll": "payroll", "product_sold": "product", "visit": "visit"}
LABEL = {
    "account_opening": "开户积分",
    "payroll": "代发工资积分",
    "product_sold": "产品销售积分",
    "visit": "客户拜访积分",
}
ZERO = Decimal(0)
CLAWBACK = {prefix: f"{prefix}.clawback" for prefix in PREFIX.values()}


@dataclass(frozen=True, slots=True)
class Scored:
    points: Decimal
    clawed: bool
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Cached:
    moment: datetime
    version: Competition | None
    scored: Scored | None


@dataclass(slots=True)
class DayAgg:
    unit: Unit
    contrib: dict[str, Cached] = field(default_factory=dict)  # items that count
    base: Decimal = ZERO
    clawed: Decimal = ZERO
    metrics: dict[str, int] = field(default_factory=dict)
    reached_at: datetime | None = None

    def add(self, key: str, hit: Cached) -> None:
        scored = hit.scored
        assert scored is not None
        self.contrib[key] = hit
        self.base += scored.points
        if scored.clawed:
            self.clawed += scored.points
            return
        for metric in scored.metrics:
            self.metrics[metric] = self.metrics.get(metric, 0) + 1
        if scored.points > 0 and (self.reached_at is None or hit.moment > self.reached_at):
            self.reached_at = hit.moment

    def remove(self, key: str) -> bool:
        """Take an item out; False if the aggregate must be rebuilt (it held the latest time)."""
        hit = self.contrib.pop(key, None)
        if hit is None:
            return True
        scored = hit.scored
        assert scored is not None
        self.base -= scored.points
        if scored.clawed:
            self.clawed -= scored.points
            return True
        for metric in scored.metrics:
            self.metrics[metric] -= 1
        return not (scored.points > 0 and hit.moment == self.reached_at)


class DailyScorer(Scorer):
    def __init__(self, final: Competition | None = None) -> None:
        self.anchor: dict[str, date] = {}  # item key -> the day it scores on
        self.days: dict[date, set[str]] = {}
        self._cache: dict[str, Cached] = {}  # item key -> its score; scorers are rebuilt when rules change
        self._agg: dict[date, DayAgg] = {}
        self._dirty: dict[date, set[str]] = {}
        # The day's earliest item (whose sub_branch_id names the day's unit while the org timeline
        # is silent), kept while known, with the items changed since, so a new item costs one
        # comparison instead of a scan of the whole day.
        self._first: dict[date, str] = {}
        self._first_stale: dict[date, set[str]] = {}

    @abstractmethod
    def day_of_item(self, key: str) -> date | None:
        """The day an indexed item scores on, or None while it cannot score (unpaid agreement)."""

    @abstractmethod
    def item_keys(self) -> list[str]:
        """Every indexed item."""

    def reanchor(self) -> None:
        """After load: place every item on its day again (the cached buckets are already current)."""
        for key in self.item_keys():
            day = self.day_of_item(key)
            if day is not None:
                self.anchor[key] = day
                self.days.setdefault(day, set()).add(key)

    @property
    def prefix(self) -> str:
        return PREFIX[self.kind]

    def bucket_of(self, day: date) -> str:
        return f"{self.kind}|{day.isoformat()}"

    def forget(self, key: str) -> None:
        """The item's events changed: score it afresh next time."""
        self._cache.pop(key, None)
        day = self.anchor.get(key)
        if day is not None:
            self._dirty.setdefault(day, set()).add(key)
            self._restamp(key, day)

    def _restamp(self, key: str, day: date) -> None:
        """The item changed or entered or left the day: the day's earliest item may be another."""
        first = self._first.get(day)
        if first is None:
            return
        if first == key:  # it may have left, or moved later: find the earliest again
            del self._first[day]
            self._first_stale.pop(day, None)
        else:
            self._first_stale.setdefault(day, set()).add(key)

    def place(self, key: str, day: date | None) -> set[str]:
        """Move an item to the day it now scores on; returns the buckets touched."""
        self.forget(key)
        old = self.anchor.get(key)
        if old == day:
            return {self.bucket_of(day)} if day else set()
        touched = set()
        if old is not None:
            self.days[old].discard(key)
            if not self.days[old]:
                del self.days[old]
            touched.add(self.bucket_of(old))
        if day is not None:
            self.anchor[key] = day
            self.days.setdefault(day, set()).add(key)
            self._dirty.setdefault(day, set()).add(key)
            self._restamp(key, day)
            touched.add(self.bucket_of(day))
        else:
            self.anchor.pop(key, None)
        return touched

    def buckets(self) -> set[str]:
        return {self.bucket_of(day) for day in self.days}

    @abstractmethod
    def item_time(self, key: str) -> tuple[datetime, str | None]:
        """When the item scores (selects its rule version) and the sub-branch its event named."""

    @abstractmethod
    def score(self, key: str, version: Competition, rule: Any) -> Scored | None:
        """The item's points under this version's rule, or None if it does not count."""

    @abstractmethod
    def explain(self, key: str, version: Competition, rule: Any, scored: Scored) -> str:
        """The reason line of the item's own ledger entry."""

    def cached(self, key: str, ctx: Context) -> Cached:
        hit = self._cache.get(key)
        if hit is None:
            moment, _ = self.item_time(key)
            version = ctx.at(moment)
            rule = version.rule(self.kind) if version else None
            scored = None
            if version is not None and rule is not None and self.anchor[key] in version.window:
                scored = self.score(key, version, rule)
            hit = self._cache[key] = Cached(moment, version, scored)
        return hit

    def describe(self, key: str, ctx: Context, explain: bool) -> tuple[str, str] | None:
        """The reason line for the item's own ledger entry (skipped while rebuilding)."""
        if not explain:
            return None
        day = self.anchor.get(key)
        if day is not None and not ctx.may_score(day.isoformat()):
            return None  # no version's window holds the day: it would score None (saves `cached`)
        hit = self.cached(key, ctx)
        if hit.scored is None or hit.version is None:
            return None
        return (self.prefix, self.explain(key, hit.version, hit.version.rule(self.kind), hit.scored))

    def detail(self, key: str) -> dict[str, str]:
        """What the item is, for its entries' labels (streams/core/labels.py): no ids, no amounts."""
        return {}

    def detailed(self, key: str, explain: bool) -> tuple[str, dict[str, str]] | None:
        """The item's detail for its own ledger entry (skipped while rebuilding)."""
        if not explain:
            return None
        detail = self.detail(key)
        return (self.prefix, detail) if detail else None

    def _unit(self, day: date, keys: set[str], ctx: Context) -> Unit:
        unit = ctx.org.unit_on(day)
        if unit.sub_branch_id is None:  # org timeline silent: the earliest item's own sub_branch_id
            unit = ctx.unit(day, self.item_time(self._earliest(day, keys))[1])
        return unit

    def _order(self, key: str) -> tuple[datetime, str]:
        return (self.item_time(key)[0], key)

    def _earliest(self, day: date, keys: set[str]) -> str:
        """min(keys, key=self._order), from the last one found and the items changed since."""
        first = self._first.get(day)
        stale = self._first_stale.pop(day, None)
        if first is None or first not in keys:
            first = min(keys, key=self._order)
        elif stale:
            best = self._order(first)
            for key in stale:
                if key in keys and (order := self._order(key)) < best:
                    first, best = key, order
        self._first[day] = first
        return first

    def _counts(self, key: str, unit: Unit, ctx: Context) -> Cached | None:
        hit = self.cached(key, ctx)
        if hit.scored is None or hit.version is None or not hit.version.takes_part(unit.sub_branch_id):
            return None
        return hit

    def counted(self, day: date, ctx: Context) -> list[tuple[str, Cached, Unit]]:
        """The day's items that count and were not clawed back, with the day's unit (badges.py)."""
        keys = self.days.get(day)
        if not keys:
            return []
        unit = self._unit(day, keys, ctx)
        out = []
        for key in keys:
            hit = self._counts(key, unit, ctx)
            if hit is not None and hit.scored is not None and not hit.scored.clawed:
                out.append((key, hit, unit))
        return out

    def aggregate(self, day: date, ctx: Context) -> DayAgg | None:
        keys = self.days.get(day)
        dirty = self._dirty.pop(day, set())
        if not keys:
            self._agg.pop(day, None)
            return None
        unit = self._unit(day, keys, ctx)
        agg = self._agg.get(day)
        if agg is not None and agg.unit == unit:
            for key in dirty:
                if not agg.remove(key):
                    agg = None
                    break
                if key in keys and (hit := self._counts(key, unit, ctx)) is not None:
                    agg.add(key, hit)
        else:
            agg = None
        if agg is None:
            agg = DayAgg(unit)
            for key in keys:
                if (hit := self._counts(key, unit, ctx)) is not None:
                    agg.add(key, hit)
        self._agg[day] = agg
        return agg

    def compute(self, bucket: str, ctx: Context) -> BucketValue:
        out = BucketValue()
        day = date.fromisoformat(bucket[len(self.kind) + 1 :])  # "<kind>|<day>"
        agg = self.aggregate(day, ctx)
        if agg is None:
            return out
        unit = agg.unit
        prefix = PREFIX[self.kind]
        out.metrics = {k: n for k, n in agg.metrics.items() if n}
        out.reached_at = agg.reached_at
        out.add(prefix, unit, agg.base, LABEL[self.kind])
        if agg.clawed:
            out.add(CLAWBACK[prefix], unit, -agg.clawed, "销户/挪户扣回")
        net = agg.base - agg.clawed
        today = ctx.at_day_end(day)
        if today is None:
            return out
        mult = today.multiplier_on(day, self.kind)
        if mult is not None:
            extra = (mult.factor - 1) * net
            out.add(f"{self.prefix}.multiplier", unit, extra, f"{mult.label} ×{fmt(mult.factor)[1:]}")
            net += extra
        rule = today.rule(self.kind)
        cap = rule.daily_cap if rule is not None else None
        if cap is not None and net > cap:
            out.add(f"{self.prefix}.daily_cap", unit, cap - net, f"单日封顶 {fmt(cap)[1:]} 分")
        return out
