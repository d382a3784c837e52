"""Badges and challenge progress, derived from a book: a pure function of the participant's events.

The facts are the items the day-based scorers count (openings, payroll agreements, sales, visits),
each with its Shanghai day, its moment and its unit; items clawed back are not facts. Badges and
challenge progress are computed from the facts sorted by (day, moment, item key), so any arrival
order of the same events gives the same badges at the same moments.

What the ledger holds is kept apart (`Held`): a badge is written once when first derived (an
award, id from the badge instance and its round) and once when it stops being derived (a revoke,
its own id), so replays, kills and re-scores find it held and write nothing again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from streams.core.badge_rules import Badge, Challenge, MilestoneBadge, StreakBadge, ThresholdBadge
from streams.core.calendar import day_of, is_working_day, start_of
from streams.core.compact import micros, moment_of
from streams.core.org import Unit
from streams.core.rules import Competition
from streams.core.scoring.daily import DailyScorer

if TYPE_CHECKING:
    from streams.core.scoring.base import Context, Scorer

ZERO = Decimal(0)
ONE = Decimal(1)
CHALLENGE = "challenge:"  # instance prefix of a challenge's goal reached


@dataclass(frozen=True, slots=True)
class Fact:
    day: date
    moment: datetime  # when the item happened (on `day`, or the day's start if it scores later)
    key: str  # the item, for a deterministic order among equal moments
    amounts: dict[str, Decimal]  # measure -> amount
    unit: Unit


@dataclass(frozen=True, slots=True)
class Earned:
    instance: str  # badge id, "@<period>" for per-month milestones and streak runs
    badge: str  # the rule's id
    kind: str  # milestone / threshold / streak / challenge
    name: str
    at: datetime
    unit: Unit


_MEASURES = {"payroll": "payroll_agreements", "product_sold": "products", "visit": "visits"}


class Facts:
    """The facts of one book, kept per day-bucket while the bucket is the same object: a bucket the
    book recomputed (its items, its unit or its rules changed) is a new object, so only the days an
    event touched are read again. Held by the book, never stored: rebuilt on first use after a load."""

    def __init__(self) -> None:
        self._days: dict[str, tuple[object, list[Fact]]] = {}
        self._all: list[Fact] = []
        self._final: Competition | None = None  # the rules of the last call

    def collect(
        self, scorers: Iterable[Scorer], buckets: dict[str, Any], ctx: Context
    ) -> tuple[list[Fact], bool]:
        """Every fact, sorted; and whether any changed (or the rules did) since the last call.
        The first call always says changed: what the book holds is to be checked once."""
        changed = self._final is not ctx.final
        self._final = ctx.final
        seen: set[str] = set()
        for scorer in scorers:
            if not isinstance(scorer, DailyScorer):
                continue
            for day in scorer.days:
                name = scorer.bucket_of(day)
                seen.add(name)
                bucket = buckets.get(name)
                held = self._days.get(name)
                if bucket is not None and held is not None and held[0] is bucket:
                    continue
                found = _day_facts(scorer, day, ctx)
                if held is None or held[1] != found:
                    changed = True
                self._days[name] = (bucket, found)
        for name in [n for n in self._days if n not in seen]:
            del self._days[name]
            changed = True
        if changed:
            self._all = sorted(
                (f for _, found in self._days.values() for f in found), key=lambda f: (f.day, f.moment, f.key)
            )
        return self._all, changed


def _day_facts(scorer: DailyScorer, day: date, ctx: Context) -> list[Fact]:
    out = []
    for key, hit, unit in scorer.counted(day, ctx):
        scored = hit.scored
        assert scored is not None
        amounts = {"points": scored.points}
        if scorer.kind == "account_opening":
            for metric in scored.metrics:
                amounts[metric] = ONE
        else:
            amounts[_MEASURES[scorer.kind]] = ONE
        moment = hit.moment if day_of(hit.moment) == day else start_of(day)
        out.append(Fact(day, moment, f"{scorer.kind}|{key}", amounts, unit))
    out.sort(key=lambda f: (f.moment, f.key))  # the index keeps a day's items in a set
    return out


def facts(scorers: Iterable[Scorer], ctx: Context) -> list[Fact]:
    """Every fact of these scorers, sorted (without a cache: tests, explanations)."""
    return Facts().collect(scorers, {}, ctx)[0]


def derive(final: Competition, found: list[Fact]) -> dict[str, Earned]:
    """Every badge instance earned (and every challenge goal reached) by these sorted facts."""
    by_measure: dict[str, list[Fact]] = {}
    for fact in found:
        for measure, amount in fact.amounts.items():
            if amount:
                by_measure.setdefault(measure, []).append(fact)
    out: dict[str, Earned] = {}
    for badge in final.badges:
        for earned in _badge(badge, by_measure.get(badge.measure, []), final):
            out[earned.instance] = earned
    for challenge in final.challenges:
        reached = reach(challenge, by_measure.get(challenge.measure, []))
        if reached is not None:
            out[CHALLENGE + challenge.id] = Earned(
                CHALLENGE + challenge.id,
                challenge.id,
                "challenge",
                challenge.name,
                reached.moment,
                reached.unit,
            )
    return out


def _first(found: Iterable[Fact], measure: str, target: Decimal) -> Fact | None:
    """The fact at which the running total of `measure` reaches `target`."""
    total = ZERO
    for fact in found:
        amount = fact.amounts.get(measure)
        if amount:
            total += amount
            if total >= target:
                return fact
    return None


def _month(day: date) -> date:
    return day.replace(day=1)


def _by_period(found: list[Fact], period: Callable[[date], date]) -> dict[date, list[Fact]]:
    grouped: dict[date, list[Fact]] = {}
    for f in found:
        grouped.setdefault(period(f.day), []).append(f)
    return grouped


def _badge(badge: Badge, found: list[Fact], final: Competition) -> list[Earned]:
    """`found`: the facts with some of the badge's measure, sorted."""

    def earned(instance: str, fact: Fact) -> Earned:
        return Earned(instance, badge.id, badge.kind, badge.name, fact.moment, fact.unit)

    if isinstance(badge, ThresholdBadge):
        fact = _first(found, badge.measure, badge.at)
        return [earned(badge.id, fact)] if fact else []
    if isinstance(badge, MilestoneBadge):
        if badge.per == "contest":
            fact = _first(found, badge.measure, Decimal(badge.count))
            return [earned(badge.id, fact)] if fact else []
        out = []
        for month, items in sorted(_by_period(found, _month).items()):
            fact = _first(items, badge.measure, Decimal(badge.count))
            if fact:
                out.append(earned(f"{badge.id}@{month.isoformat()[:7]}", fact))
        return out
    return _streak(badge, found, final, earned)


