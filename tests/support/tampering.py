"""A ledger spoilt the three ways verify must catch: one row's points changed, one row deleted,
one row forged (an entry no event caused)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Table, delete, insert, update

from services.store.tables import LedgerEntry as LedgerTable
from streams.core.ledger import LedgerEntry, make_entry


@dataclass(frozen=True)
class Tampering:
    changed: dict[str, Any]  # as it was: its points are one more in SQL now
    deleted: dict[str, Any]
    template: dict[str, Any]  # the row the forged entry copies its manager and component from
    forged: LedgerEntry

    def differences(self) -> set[tuple[str, str]]:
        """(kind, entry id) of each difference verify must report, and no other."""
        return {
            ("different", self.changed["entry_id"]),
            ("missing_in_sql", self.deleted["entry_id"]),
            ("extra_in_sql", self.forged.entry_id),
        }


def tamper(engine: Engine, competition_id: str, rows: Iterable[dict[str, Any]]) -> Tampering:
    """Spoil three of `rows` (SQL ledger rows of the competition), each of another manager and
    component, in one transaction."""
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        by_key.setdefault((r["cm_id"], r["component"], r["sub_branch_id"], r["team_id"]), r)
    changed, deleted, template = list(by_key.values())[:3]
    forged = make_entry(
        competition_id=competition_id,
        rule_version=template["rule_version"],
        event_id="forged-event",
        cm_id=template["cm_id"],
        sub_branch_id=template["sub_branch_id"],
        team_id=template["team_id"],
        occurred_at=template["occurred_at"],
        points=Decimal("5.00"),
        component=template["component"],
        reason="not from any event",
    )
    table: Table = LedgerTable.__table__  # type: ignore[assignment]
    with engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.entry_id == changed["entry_id"])
            .values(points=changed["points"] + Decimal("1.00"))
        )
        conn.execute(delete(table).where(table.c.entry_id == deleted["entry_id"]))
        conn.execute(insert(table).values(**asdict(forged), recorded_at=template["recorded_at"]))
    return Tampering(changed, deleted, template, forged)
