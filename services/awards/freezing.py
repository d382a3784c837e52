"""Period close: what a frozen period took from the SQL ledger, aggregated in SQL.

A freeze reads, in one consistent snapshot (PostgreSQL REPEATABLE READ; SQLite holds the write
lock), the competition's ledger grouped by period, manager and unit, and stores:
- own lines: the period's own entries (not flagged `late`);
- adjustment lines: for each earlier period, what its entries add up to now minus everything
  already frozen for it (its own freeze and the adjustments later freezes carried). Entries that
  arrived after an earlier freeze, or flagged late, land here, once, and are shown as
  "调整（上期迟到数据）"; nothing already frozen is ever rewritten;
- members: per manager, distinct events and the latest own entry (eligibility, first_reached);
- the high-water mark: the latest recorded_at of the entries it read.
An open period's figures come from the same computation without storing (`preview`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, and_, case, distinct, false, func, insert, literal, not_, select

from services.awards.periods import Period
from services.awards.table import canonical
from services.store import Store, StoreConflict
from services.store.award_tables import FreezeLine, FreezeMember, PeriodFreeze
from services.store.engine import WRITE
from services.store.errors import translated
from services.store.tables import LedgerEntry
from streams.core.points import ZERO

_ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]
_freezes: Table = PeriodFreeze.__table__  # type: ignore[assignment]
_lines: Table = FreezeLine.__table__  # type: ignore[assignment]
_members: Table = FreezeMember.__table__  # type: ignore[assignment]

# A re-score's correction of a whole day ("rescore:<competition>:<n>:<fingerprint>:<day>") is not
# an event; its entries for single events carry the events' own ids and count like any other.
_RESCORE = "rescore:"
_INSERT_BATCH = 5000

UnitKey = tuple[str, str | None, str | None]  # cm, sub-branch, team


@dataclass
class Line:
    source_period: str
    adjustment: bool
    cm_id: str
    sub_branch_id: str | None
    team_id: str | None
    points: Decimal
    entries: int


@dataclass
class Member:
    cm_id: str
    events: int
    last_at: datetime | None


@dataclass
class Snapshot:
    """A period's figures: frozen (`freeze_id` set) or a preview of an open period."""

    competition_id: str
    period: str
    lines: list[Line] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    high_water: datetime | None = None
    freeze_id: int | None = None
    frozen_at: datetime | None = None

    @property
    def entries(self) -> int:
        return sum(line.entries for line in self.lines)

    @property
    def points(self) -> Decimal:
        return sum((line.points for line in self.lines), ZERO)

    def checksum(self) -> str:
        body = {
            "lines": sorted(
                [
                    [
                        x.source_period,
                        x.adjustment,
                        x.cm_id,
                        x.sub_branch_id,
                        x.team_id,
                        f"{x.points:.2f}",
                        x.entries,
                    ]
                    for x in self.lines
                ],
                key=lambda r: [str(v) for v in r],
            ),
            "members": sorted(
                [[m.cm_id, m.events, m.last_at.isoformat() if m.last_at else None] for m in self.members]
            ),
        }
        return hashlib.sha256(canonical(body)).hexdigest()


@contextmanager
def _snapshot_transaction(store: Store, write: bool) -> Iterator[Connection]:
    # The store's own connections, with a stronger isolation on PostgreSQL: a freeze runs several
    # queries that must all see the same ledger while the sink keeps writing.
    engine = store._engine  # the store's own pool, as audit.py uses it
    with translated(), engine.connect() as conn:
        options: dict[str, Any] = {WRITE: write}
        if store.dialect == "postgresql":
            options["isolation_level"] = "REPEATABLE READ"
        conn.execution_options(**options)
        with conn.begin():
            if store.dialect == "postgresql":
                # A month of a large ledger groups millions of rows: sort and hash in memory.
                conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
            yield conn