def _streak(badge: StreakBadge, found: list[Fact], final: Competition, earned: Any) -> list[Earned]:
    monthly = badge.every == "month"
    grouped = _by_period(found, _month if monthly else _same_day)
    qualified = {
        p: fact for p, items in grouped.items() if (fact := _first(items, badge.measure, badge.at_least))
    }
    out: list[Earned] = []
    run: list[date] = []
    cal = final.calendar
    periods = _periods(
        final.window.start,
        final.window.end,
        monthly,
        tuple(cal.holidays) if cal else (),
        tuple(cal.workdays) if cal else (),
    )
    for p in periods:
        if p not in qualified:
            run = []
            continue
        run.append(p)
        if len(run) == badge.run:  # once per run: a longer run does not earn it again
            start = run[0].isoformat()
            out.append(earned(f"{badge.id}@{start[:7] if monthly else start}", qualified[p]))
    return out


def _same_day(day: date) -> date:
    return day


@lru_cache(maxsize=256)
def _periods(
    start: date, end: date, monthly: bool, holidays: tuple[date, ...], workdays: tuple[date, ...]
) -> tuple[date, ...]:
    """The window's calendar months (their first days), or its working days, in order."""
    if monthly:
        months, y, m = [], start.year, start.month
        while (y, m) <= (end.year, end.month):
            months.append(date(y, m, 1))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return tuple(months)
    off, on = frozenset(holidays), frozenset(workdays)
    return tuple(
        day
        for n in range(start.toordinal(), end.toordinal() + 1)
        if is_working_day(day := date.fromordinal(n), off, on)
    )


