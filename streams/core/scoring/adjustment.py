"""Manual adjustments (points.adjusted): an organiser's signed change of one manager's points in
one competition, booked as the component "adjustment".

Every book has this scorer whatever its rules, and takes only the adjustments naming its own
competition. Each adjustment is one item and one bucket (keyed by its event id), so a repeat of
the same event changes nothing and a rebuild from the history finds the same buckets. The points
land in the unit the manager belonged to on the adjustment's day, clamped to the competition's
window: a correction made after the month still credits the unit the month was earned in.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from schemas.envelope import Envelope
from schemas.events import PointsAdjusted
from streams.core.calendar import day_of
from streams.core.compact import micros, moment_of
from streams.core.rules import Competition
from streams.core.scoring.base import NO_TOUCH, BucketValue, Context, Scorer, Touch

COMPONENT = "adjustment"
LABEL = "人工调整"


class Adjustment(NamedTuple):
    occurred_at: datetime
    points: Decimal
    reason_code: str
    note: str


def reason_of(reason_code: str, note: str) -> str:
    """The ledger entry's reason: the code first, so a reader can tell the kind without parsing
    the note (services read it back with `code_of`)."""
    return f"{LABEL}[{reason_code}] {note}"


def code_of(reason: str) -> str | None:
    """The reason code of a reason written by `reason_of`, else None."""
    if not reason.startswith(f"{LABEL}["):
        return None
    end = reason.find("]", len(LABEL) + 1)
    return reason[len(LABEL) + 1 : end] if end > 0 else None


class AdjustmentScorer(Scorer):
    kind = COMPONENT
    types = frozenset({"points.adjusted"})

    def __init__(self, final: Competition | None = None) -> None:
        self.items: dict[str, Adjustment] = {}  # event id -> adjustment

    def observe(self, event: Envelope, ctx: Context, explain: bool = True) -> Touch:
        if not isinstance(event, PointsAdjusted) or event.data.competition_id != ctx.cid:
            return NO_TOUCH
        if event.event_id in self.items:
            return NO_TOUCH
        d = event.data
        self.items[event.event_id] = Adjustment(event.occurred_at, d.points, d.reason_code.value, d.note)
        if not explain:
            return Touch(frozenset({self._bucket(event.event_id)}))
        return Touch(
            frozenset({self._bucket(event.event_id)}),
            (COMPONENT, reason_of(d.reason_code.value, d.note)),
            (COMPONENT, {"reason_code": d.reason_code.value}),
        )

    def _bucket(self, event_id: str) -> str:
        return f"{COMPONENT}|{event_id}"

    def buckets(self) -> set[str]:
        return {self._bucket(event_id) for event_id in self.items}

    def compute(self, bucket: str, ctx: Context) -> BucketValue:
        out = BucketValue()
        item = self.items.get(bucket.split("|", 1)[1])
        if item is None:
            return out
        out.add(COMPONENT, ctx.unit(self._day(item, ctx)), item.points, LABEL)
        return out

    @staticmethod
    def _day(item: Adjustment, ctx: Context) -> date:
        window = ctx.final.window
        return min(max(day_of(item.occurred_at), window.start), window.end)

    def dump(self) -> Any:
        return [
            [k, micros(a.occurred_at), str(a.points), a.reason_code, a.note] for k, a in self.items.items()
        ]

    def load(self, raw: Any) -> None:
        self.items = {k: Adjustment(moment_of(at), Decimal(p), code, note) for k, at, p, code, note in raw}
