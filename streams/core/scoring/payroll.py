"""代发工资: one item per agreement, scored on the day of its first paid batch.

An agreement counts once it is signed (payroll.signed, in the window) and a first batch is paid
(payroll.paid, in the window). Per-head points use the agreement's LARGEST batch headcount in the
window, not the sum over months: the same employees paid every month are one payroll, not twelve.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

from schemas.envelope import Envelope
from schemas.events import PayrollPaid, PayrollSigned
from streams.core.calendar import day_of
from streams.core.compact import micros, moment_of
from streams.core.points import fmt
from streams.core.rules import Competition
from streams.core.scoring.base import NO_TOUCH, Context, Touch
from streams.core.scoring.daily import DailyScorer, Scored
from streams.core.vocabulary import PayrollRule


class Batch(NamedTuple):
    occurred_at: datetime
    event_id: str
    headcount: int


def _first(batches: dict[str, Batch]) -> Batch:
    return min(batches.values())


class PayrollScorer(DailyScorer):
    kind = "payroll"
    types = frozenset({"payroll.signed", "payroll.paid"})

    def __init__(self, final: Competition | None = None) -> None:
        super().__init__(final)
        self.signed: dict[str, tuple[datetime, str]] = {}  # agreement -> earliest signing
        self.batches: dict[str, dict[str, Batch]] = {}  # agreement -> batch id -> earliest event

    def observe(self, event: Envelope, ctx: Context, explain: bool = True) -> Touch:
        if isinstance(event, PayrollSigned):
            agreement = event.data.agreement_id
            first = self.signed.get(agreement)
            if first is None or (event.occurred_at, event.event_id) < first:
                self.signed[agreement] = (event.occurred_at, event.event_id)
        elif isinstance(event, PayrollPaid):
            agreement = event.data.agreement_id
            batches = self.batches.setdefault(agreement, {})
            known = batches.get(event.data.batch_id)
            if known is None or (event.occurred_at, event.event_id) < known[:2]:
                batches[event.data.batch_id] = Batch(event.occurred_at, event.event_id, event.data.headcount)
        else:
            return NO_TOUCH
        self.forget(agreement)
        day = self.day_of_item(agreement)
        if day is None:
            return NO_TOUCH
        touched = self.place(agreement, day)
        return Touch(frozenset(touched), self.describe(agreement, ctx, explain))

    def day_of_item(self, key: str) -> date | None:
        if key not in self.signed or not self.batches.get(key):
            return None
        return day_of(_first(self.batches[key]).occurred_at)

    def item_keys(self) -> list[str]:
        return list(self.signed)

    def item_time(self, key: str) -> tuple[datetime, str | None]:
        return _first(self.batches[key]).occurred_at, None

    def score(self, key: str, version: Competition, rule: PayrollRule) -> Scored | None:
        if day_of(self.signed[key][0]) not in version.window:
            return None
        heads = self._heads(key, version)
        points = rule.points_per_agreement + rule.points_per_head * heads
        if not points:
            return None
        return Scored(points, False, ("payroll_agreements",))

    def _heads(self, key: str, version: Competition) -> int:
        return max(
            (b.headcount for b in self.batches[key].values() if day_of(b.occurred_at) in version.window),
            default=0,
        )

    def explain(self, key: str, version: Competition, rule: PayrollRule, scored: Scored) -> str:
        heads = self._heads(key, version)
        return (
            f"代发工资协议 {key} 首笔入账 {fmt(scored.points)}"
            f"（签约 {fmt(rule.points_per_agreement)}，{heads} 人 × {fmt(rule.points_per_head)}）"
        )

    def dump(self) -> Any:
        return {
            "signed": [[a, micros(at), eid] for a, (at, eid) in self.signed.items()],
            "paid": [
                [a, b, micros(x.occurred_at), x.event_id, x.headcount]
                for a, batches in self.batches.items()
                for b, x in batches.items()
            ],
        }

    def load(self, raw: Any) -> None:
        for a, at, eid in raw["signed"]:
            self.signed[a] = (moment_of(at), eid)
        for a, b, at, eid, heads in raw["paid"]:
            self.batches.setdefault(a, {})[b] = Batch(moment_of(at), eid, int(heads))
        self.reanchor()