def reach(challenge: Challenge, found: list[Fact]) -> Fact | None:
    return _first(_within(challenge, found), challenge.measure, challenge.goal)


def _within(challenge: Challenge, found: list[Fact]) -> list[Fact]:
    return [f for f in found if challenge.start <= f.day <= challenge.end]


def progress(final: Competition, found: list[Fact]) -> dict[str, dict[str, Any]]:
    """Per challenge: the participant's value so far, when they reached the goal, and their steps
    (moment µs, amount, side) so that sides' totals can be merged in event time (challenges.py)."""
    out: dict[str, dict[str, Any]] = {}
    for challenge in final.challenges:
        inside = [f for f in _within(challenge, found) if f.amounts.get(challenge.measure)]
        if not inside:
            continue
        value = sum((f.amounts[challenge.measure] for f in inside), ZERO)
        reached = _first(inside, challenge.measure, challenge.goal)
        entry: dict[str, Any] = {
            "value": str(value),
            "reached_at": micros(reached.moment) if reached else None,
        }
        if challenge.sides != "customer_manager":
            entry["steps"] = [
                [micros(f.moment), str(f.amounts[challenge.measure]), _side(challenge, f.unit)]
                for f in inside
            ]
        out[challenge.id] = entry
    return out


def _side(challenge: Challenge, unit: Unit) -> str | None:
    return unit.team_id if challenge.sides == "team" else unit.sub_branch_id


class Held:
    """The badges the ledger holds for one book: instance -> [round, held µs or None, earned µs,
    kind, name, rule id]. `round` counts awards, so an award after a revoke gets a new id."""

    def __init__(self, raw: dict[str, list[Any]] | None = None) -> None:
        self.items: dict[str, list[Any]] = {k: list(v) for k, v in (raw or {}).items()}

    def __bool__(self) -> bool:
        return bool(self.items)

    def dump(self) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in sorted(self.items.items())}

    def copy(self) -> Held:
        return Held(self.dump())

    def showing(self) -> list[dict[str, Any]]:
        """The badges held now, in the order earned (for standings)."""
        rows = [
            {
                "id": instance,
                "badge": rule,
                "kind": kind,
                "name": name,
                "at": moment_of(earned).isoformat(),
            }
            for instance, (_, held, earned, kind, name, rule) in self.items.items()
            if held is not None
        ]
        rows.sort(key=lambda r: (r["at"], r["id"]))
        return rows

    def settle(
        self, earned: dict[str, Earned]
    ) -> tuple[list[tuple[Earned, int]], list[tuple[str, list[Any]]]]:
        """Bring what is held to `earned`: the awards (with their round) and revokes to write."""
        awards: list[tuple[Earned, int]] = []
        revokes: list[tuple[str, list[Any]]] = []
        for instance, e in sorted(earned.items()):
            row = self.items.get(instance)
            if row is not None and row[1] is not None:
                row[2] = micros(e.at)  # held: only the derived moment may move (an earlier item arrived)
                continue
            n = (row[0] if row else 0) + 1
            self.items[instance] = [n, micros(e.at), micros(e.at), e.kind, e.name, e.badge]
            awards.append((e, n))
        for instance, row in sorted(self.items.items()):
            if row[1] is not None and instance not in earned:
                row[1] = None
                revokes.append((instance, row))
        return awards, revokes
