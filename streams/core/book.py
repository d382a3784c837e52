"""One participant's score in one competition, kept as cached bucket values.

The score is a function of the SET of the participant's events. Each bucket (a day of openings,
an account's deposits, the scorecard) caches its last value; applying an event recomputes the
buckets the event touched, then the whole-competition adjustments (contest caps, minimum total),
and the differences are the ledger deltas. So the sum of all deltas always equals the value of
the set, whatever the arrival order, and an event that changes nothing yields nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from schemas.envelope import Envelope
from streams.core.points import ZERO, fmt, q
from streams.core.scoring.base import BucketValue, Context, Key, Scorer
from streams.core.scoring.daily import PREFIX, DailyScorer
from streams.core.scoring.deposits import DepositScorer
from streams.core.scoring.opening import OpeningScorer
from streams.core.scoring.payroll import PayrollScorer
from streams.core.scoring.scorecard import ScorecardScorer
from streams.core.scoring.simple import ProductScorer, VisitScorer

THRESHOLD = "@threshold"
SCORERS: dict[str, type[Scorer]] = {
    "account_opening": OpeningScorer,
    "payroll": PayrollScorer,
    "product_sold": ProductScorer,
    "visit": VisitScorer,
    "deposit_growth": DepositScorer,
}

Deltas = dict[Key, Decimal]
Labels = dict[str, str]


def cap_bucket(kind: str) -> str:
    return f"@cap|{kind}"


class Book:
    def __init__(self, cid: str) -> None:
        self.cid = cid
        self.fingerprint: str | None = None
        self.revision = 0
        self.final_version = 0
        self.buckets: dict[str, BucketValue] = {}
        self.totals: dict[Key, Decimal] = {}
        self.day_totals: dict[str, Decimal] = {}  # per day-based kind, before contest caps
        self.scorers: dict[str, Scorer] | None = None

    # -- keeping in step with the published versions -------------------------------------------

    def sync(self, events: Iterable[Envelope], ctx: Context) -> tuple[Deltas, Labels] | None:
        """Rebuild indexes if needed; if the versions changed, recompute everything (a rescore).
        Returns the rescore's deltas, or None when the book was already current."""
        fingerprint = ctx.catalog.fingerprint(self.cid)
        if self.scorers is not None and self.fingerprint == fingerprint:
            return None
        kinds = {rule.kind for version in ctx.catalog.versions(self.cid) for rule in version.rules}
        scorers: dict[str, Scorer] = {k: SCORERS[k]() for k in kinds if k in SCORERS}
        if "scorecard" in kinds:
            scorers["scorecard"] = ScorecardScorer(ctx.final)
        self.scorers = scorers
        for event in events:
            for scorer in scorers.values():
                scorer.observe(event, None)
        if self.fingerprint == fingerprint:  # state loaded from JSON: caches are still valid
            return None
        self.fingerprint = fingerprint
        self.final_version = ctx.final.version
        self.revision += 1
        return self.recompute_all(ctx)

    def recompute_all(self, ctx: Context) -> tuple[Deltas, Labels]:
        assert self.scorers is not None
        names = {n for n in self.buckets if not n.startswith("@")}
        for scorer in self.scorers.values():
            names |= scorer.buckets()
        return self._refresh(names, ctx)

    # -- applying one event ---------------------------------------------------------------------

    def observe(self, event: Envelope, ctx: Context) -> tuple[Deltas, Labels, dict[str, str]]:
        assert self.scorers is not None
        touched: set[str] = set()
        notes: dict[str, str] = {}
        for scorer in self.scorers.values():
            touch = scorer.observe(event, ctx)
            touched |= touch.buckets
            if touch.note:
                notes[touch.note[0]] = touch.note[1]
        if not touched:
            return {}, {}, notes
        deltas, labels = self._refresh(touched, ctx)
        return deltas, labels, notes

    def _refresh(self, names: Iterable[str], ctx: Context) -> tuple[Deltas, Labels]:
        assert self.scorers is not None
        deltas: Deltas = {}
        labels: Labels = {}
        for name in names:
            kind = name.split("|", 1)[0]
            scorer = self.scorers.get(kind)
            self._store(name, scorer.compute(name, ctx) if scorer else BucketValue(), deltas, labels)
        final = ctx.final
        for kind, scorer in self.scorers.items():
            if isinstance(scorer, DailyScorer):
                rule = final.rule(kind)
                self._store(
                    cap_bucket(kind),
                    self._contest_cap(scorer, rule.contest_cap if rule else None),
                    deltas,
                    labels,
                )
        minimum = final.minimum_total()
        if minimum is not None or THRESHOLD in self.buckets:
            self._store(THRESHOLD, self._threshold(minimum.points if minimum else None), deltas, labels)
        return deltas, labels

    def _store(self, name: str, new: BucketValue, deltas: Deltas, labels: Labels) -> None:
        new.values = {k: q(v) for k, v in new.values.items() if q(v)}
        old = self.buckets.get(name)
        old_values = old.values if old else {}
        for key in new.values.keys() | old_values.keys():
            change = new.values.get(key, ZERO) - old_values.get(key, ZERO)
            if change:
                if name[0] != "@":
                    kind = name.split("|", 1)[0]
                    self.day_totals[kind] = self.day_totals.get(kind, ZERO) + change
                deltas[key] = deltas.get(key, ZERO) + change
                total = self.totals.get(key, ZERO) + change
                if total:
                    self.totals[key] = total
                else:
                    self.totals.pop(key, None)
                component = key[0]
                labels[component] = (
                    new.labels.get(component) or (old.labels.get(component) if old else None) or component
                )
        if new.values or new.metrics or new.extra is not None:
            self.buckets[name] = new
        else:
            self.buckets.pop(name, None)

    def _contest_cap(self, scorer: DailyScorer, cap: Decimal | None) -> BucketValue:
        """Days count in date order until the cap; what lies beyond it is cut, on its own day's unit."""
        out = BucketValue()
        if cap is None or self.day_totals.get(scorer.kind, ZERO) <= cap:
            return out
        prefix = PREFIX[scorer.kind]
        nets = [(day, self.buckets.get(scorer.bucket_of(day))) for day in sorted(scorer.days)]
        running = ZERO
        for _, bucket in nets:
            if bucket is None or not bucket.values:
                continue
            net = sum(bucket.values.values(), ZERO)
            before = max(ZERO, running - cap)
            running += net
            cut = max(ZERO, running - cap) - before
            if cut:
                _, sub_branch, team = next(iter(bucket.values))
                key = (f"{prefix}.contest_cap", sub_branch, team)
                out.values[key] = out.values.get(key, ZERO) - cut
        out.labels[f"{prefix}.contest_cap"] = f"活动封顶 {fmt(cap)[1:]} 分"
        return out

    def _threshold(self, minimum: Decimal | None) -> BucketValue:
        out = BucketValue()
        if minimum is None:
            return out
        by_unit: dict[tuple[str | None, str | None], Decimal] = {}
        for (component, sub_branch, team), points in self.totals.items():
            if component != "threshold":
                by_unit[(sub_branch, team)] = by_unit.get((sub_branch, team), ZERO) + points
        if sum(by_unit.values(), ZERO) < minimum:
            out.values = {
                ("threshold", sb, team): -points for (sb, team), points in by_unit.items() if points
            }
        out.labels["threshold"] = f"未达门槛 {fmt(minimum)[1:]} 分，计 0"
        return out

    # -- JSON -----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "revision": self.revision,
            "final_version": self.final_version,
            "buckets": {name: _bucket_to_dict(b) for name, b in sorted(self.buckets.items())},
        }

    @classmethod
    def from_dict(cls, cid: str, obj: dict[str, Any]) -> Book:
        book = cls(cid)
        book.fingerprint = obj["fingerprint"]
        book.revision = int(obj["revision"])
        book.final_version = int(obj["final_version"])
        for name, raw in obj["buckets"].items():
            bucket = _bucket_from_dict(raw)
            book.buckets[name] = bucket
            for key, points in bucket.values.items():
                book.totals[key] = book.totals.get(key, ZERO) + points
                if name[0] != "@":
                    kind = name.split("|", 1)[0]
                    book.day_totals[kind] = book.day_totals.get(kind, ZERO) + points
        book.totals = {k: v for k, v in book.totals.items() if v}
        return book


def _bucket_to_dict(b: BucketValue) -> dict[str, Any]:
    return {
        "values": [[c, sb, team, str(v)] for (c, sb, team), v in sorted(b.values.items(), key=str)],
        "labels": b.labels,
        "metrics": b.metrics,
        "reached_at": b.reached_at.isoformat() if b.reached_at else None,
        "extra": b.extra,
    }


def _bucket_from_dict(raw: dict[str, Any]) -> BucketValue:
    return BucketValue(
        values={(c, sb, team): Decimal(v) for c, sb, team, v in raw["values"]},
        labels=dict(raw["labels"]),
        metrics={k: int(v) for k, v in raw["metrics"].items()},
        reached_at=datetime.fromisoformat(raw["reached_at"]) if raw["reached_at"] else None,
        extra=raw["extra"],
    )
