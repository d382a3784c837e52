"""Month-end tables: frozen periods (what each freeze took from the ledger) and award runs.

On the same `Base` as the ledger's tables, so `Store.create_schema()` creates them once this
module is imported (services/awards imports it). Rows are written once and never updated,
except a run's approval (status, approved_at, approved_by), which the audit log records.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.store.column_types import Money, UtcDateTime
from services.store.tables import ID_LENGTH, Base

PERIOD_LENGTH = 16  # "YYYY-MM" or "window"
SHA_LENGTH = 64
ACTOR_LENGTH = 160
NAME_LENGTH = 100

_AUTO_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite auto-increments INTEGER only


class PeriodFreeze(Base):
    """A period of a competition, frozen: its result is what the ledger held at `frozen_at`.

    `high_water` is the latest recorded_at among the entries it took, `entries` how many it took
    (its own and the adjustments it carried); `checksum` is the sha256 of its lines."""

    __tablename__ = "award_freezes"
    __table_args__ = (UniqueConstraint("competition_id", "period"),)

    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    competition_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    period: Mapped[str] = mapped_column(String(PERIOD_LENGTH))
    seq: Mapped[int] = mapped_column(Integer)  # the period's place in the competition (0 = first)
    period_start: Mapped[str] = mapped_column(String(10))
    period_end: Mapped[str] = mapped_column(String(10))
    cutoff: Mapped[datetime] = mapped_column(UtcDateTime())
    frozen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    high_water: Mapped[datetime | None] = mapped_column(UtcDateTime())
    entries: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[Decimal] = mapped_column(Money())
    checksum: Mapped[str] = mapped_column(String(SHA_LENGTH))


class FreezeLine(Base):
    """Points a freeze took, per manager and unit: its own period's (source = the period itself)
    or an adjustment carried from an earlier period (source = that period)."""

    __tablename__ = "award_freeze_lines"
    __table_args__ = (Index(None, "freeze_id", "source_period"),)

    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    freeze_id: Mapped[int] = mapped_column(BigInteger)
    competition_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    source_period: Mapped[str] = mapped_column(String(PERIOD_LENGTH))
    adjustment: Mapped[bool] = mapped_column(Boolean)
    cm_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    sub_branch_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    team_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    points: Mapped[Decimal] = mapped_column(Money())
    entries: Mapped[int] = mapped_column(BigInteger)


class FreezeMember(Base):
    """Per manager, what eligibility and tie-breaks need of a freeze's own entries."""

    __tablename__ = "award_freeze_members"

    freeze_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cm_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger)  # distinct events (not rescores) with entries
    last_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # latest own entry's occurred_at


class AwardRun(Base):
    """One computation of a period's awards. Same inputs (fingerprint), same run: a repeat returns
    the stored one. An approved run is never recomputed in place: a correction is a new run with
    `supersedes` pointing at it."""

    __tablename__ = "award_runs"
    __table_args__ = (UniqueConstraint("competition_id", "period", "fingerprint"),)

    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    competition_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    period: Mapped[str] = mapped_column(String(PERIOD_LENGTH))
    freeze_id: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str] = mapped_column(String(SHA_LENGTH))
    inputs: Mapped[str] = mapped_column(Text)  # canonical JSON of what the fingerprint covers
    checksum: Mapped[str] = mapped_column(String(SHA_LENGTH))  # sha256 of the canonical result
    result: Mapped[str] = mapped_column(Text)  # canonical JSON of the award table
    status: Mapped[str] = mapped_column(String(16))  # draft | approved
    supersedes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))


class AwardRunLine(Base):
    """A run's table, one row per manager or unit, for paging and per-sub-branch reports."""

    __tablename__ = "award_run_lines"
    __table_args__ = (Index(None, "run_id", "sub_branch_id"),)

    run_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # customer_manager | team | sub_branch_total | ...
    rank: Mapped[int | None] = mapped_column(Integer)
    unit_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    sub_branch_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    team_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    points: Mapped[Decimal] = mapped_column(Money())
    adjustment: Mapped[Decimal] = mapped_column(Money())
    total: Mapped[Decimal] = mapped_column(Money())
    awards: Mapped[str] = mapped_column(Text)  # JSON list of {prize, title, amount}
    amount: Mapped[Decimal] = mapped_column(Money())
    remarks: Mapped[str] = mapped_column(Text)
