"""What an organiser must see before approving an award run: a period with no entry of its own
(its data may never have been loaded: a backfill not done yet), and late entries waiting (entries
of this period or an earlier one that no freeze has taken yet: they will be the next open period's
adjustment, not this period's points). Approval asks for an explicit acknowledgement of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.awards import freezing
from services.awards.periods import Period, PeriodError, period_of, periods_until, regular_periods
from services.store import Store
from streams.core.points import ZERO
from streams.core.rules import Competition


@dataclass(frozen=True)
class Waiting:
    """Entries of `period` or earlier that no freeze has taken: the next open period carries them."""

    entries: int
    points: Decimal
    carried_into: str | None  # the first period not frozen yet (None: none left to carry them)


def _following(comp: Competition, period: Period) -> Period | None:
    regular = regular_periods(comp)
    ids = [p.id for p in regular]
    if period.id in ids and ids.index(period.id) + 1 < len(ids):
        return regular[ids.index(period.id) + 1]
    year, month = period.end.year, period.end.month
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    try:
        return period_of(comp, f"{year:04d}-{month:02d}")
    except PeriodError:
        return None


def waiting(store: Store, comp: Competition, period: Period) -> Waiting:
    """What the first open period after `period` would carry from `period` and before it."""
    upto = {p.id for p in periods_until(comp, period)}
    nxt = _following(comp, period)
    for _ in range(240):  # twenty years of adjustment months is past any contest
        if nxt is None or freezing.freeze_record(store, comp.id, nxt.id) is None:
            break
        nxt = _following(comp, nxt)
    if nxt is None:
        return Waiting(0, ZERO, None)
    snap = freezing.preview(store, comp.id, periods_until(comp, nxt))
    carried = [x for x in snap.lines if x.adjustment and x.source_period in upto]
    return Waiting(sum(x.entries for x in carried), sum((x.points for x in carried), ZERO), nxt.id)


def run_warnings(store: Store, comp: Competition, period: Period) -> list[str]:
    """The warnings an approval of this period's run must acknowledge ([]: none)."""
    out: list[str] = []
    snap = freezing.load(store, comp.id, period.id)
    own = sum(x.entries for x in snap.lines if not x.adjustment) if snap is not None else 0
    if period.regular and own == 0:
        out.append(
            f"{period.id} 没有计入本期的积分条目（0 笔）：若该月的数据尚未加载，请先补录再冻结"
            "（docs/operations.md「补录过去月份」）；冻结后才到达的数据只能作为下期调整。"
        )
    late = waiting(store, comp, period)
    if late.entries:
        where = f"计入 {late.carried_into} 的调整" if late.carried_into else "没有可计入的未冻结期间"
        out.append(
            f"{late.entries} 笔迟到条目（合计 {late.points:.2f} 分）属于 {period.id} 或更早的期间，"
            f"尚未计入任何冻结：不在本期奖项中，将{where}。"
        )
    return out
