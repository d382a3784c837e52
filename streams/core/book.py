"""One participant's score in one competition, kept as cached bucket values.

The score is a function of the SET of the participant's events. The book keeps each scorer's
compact index of them (never the events), so it serializes with the buckets. Each bucket (a day of openings,
an account's deposits, the scorecard) caches its last value; applying an event recomputes the
buckets the event touched, then the whole-competition adjustments (contest caps, minimum total),
and the differences are the ledger deltas. So the sum of all deltas always equals the value of
the set, whatever the arrival order, and an event that changes nothing yields nothing.

The book also remembers on which Shanghai day the ledger holds its points (`dated`: per key and
day, the sum of the entries written for it), so a re-score can correct each day, and so each
award period, by what that day is owed (engine.rebuild).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from schemas.envelope import Envelope
from streams.core.badges import Facts, Held
from streams.core.catalog import Catalog
from streams.core.compact import micros, moment_of
from streams.core.org import OrgTimeline
from streams.core.points import ZERO, fmt, q
from streams.core.scoring.adjustment import AdjustmentScorer
from streams.core.scoring.base import BucketValue, Context, Key, Scorer
from streams.core.scoring.daily import PREFIX, DailyScorer
from streams.core.scoring.deposits import DepositScorer
from streams.core.scoring.opening import OpeningScorer
from streams.core.scoring.payroll import PayrollScorer
from streams.core.scoring.scorecard import BUCKET as SCORECARD_BUCKET
from streams.core.scoring.scorecard import ScorecardScorer
from streams.core.scoring.simple import ProductScorer, VisitScorer

THRESHOLD = "@threshold"
SCORERS: dict[str, type[Scorer]] = {
    "account_opening": OpeningScorer,
    "payroll": PayrollScorer,
    "product_sold": ProductScorer,
    "visit": VisitScorer,
    "deposit_growth": DepositScorer,
    "scorecard": ScorecardScorer,
    "adjustment": AdjustmentScorer,  # every book has one: manual adjustments are not a rule
}

Deltas = dict[Key, Decimal]
Labels = dict[str, str]
Details = dict[str, dict[str, str]]  # component -> what the event's own item counted
Dated = dict[Key, dict[int, Decimal]]  # key -> Shanghai day (ordinal) -> points the ledger holds
NOTHING: dict[Any, Any] = {}  # returned, never filled: an event that touched nothing
DAILY = frozenset(PREFIX)


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
        # None: a state written before days were kept (its entries' days are not known)
        self.dated: Dated | None = {}
        self.held = Held()  # badges the ledger holds (badges.py)
        self.challenges: dict[str, dict[str, Any]] = {}  # challenge id -> progress (badges.progress)
        self.facts = Facts()  # what badges are derived from, per day (never stored)
        self.scorers: dict[str, Scorer] = {}
        self._route: dict[str, list[Scorer]] = {}
        self._checks: dict[str, list[Scorer]] = {}
        self._ctx: Context | None = None

    @classmethod
    def fresh(cls, cid: str, ctx: Context, revision: int = 1) -> Book:
        """An empty book for the catalog's current versions of this competition."""
        book = cls(cid)
        book.fingerprint = ctx.catalog.fingerprint(cid)
        book.final_version = ctx.final.version
        book.revision = revision
        kinds = {rule.kind for version in ctx.catalog.versions(cid) for rule in version.rules}
        scorers: dict[str, Scorer] = {k: SCORERS[k](ctx.final) for k in sorted(kinds) if k in SCORERS}
        scorers[AdjustmentScorer.kind] = AdjustmentScorer(ctx.final)
        book._install(scorers)
        return book

    def _install(self, scorers: dict[str, Scorer]) -> None:
        self.scorers = scorers
        self._route, self._checks = {}, {}
        for scorer in scorers.values():
            for type_ in scorer.types:
                self._route.setdefault(type_, []).append(scorer)
                self._checks.setdefault(type_, []).append(scorer)
            if isinstance(scorer, DepositScorer):  # an org change may restamp its folded days
                self._checks.setdefault("org.changed", []).append(scorer)

    def context(self, catalog: Catalog, org: OrgTimeline, cm_id: str = "") -> Context:
        """One context per catalog and org timeline, not one per event."""
        ctx = self._ctx
        if ctx is None or ctx.catalog is not catalog or ctx.org is not org or ctx.cm_id != cm_id:
            ctx = self._ctx = Context(catalog, self.cid, org, cm_id)
        return ctx

    def takes(self, event_type: str) -> bool:
        """Does any scorer of this book index (or must check) this type of event?"""
        return event_type in self._checks or event_type == "org.changed"

    def current(self, catalog: Catalog) -> bool:
        return self.fingerprint == catalog.fingerprint(self.cid)

    # -- applying one event ---------------------------------------------------------------------

    def check(self, event: Envelope, ctx: Context) -> None:
        """Raise NeedsRebuild if this book cannot take the event exactly; changes nothing."""
        for scorer in self._checks.get(event.type, ()):
            scorer.check(event, ctx)

    def index(self, event: Envelope, ctx: Context) -> None:
        """Index only (a rebuild computes every bucket once at the end)."""
        for scorer in self._route.get(event.type, ()):
            scorer.observe(event, ctx, False)

    def recompute_all(self, ctx: Context) -> tuple[Deltas, Labels]:
        names = {n for n in self.buckets if n[0] != "@"}
        for scorer in self.scorers.values():
            names |= scorer.buckets()
        return self._refresh(names, ctx, set(self.scorers))

    def observe(self, event: Envelope, ctx: Context) -> tuple[Deltas, Labels, dict[str, str], Details]:
        touched: set[str] = set()
        notes: dict[str, str] = {}
        details: Details = {}
        kinds: set[str] = set()
        for scorer in self._route.get(event.type, ()):
            touch = scorer.observe(event, ctx)
            buckets: Iterable[str] = touch.buckets
            if buckets and scorer.kind in DAILY:
                # A day no version's window holds computes to nothing: unless it holds a value
                # already, refreshing it (and the contest caps after it) changes nothing. Every
                # competition taking a kind sees all its events, in its window or not (issue 17:
                # two out-of-window opening contests cost more than the one scoring the event).
                cut = len(scorer.kind) + 1
                buckets = [b for b in buckets if ctx.may_score(b[cut:]) or b in self.buckets]
            if buckets:
                touched.update(buckets)
                kinds.add(scorer.kind)
            if touch.note:
                notes[touch.note[0]] = touch.note[1]
            if touch.detail:
                details[touch.detail[0]] = touch.detail[1]
        if not touched:
            return NOTHING, NOTHING, notes, details
        deltas, labels = self._refresh(touched, ctx, kinds)
        return deltas, labels, notes, details

    def record(self, key: Key, day: int, points: Decimal) -> None:
        """The ledger got an entry of `points` for `key` on this day (an ordinal)."""
        if self.dated is None:
            return
        days = self.dated.setdefault(key, {})
        total = days.get(day, ZERO) + points
        if total:
            days[day] = total
        else:
            days.pop(day, None)
            if not days:
                del self.dated[key]

    def _refresh(self, names: Iterable[str], ctx: Context, kinds: set[str]) -> tuple[Deltas, Labels]:
        deltas: Deltas = {}
        labels: Labels = {}
        scorers = self.scorers
        for name in names:
            scorer = scorers.get(name[: name.index("|")])
            self._store(name, scorer.compute(name, ctx) if scorer else BucketValue(), deltas, labels)
        final = ctx.final
        for kind in kinds:  # contest caps only move when that kind's day totals may have
            scorer = scorers[kind]
            if kind in DAILY:
                assert isinstance(scorer, DailyScorer)
                rule = final.rule(kind)
                cap = rule.contest_cap if rule else None
                name = cap_bucket(kind)
                if cap is None and name not in self.buckets:
                    continue  # storing an empty value where there is none changes nothing
                self._store(name, self._contest_cap(scorer, cap), deltas, labels)
        minimum = ctx.minimum
        if minimum is not None or THRESHOLD in self.buckets:
            self._store(THRESHOLD, self._threshold(minimum.points if minimum else None), deltas, labels)
        return deltas, labels

    def _store(self, name: str, new: BucketValue, deltas: Deltas, labels: Labels) -> None:
        values = {k: r for k, v in new.values.items() if (r := q(v))}
        new.values = values
        old = self.buckets.get(name)
        old_values = old.values if old else {}
        if values != old_values:
            kind = name[: name.index("|")] if name[0] != "@" else None
            for key in values.keys() | old_values.keys():
                change = values.get(key, ZERO) - old_values.get(key, ZERO)
                if not change:
                    continue
                if kind is not None:
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
        if values or new.metrics or new.extra is not None:
            self.buckets[name] = new
        else:
            self.buckets.pop(name, None)

    def settle(self) -> None:
        """Bring derived figures up to date before reading or writing the buckets."""
        scorecard = self.scorers.get("scorecard")
        if isinstance(scorecard, ScorecardScorer):
            scorecard.settle(self.buckets.get(SCORECARD_BUCKET))

    def label_of(self, component: str) -> str:
        for bucket in self.buckets.values():
            label = bucket.labels.get(component)
            if label:
                return label
        return component

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
        self.settle()
        return {
            "fingerprint": self.fingerprint,
            "revision": self.revision,
            "final_version": self.final_version,
            "buckets": {name: _bucket_to_list(b) for name, b in sorted(self.buckets.items())},
            "index": {kind: scorer.dump() for kind, scorer in sorted(self.scorers.items())},
            "dated": None if self.dated is None else _dated_to_list(self.dated),
            **({"badges": self.held.dump()} if self.held else {}),
            **({"challenges": self.challenges} if self.challenges else {}),
        }

    @classmethod
    def from_dict(cls, cid: str, obj: dict[str, Any]) -> Book:
        book = cls(cid)
        book.fingerprint = obj["fingerprint"]
        book.revision = int(obj["revision"])
        book.final_version = int(obj["final_version"])
        for name, raw in obj["buckets"].items():
            bucket = _bucket_from_list(raw)
            book.buckets[name] = bucket
            for key, points in bucket.values.items():
                book.totals[key] = book.totals.get(key, ZERO) + points
                if name[0] != "@":
                    kind = name.split("|", 1)[0]
                    book.day_totals[kind] = book.day_totals.get(kind, ZERO) + points
        book.totals = {k: v for k, v in book.totals.items() if v}
        raw_dated = obj.get("dated")  # absent in states written before days were kept
        book.dated = None if raw_dated is None else _dated_from_list(raw_dated)
        book.held = Held(obj.get("badges"))  # absent: none held (or a state from before badges)
        book.challenges = dict(obj.get("challenges") or {})
        scorers: dict[str, Scorer] = {}
        for kind, raw in obj["index"].items():
            scorer = SCORERS[kind]()
            scorer.load(raw)
            scorers[kind] = scorer
        # States written before manual adjustments existed have no index for them: none were made.
        scorers.setdefault(AdjustmentScorer.kind, AdjustmentScorer())
        book._install(scorers)
        return book

    def copy(self) -> Book:
        return Book.from_dict(self.cid, self.to_dict())


