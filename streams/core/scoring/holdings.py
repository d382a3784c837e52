"""An account that moves between managers (customer.transferred): which part of it is whose.

Each manager scores the account through their own view of its balance, chosen so that the views
of all the managers who held it add up to the account's balance on every day:
- on days the manager holds it, the real balance plus an offset (0 in their first spell);
- from the day it leaves (balance T at the transfer), the view stays at T + offset: the growth up
  to the transfer is kept, nothing after it counts;
- from the day it arrives (balance T), the view starts at T: the baseline moves with the account,
  never 0. A manager who held it before continues from the level they left it at (offset
  level − T), so the growth in between, someone else's, is not theirs.
Deposit figures are linear in the balance (时点: b(end) − b(baseline); 日均: the mean of b(d) −
b(baseline); the scorecard: b(end) − b(start − 1)), so the managers' figures add up to the
account's own growth, as one manager who held it throughout would have it.

A departure is a snapshot of the view (as_of the effective day, losing any tie to a real one);
it joins the account's balance history only when a balance of that day or later arrives, or when
the account is read: snapshots then always enter in day order, which the folding in balances.py
needs. A move that arrives out of order (effective on or before a day this manager already has a
balance or a move of that account for) raises NeedsRebuild; a rebuild indexes the moves before
the balances (engine._replay_order).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from schemas.events import CustomerTransferred
from streams.core.compact import micros
from streams.core.errors import NeedsRebuild
from streams.core.org import OrgTimeline
from streams.core.scoring.balances import Account, Snap, Spec


class Move(NamedTuple):
    day: int  # effective_from ordinal: the first day under the new manager
    us: int  # occurred_at, epoch microseconds (orders two moves of one day)
    event_id: str
    incoming: bool
    cents: int  # the balance at the transfer
    category: str


class Spells(NamedTuple):
    """A manager's moves of one account, read: what the view is on every day."""

    initial: (
        tuple[int, str] | None
    )  # the view before any balance (arrived first), or None (held from the start)
    held: list[tuple[int | None, int | None, int]]  # (first day or None, day after or None, offset)
    departures: list[Snap]


def moves_of(event: CustomerTransferred, cm_id: str) -> list[tuple[str, Move]]:
    """The moves a transfer makes for this manager (incoming for the new one, outgoing for the old)."""
    d = event.data
    if cm_id not in (d.cm_id, d.from_cm_id):
        return []
    incoming = d.cm_id == cm_id
    day, us = d.effective_from.toordinal(), micros(event.occurred_at)
    return [
        (a.account_id, Move(day, us, event.event_id, incoming, int(a.balance * 100), a.category))
        for a in d.accounts
    ]


def spells_of(moves: list[Move]) -> Spells:
    held_now = not moves or not moves[0].incoming
    start: int | None = None
    offset = 0
    level: int | None = None
    initial: tuple[int, str] | None = None
    held: list[tuple[int | None, int | None, int]] = []
    departures: list[Snap] = []
    for m in moves:
        if m.incoming:
            if held_now:
                continue  # arrives while held (a repeated or inconsistent report): nothing moves
            if level is None:
                level, initial = m.cents, (m.cents, m.category)
            offset, start, held_now = level - m.cents, m.day, True
        elif held_now:
            level = m.cents + offset
            held.append((start, m.day, offset))
            departures.append(Snap(m.day, level, m.category, 0, m.event_id))
            held_now = False
    if held_now:
        held.append((start, None, offset))
    return Spells(initial, held, departures)


class Holdings:
    """The moves of a scorer's accounts, and how far each account's departures have been placed."""

    def __init__(self) -> None:
        self.moves: dict[str, list[Move]] = {}
        self.placed: dict[str, int] = {}  # account -> departures already in its balance history
        self.reach: dict[str, int] = {}  # account -> the latest as_of seen, held or not
        self._spells: dict[str, Spells] = {}

    def spells(self, account_id: str) -> Spells:
        spells = self._spells.get(account_id)
        if spells is None:
            spells = self._spells[account_id] = spells_of(self.moves[account_id])
        return spells

    # -- checks (raise before anything changes) ------------------------------------------------

    def check_move(self, account_id: str, move: Move, account: Account | None) -> None:
        known = self.moves.get(account_id, [])
        if move in known:
            return
        latest = max(
            [m.day for m in known]
            + [self.reach.get(account_id, move.day - 1)]
            + ([account.newest] if account is not None and account.newest is not None else [])
        )
        if move.day <= latest:
            raise NeedsRebuild(f"transfer of {account_id} effective {move.day} arrives after later days")
        if not known and move.incoming and account is not None and account.newest is not None:
            raise NeedsRebuild(f"{account_id} arrives by transfer after balances taken as held throughout")

    # -- indexing -------------------------------------------------------------------------------

    def take_move(self, accounts: dict[str, Account], account_id: str, move: Move) -> bool:
        """Record a move; a manager it arrives at first starts the account at its balance."""
        known = self.moves.setdefault(account_id, [])
        if move in known:
            return False
        known.append(move)
        known.sort()
        self._spells.pop(account_id, None)
        spells = self.spells(account_id)
        account = accounts.get(account_id)
        if account is None:
            account = accounts[account_id] = Account()
        if spells.initial is not None and account.newest is None and account.horizon is None:
            account.carry, account.carry_cat = spells.initial
        return True

    def take_balance(
        self, accounts: dict[str, Account], account_id: str, snap: Snap, spec: Spec, org: OrgTimeline
    ) -> bool:
        """A real balance: True if the manager's view changed."""
        account = accounts.get(account_id)
        if account is None:
            account = accounts[account_id] = Account()
        if account_id not in self.moves:
            return account.add(snap, spec, org)
        self.reach[account_id] = max(self.reach.get(account_id, snap.day), snap.day)
        changed = self._place(account, account_id, spec, org, upto=snap.day)
        for first, after, offset in self.spells(account_id).held:
            if (first is None or first <= snap.day) and (after is None or snap.day < after):
                return account.add(snap._replace(cents=snap.cents + offset), spec, org) or changed
        return changed

    def settle(self, accounts: dict[str, Account], account_id: str, spec: Spec, org: OrgTimeline) -> None:
        """Place every departure before the account is read."""
        account = accounts.get(account_id)
        if account is not None and account_id in self.moves:
            self._place(account, account_id, spec, org, upto=None)

    def unplaced(self) -> list[str]:
        """Accounts with a departure not yet in their balance history."""
        return [a for a in self.moves if self.placed.get(a, 0) < len(self.spells(a).departures)]

    def _place(
        self, account: Account, account_id: str, spec: Spec, org: OrgTimeline, upto: int | None
    ) -> bool:
        departures = self.spells(account_id).departures
        done = self.placed.get(account_id, 0)
        changed = False
        while done < len(departures) and (upto is None or departures[done].day <= upto):
            changed |= account.add(departures[done], spec, org)
            done += 1
        self.placed[account_id] = done
        return changed

    # -- JSON -----------------------------------------------------------------------------------

    def dump(self) -> Any:
        return [
            [a, [list(m) for m in ms], self.placed.get(a, 0), self.reach.get(a)]
            for a, ms in self.moves.items()
        ]

    def load(self, raw: Any) -> None:
        for a, moves, placed, reach in raw or ():
            self.moves[a] = [
                Move(int(d), int(us), str(e), bool(i), int(c), str(k)) for d, us, e, i, c, k in moves
            ]
            self.placed[a] = int(placed)
            if reach is not None:
                self.reach[a] = int(reach)