def _compute(conn: Connection, competition_id: str, chain: list[Period]) -> Snapshot:
    """The figures of the last period of `chain` (every period up to it, in order)."""
    period = chain[-1]
    snap = Snapshot(competition_id, period.id)
    regular = [p for p in chain if p.regular]
    if not regular:
        return snap
    L = _ledger.c
    whens = [(L.occurred_at < p.owns_until, p.id) for p in regular[:-1] if p.owns_until is not None]
    last = literal(regular[-1].id)
    bucket = case(*whens, else_=last) if whens else last
    conditions = [L.competition_id == competition_id]
    if period.regular and period.owns_until is not None:
        conditions.append(L.occurred_at < period.owns_until)
    inner = select(
        bucket.label("period"),
        L.late,
        L.cm_id,
        L.sub_branch_id,
        L.team_id,
        L.points,
        L.recorded_at,
    ).where(and_(*conditions))
    sub = inner.subquery()
    grouped = select(
        sub.c.period,
        sub.c.late,
        sub.c.cm_id,
        sub.c.sub_branch_id,
        sub.c.team_id,
        func.sum(sub.c.points),
        func.count(),
        func.max(sub.c.recorded_at),
    ).group_by(sub.c.period, sub.c.late, sub.c.cm_id, sub.c.sub_branch_id, sub.c.team_id)

    now_sums: dict[str, dict[UnitKey, list[Any]]] = {}
    own: dict[UnitKey, list[Any]] = {}
    for pid, late, cm_id, sb, team, points, count, recorded in conn.execute(grouped):
        key = (cm_id, sb, team)
        if recorded is not None and (snap.high_water is None or recorded > snap.high_water):
            snap.high_water = recorded
        if pid == period.id:
            if not late:
                acc = own.setdefault(key, [ZERO, 0])
                acc[0] += points
                acc[1] += count
            continue
        acc = now_sums.setdefault(pid, {}).setdefault(key, [ZERO, 0])
        acc[0] += points
        acc[1] += count
    for (cm_id, sb, team), (points, count) in own.items():
        snap.lines.append(Line(period.id, False, cm_id, sb, team, points, count))

    # What earlier freezes already took for each earlier period.
    F = _lines.c
    taken: dict[str, dict[UnitKey, list[Any]]] = {}
    accounted = (
        select(F.source_period, F.cm_id, F.sub_branch_id, F.team_id, func.sum(F.points), func.sum(F.entries))
        .where(F.competition_id == competition_id)
        .group_by(F.source_period, F.cm_id, F.sub_branch_id, F.team_id)
    )
    for pid, cm_id, sb, team, points, count in conn.execute(accounted):
        taken.setdefault(pid, {})[(cm_id, sb, team)] = [points, int(count)]
    for p in regular:
        if p.id == period.id:
            continue
        current, frozen = now_sums.get(p.id, {}), taken.get(p.id, {})
        for key in current.keys() | frozen.keys():
            now_points, now_count = current.get(key, [ZERO, 0])
            was_points, was_count = frozen.get(key, [ZERO, 0])
            if now_points != was_points or now_count != was_count:
                snap.lines.append(Line(p.id, True, *key, now_points - was_points, now_count - was_count))
    snap.lines.sort(
        key=lambda x: (x.adjustment, x.source_period, x.cm_id, x.sub_branch_id or "", x.team_id or "")
    )

    if period.regular:
        events = func.count(distinct(case((not_(L.event_id.startswith(_RESCORE)), L.event_id))))
        own_range = [L.competition_id == competition_id, L.late == false()]
        if period.owns_from is not None:
            own_range.append(L.occurred_at >= period.owns_from)
        if period.owns_until is not None:
            own_range.append(L.occurred_at < period.owns_until)
        members = select(L.cm_id, events, func.max(L.occurred_at)).where(and_(*own_range)).group_by(L.cm_id)
        snap.members = sorted(
            (Member(cm_id, int(n), last) for cm_id, n, last in conn.execute(members)), key=lambda m: m.cm_id
        )
    return snap