def _bucket_to_list(b: BucketValue) -> list[Any]:
    """[values, labels, metrics, reached_at µs, extra]: compact, one list per bucket."""
    return [
        [[c, sb, team, str(v)] for (c, sb, team), v in sorted(b.values.items(), key=_key_order)],
        b.labels,
        b.metrics,
        micros(b.reached_at) if b.reached_at else None,
        _jsonable(b.extra),
    ]


def _dated_to_list(dated: Dated) -> list[Any]:
    """[[component, sub_branch, team, [[day ordinal, points], ...]], ...], in key order."""
    return [
        [c, sb, team, [[day, str(p)] for day, p in sorted(days.items())]]
        for (c, sb, team), days in sorted(dated.items(), key=lambda item: key_order(item[0]))
        if days
    ]


def _dated_from_list(raw: list[Any]) -> Dated:
    return {(c, sb, team): {int(day): Decimal(p) for day, p in days} for c, sb, team, days in raw}


def _jsonable(value: Any) -> Any:
    """Decimals (kept as such while scoring: formatting them per event is costly) to strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _bucket_from_list(raw: list[Any]) -> BucketValue:
    values, labels, metrics, reached_at, extra = raw
    return BucketValue(
        values={(c, sb, team): Decimal(v) for c, sb, team, v in values},
        labels=dict(labels),
        metrics={k: int(v) for k, v in metrics.items()},
        reached_at=moment_of(int(reached_at)) if reached_at is not None else None,
        extra=extra,
    )


def _key_order(item: tuple[Key, Decimal]) -> tuple[str, tuple[int, str], tuple[int, str]]:
    return key_order(item[0])


def key_order(key: Key) -> tuple[str, tuple[int, str], tuple[int, str]]:
    """The order str(key) used to give (a unit of None after every named one), without str()."""
    component, sub_branch, team = key
    return (
        component,
        (0, sub_branch) if sub_branch is not None else (1, ""),
        (0, team) if team is not None else (1, ""),
    )
