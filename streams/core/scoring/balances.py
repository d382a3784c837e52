"""One account's balance history, bounded: the last HOLD_DAYS as_of days exactly, the rest folded.

A nightly balance per account for a year is 365 snapshots, and a manager has hundreds of accounts,
so snapshots are not kept: the recent ones stay in a small buffer (a correction of one of them is
still exact), older ones are folded into what the rules need of them:
- the balance carried forward (and its category and (occurred_at, event_id), so a repeat of the
  last folded day that loses the tie-break is recognised as changing nothing);
- the balance and category on the watched days (baselines, window ends), once passed;
- 日均: Σ balance×days and the number of days, per org unit, over the folded window days;
- 时点: Σ steps (each snapshot minus the one before) per org unit, over the folded steps.
A snapshot for a day at or before the fold horizon cannot be placed exactly: `check` raises
NeedsRebuild and the caller rebuilds from the history. Amounts are integer cents, days ordinals:
exact and cheap. In-order nightly balances cost O(1) each whatever the history's length.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, NamedTuple

from streams.core.errors import NeedsRebuild
from streams.core.org import OrgTimeline, Unit

HOLD_DAYS = 7  # snapshots this many as_of days older than the newest are folded
POINT_IN_TIME = "point_in_time"
DAILY_AVERAGE = "daily_average"


class Spec(NamedTuple):
    """What a rule needs of every account (days as ordinals)."""

    measure: str  # POINT_IN_TIME, DAILY_AVERAGE, or "" (only the watched days: the scorecard)
    baseline: int
    start: int
    end: int
    watch: tuple[int, ...]  # days whose balance is asked for after they are folded
    last: int  # a snapshot after this day cannot change anything

    def to_list(self) -> list[Any]:
        return [self.measure, self.baseline, self.start, self.end, list(self.watch), self.last]

    @classmethod
    def from_list(cls, raw: list[Any]) -> Spec:
        measure, baseline, start, end, watch, last = raw
        return cls(str(measure), int(baseline), int(start), int(end), tuple(int(w) for w in watch), int(last))


class Snap(NamedTuple):
    day: int  # as_of ordinal
    cents: int
    category: str | None
    us: int  # occurred_at, epoch microseconds
    event_id: str


class Account:
    __slots__ = ("buf", "carry", "carry_cat", "carry_tie", "folded", "horizon", "marks", "newest")

    def __init__(self) -> None:
        self.buf: list[Snap] = []  # as_of after the horizon, one per day, in day order
        self.horizon: int | None = None  # every snapshot on or before it is folded
        self.newest: int | None = None  # the latest as_of seen, relevant or not
        self.carry = 0  # balance on the horizon day
        self.carry_cat: str | None = None
        self.carry_tie: tuple[int, str] | None = None
        self.marks: dict[int, tuple[int, str | None]] = {}  # watched day (before the horizon) -> balance
        self.folded: dict[Unit, list[int]] = {}  # unit -> [Σ balance×days, days, Σ steps]

    # -- taking snapshots -----------------------------------------------------------------------

    def check(self, snap: Snap, spec: Spec) -> None:
        h = self.horizon
        if snap.day > spec.last or h is None or snap.day > h:
            return
        if snap.day == h and self.carry_tie is not None and (snap.us, snap.event_id) <= self.carry_tie:
            return  # the folded snapshot of that day wins the tie-break: nothing changes
        raise NeedsRebuild(f"balance as of day {snap.day} is at or before the folded horizon {h}")

    def affected_by_org(self, effective: int, spec: Spec) -> bool:
        """Would an org change from this day restamp folded days (which we cannot split again)?"""
        h = self.horizon
        if h is None or effective > min(h, spec.end):
            return False
        if spec.measure == DAILY_AVERAGE:
            return h >= spec.start
        if spec.measure == POINT_IN_TIME:
            return h > spec.baseline
        return False

    def add(self, snap: Snap, spec: Spec, org: OrgTimeline) -> bool:
        """Take a snapshot (check first); True if anything the rules read changed."""
        changed = False
        h = self.horizon
        if snap.day <= spec.last and (h is None or snap.day > h):
            buf = self.buf
            i = len(buf)
            if i and buf[-1].day >= snap.day:  # not the usual in-order append
                i = bisect_left(buf, snap.day, key=_day)
            if i < len(buf) and buf[i].day == snap.day:
                if (buf[i].us, buf[i].event_id) < (snap.us, snap.event_id):
                    buf[i] = snap
                    changed = True
            else:
                buf.insert(i, snap)
                changed = True
        if self.newest is None or snap.day > self.newest:
            self.newest = snap.day
        limit = self.newest - HOLD_DAYS
        while self.buf and self.buf[0].day <= limit:
            self._fold(spec, org)
        return changed

    def _fold(self, spec: Spec, org: OrgTimeline) -> None:
        snap = self.buf.pop(0)
        h_old, carry_old = self.horizon, self.carry
        for w in spec.watch:
            if (h_old is None or w >= h_old) and w < snap.day:
                self.marks[w] = (carry_old, self.carry_cat)
        if spec.measure == DAILY_AVERAGE:
            first = spec.start if h_old is None else max(spec.start, h_old + 1)
            last = min(spec.end, snap.day - 1)
            if first <= last:
                self._accrue(first, last, carry_old, org)
            if spec.start <= snap.day <= spec.end:
                self._accrue(snap.day, snap.day, snap.cents, org)
        elif spec.measure == POINT_IN_TIME and spec.baseline < snap.day <= spec.end:
            self._slot(org.unit_at(snap.day))[2] += snap.cents - carry_old
        self.horizon, self.carry, self.carry_cat = snap.day, snap.cents, snap.category
        self.carry_tie = (snap.us, snap.event_id)

    def _slot(self, unit: Unit) -> list[int]:
        slot = self.folded.get(unit)
        if slot is None:
            slot = self.folded[unit] = [0, 0, 0]
        return slot

    def _accrue(self, first: int, last: int, cents: int, org: OrgTimeline) -> None:
        for a, b, unit in org.spans(first, last):
            slot = self._slot(unit)
            slot[0] += cents * (b - a + 1)
            slot[1] += b - a + 1

    # -- reading --------------------------------------------------------------------------------

    def balance_on(self, day: int) -> tuple[int, str | None]:
        """(cents, category) of the last snapshot on or before the day ((0, None) before any)."""
        h = self.horizon
        if h is not None and day <= h:
            return (self.carry, self.carry_cat) if day == h else self.marks[day]
        for snap in reversed(self.buf):
            if snap.day <= day:
                return snap.cents, snap.category
        return self.carry, self.carry_cat

    def steps(self, spec: Spec, org: OrgTimeline) -> dict[Unit, int]:
        """时点 growth in cents per unit: the steps after the baseline up to the window end."""
        per = {unit: slot[2] for unit, slot in self.folded.items() if slot[2]}
        previous = self.carry
        for snap in self.buf:
            if snap.day > spec.end:
                break
            if snap.day > spec.baseline:
                unit = org.unit_at(snap.day)
                per[unit] = per.get(unit, 0) + snap.cents - previous
            previous = snap.cents
        return per

    def day_sums(self, spec: Spec, org: OrgTimeline) -> dict[Unit, int]:
        """日均 numerator per unit: Σ over window days of (balance − baseline), cents × days."""
        base = self.balance_on(spec.baseline)[0]
        per = {unit: slot[0] - base * slot[1] for unit, slot in self.folded.items() if slot[1]}
        h = self.horizon
        first = spec.start if h is None else max(spec.start, h + 1)
        if first > spec.end:
            return per
        balance = self.balance_on(first)[0]
        for snap in self.buf:
            if snap.day <= first:
                continue
            if snap.day > spec.end:
                break
            _spread(per, first, snap.day - 1, balance - base, org)
            balance, first = snap.cents, snap.day
        _spread(per, first, spec.end, balance - base, org)
        return per

    # -- JSON -----------------------------------------------------------------------------------

    def to_list(self) -> list[Any]:
        tie = self.carry_tie
        return [
            self.horizon,
            self.newest,
            self.carry,
            self.carry_cat,
            tie[0] if tie else None,
            tie[1] if tie else None,
            [[w, c, cat] for w, (c, cat) in sorted(self.marks.items())],
            [[u.sub_branch_id, u.team_id, *slot] for u, slot in self.folded.items()],
            [list(s) for s in self.buf],
        ]

    @classmethod
    def from_list(cls, raw: list[Any]) -> Account:
        account = cls()
        horizon, newest, carry, cat, tie_us, tie_id, marks, folded, buf = raw
        account.horizon, account.newest, account.carry, account.carry_cat = horizon, newest, carry, cat
        account.carry_tie = (int(tie_us), str(tie_id)) if tie_id is not None else None
        account.marks = {int(w): (int(c), k) for w, c, k in marks}
        account.folded = {Unit(sb, team): [int(a), int(b), int(c)] for sb, team, a, b, c in folded}
        account.buf = [Snap(int(d), int(c), k, int(us), str(eid)) for d, c, k, us, eid in buf]
        return account


def _spread(per: dict[Unit, int], first: int, last: int, cents: int, org: OrgTimeline) -> None:
    if not cents:
        return
    for a, b, unit in org.spans(first, last):
        per[unit] = per.get(unit, 0) + cents * (b - a + 1)


def _day(snap: Snap) -> int:
    return snap.day