def preview(store: Store, competition_id: str, chain: list[Period]) -> Snapshot:
    """An open period's figures as they stand now (nothing stored)."""
    with _snapshot_transaction(store, write=False) as conn:
        return _compute(conn, competition_id, chain)


def load(store: Store, competition_id: str, period: str) -> Snapshot | None:
    """A frozen period's stored figures, or None if it is not frozen."""
    with store._reading() as conn:
        return _load(conn, competition_id, period)


def _load(conn: Connection, competition_id: str, period: str) -> Snapshot | None:
    row = conn.execute(
        select(_freezes).where(_freezes.c.competition_id == competition_id, _freezes.c.period == period)
    ).first()
    if row is None:
        return None
    snap = Snapshot(
        competition_id, period, high_water=row.high_water, freeze_id=row.id, frozen_at=row.frozen_at
    )
    F = _lines.c
    for x in conn.execute(select(_lines).where(F.freeze_id == row.id).order_by(F.id)):
        snap.lines.append(
            Line(x.source_period, x.adjustment, x.cm_id, x.sub_branch_id, x.team_id, x.points, x.entries)
        )
    M = _members.c
    for m in conn.execute(select(_members).where(M.freeze_id == row.id).order_by(M.cm_id)):
        snap.members.append(Member(m.cm_id, m.events, m.last_at))
    return snap


def freeze_record(store: Store, competition_id: str, period: str) -> dict[str, Any] | None:
    with store._reading() as conn:
        row = conn.execute(
            select(_freezes).where(_freezes.c.competition_id == competition_id, _freezes.c.period == period)
        ).first()
    return None if row is None else dict(row._mapping)


def freeze(
    store: Store, competition_id: str, chain: list[Period], *, now: datetime | None = None
) -> Snapshot:
    """Freeze the last period of `chain` (earlier ones must be frozen already). Freezing a frozen
    period returns what is stored: a freeze happens once."""
    period = chain[-1]
    try:
        with _snapshot_transaction(store, write=True) as conn:
            existing = _load(conn, competition_id, period.id)
            if existing is not None:
                return existing
            snap = _compute(conn, competition_id, chain)
            snap.frozen_at = now or datetime.now(UTC)
            freeze_id = conn.execute(
                insert(_freezes)
                .values(
                    competition_id=competition_id,
                    period=period.id,
                    seq=len(chain) - 1,
                    period_start=period.start.isoformat(),
                    period_end=period.end.isoformat(),
                    cutoff=period.cutoff,
                    frozen_at=snap.frozen_at,
                    high_water=snap.high_water,
                    entries=snap.entries,
                    points=snap.points,
                    checksum=snap.checksum(),
                )
                .returning(_freezes.c.id)
            ).scalar_one()
            snap.freeze_id = int(freeze_id)
            lines = [
                {
                    "freeze_id": freeze_id,
                    "competition_id": competition_id,
                    "source_period": x.source_period,
                    "adjustment": x.adjustment,
                    "cm_id": x.cm_id,
                    "sub_branch_id": x.sub_branch_id,
                    "team_id": x.team_id,
                    "points": x.points,
                    "entries": x.entries,
                }
                for x in snap.lines
            ]
            for i in range(0, len(lines), _INSERT_BATCH):
                conn.execute(insert(_lines), lines[i : i + _INSERT_BATCH])
            members = [
                {"freeze_id": freeze_id, "cm_id": m.cm_id, "events": m.events, "last_at": m.last_at}
                for m in snap.members
            ]
            for i in range(0, len(members), _INSERT_BATCH):
                conn.execute(insert(_members), members[i : i + _INSERT_BATCH])
            return snap
    except StoreConflict:
        # Another caller froze it first: theirs is the freeze.
        stored = load(store, competition_id, period.id)
        if stored is None:
            raise
        return stored
