"""代发工资: one item per agreement, scored on the day of its first paid batch.

An agreement counts once it is signed (payroll.signed, in the window) and a first batch is paid
(payroll.paid, in the window). Per-head points use the agreement's LARGEST batch headcount in the
window, not the sum over months: the same employees paid every month are one payroll, not twelve.
"""

from __future__ import annotations

from datetime import datetime

from schemas.envelope import Envelope
from schemas.events import PayrollPaid, PayrollSigned
from streams.core.calendar import day_of
from streams.core.points import fmt
from streams.core.rules import Competition
from streams.core.scoring.base import NO_TOUCH, Context, Touch
from streams.core.scoring.daily import DailyScorer, Scored
from streams.core.vocabulary import PayrollRule


def _first(events: list[PayrollPaid]) -> PayrollPaid:
    return min(events, key=lambda e: (e.occurred_at, e.event_id))


class PayrollScorer(DailyScorer):
    kind = "payroll"

    def __init__(self) -> None:
        super().__init__()
        self.signed: dict[str, PayrollSigned] = {}
        self.batches: dict[str, dict[str, PayrollPaid]] = {}  # agreement -> batch id -> earliest event

    def observe(self, event: Envelope, ctx: Context | None) -> Touch:
        if isinstance(event, PayrollSigned):
            agreement = event.data.agreement_id
            first = self.signed.get(agreement)
            if first is None or (event.occurred_at, event.event_id) < (first.occurred_at, first.event_id):
                self.signed[agreement] = event
        elif isinstance(event, PayrollPaid):
            agreement = event.data.agreement_id
            batches = self.batches.setdefault(agreement, {})
            known = batches.get(event.data.batch_id)
            if known is None or (event.occurred_at, event.event_id) < (known.occurred_at, known.event_id):
                batches[event.data.batch_id] = event
        else:
            return NO_TOUCH
        self.forget(agreement)
        if agreement not in self.signed or agreement not in self.batches:
            return NO_TOUCH
        touched = self.place(agreement, day_of(_first(list(self.batches[agreement].values())).occurred_at))
        return Touch(frozenset(touched), self.describe(agreement, ctx))

    def item_time(self, key: str) -> tuple[datetime, str | None]:
        return _first(list(self.batches[key].values())).occurred_at, None

    def score(self, key: str, version: Competition, rule: PayrollRule) -> Scored | None:
        signed = self.signed[key]
        if day_of(signed.occurred_at) not in version.window:
            return None
        heads = self._heads(key, version)
        points = rule.points_per_agreement + rule.points_per_head * heads
        if not points:
            return None
        return Scored(points, False, ("payroll_agreements",))

    def _heads(self, key: str, version: Competition) -> int:
        return max(
            (b.data.headcount for b in self.batches[key].values() if day_of(b.occurred_at) in version.window),
            default=0,
        )

    def explain(self, key: str, version: Competition, rule: PayrollRule, scored: Scored) -> str:
        heads = self._heads(key, version)
        return (
            f"代发工资协议 {key} 首笔入账 {fmt(scored.points)}"
            f"（签约 {fmt(rule.points_per_agreement)}，{heads} 人 × {fmt(rule.points_per_head)}）"
        )
