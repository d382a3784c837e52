"""The tables: score ledger (audit and explain), dead letters, published competition rules, and the
sink's own bookkeeping (records it could not store, its heartbeat), and the outbox of publishing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.store.column_types import Money, UtcDateTime

ID_LENGTH = 64
EVENT_ID_LENGTH = 128  # the envelope allows up to 128 characters
TOPIC_LENGTH = 249  # Kafka's limit for a topic name

# Stable constraint names, so PostgreSQL and SQLite report and migrate the same objects.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class LedgerEntry(Base):
    """One point change. ``entry_id`` is deterministic (event, competition, rule version)."""

    __tablename__ = "ledger_entries"
    # event_id: explaining one event (GET /api/events/{event_id}/explain) finds its entries.
    # (competition_id, occurred_at, ...): the board at a past moment sums a time range of one
    # competition from the index alone (services/history); (competition_id, recorded_at): what
    # arrived since it last looked.
    __table_args__ = (
        Index(None, "competition_id", "cm_id"),
        Index(None, "event_id"),
        Index(
            "ix_ledger_entries_history",
            "competition_id",
            "occurred_at",
            "cm_id",
            "sub_branch_id",
            "team_id",
            "points",
        ),
        Index(None, "competition_id", "recorded_at"),
    )

    entry_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_LENGTH))
    competition_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    rule_version: Mapped[int] = mapped_column(Integer)
    cm_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    sub_branch_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    team_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    points: Mapped[Decimal] = mapped_column(Money())
    component: Mapped[str] = mapped_column(String(ID_LENGTH))
    reason: Mapped[str] = mapped_column(Text)
    # Arrived after the window's grace period: shown as an adjustment, never folded in silently.
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The re-score that wrote the entry ("rescore:<competition>:<n>:<fingerprint>"), else NULL.
    correction: Mapped[str | None] = mapped_column(String(EVENT_ID_LENGTH))
    # What the entry counted ({"kind": "opening", "account_type": "basic"}); NULL on older entries.
    label: Mapped[dict[str, str] | None] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DeadLetter(Base):
    """An input refused by validation, kept byte for byte with where it was read from."""

    __tablename__ = "dead_letters"
    # A re-delivered message (same topic, partition, offset) is stored once.
    __table_args__ = (UniqueConstraint("source_topic", "source_partition", "source_offset"),)

    id: Mapped[int] = mapped_column(
        # SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    event_id: Mapped[str | None] = mapped_column(String(EVENT_ID_LENGTH))
    reason: Mapped[str] = mapped_column(String(ID_LENGTH))
    detail: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    source_topic: Mapped[str] = mapped_column(String(TOPIC_LENGTH))
    source_partition: Mapped[int] = mapped_column(Integer)
    source_offset: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Competition(Base):
    """One version of a competition's rules; ``definition`` is the rules as JSON text."""

    __tablename__ = "competitions"

    competition_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    definition: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ParkedRecord(Base):
    """A record the ledger sink could not store (poison): kept aside so the sink goes on.

    `value` is a bounded copy; `value_size` and `value_sha256` describe the whole original."""

    __tablename__ = "parked_records"
    # A re-delivered record (same topic, partition, offset) is parked once.
    __table_args__ = (UniqueConstraint("source_topic", "source_partition", "source_offset"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    source_topic: Mapped[str] = mapped_column(String(TOPIC_LENGTH))
    source_partition: Mapped[int] = mapped_column(Integer)
    source_offset: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    value: Mapped[bytes | None] = mapped_column(LargeBinary)
    value_size: Mapped[int] = mapped_column(BigInteger)
    value_sha256: Mapped[str] = mapped_column(String(64))
    parked_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SinkHeartbeat(Base):
    """The sink's last sign of life, written from its loop: readiness reads it (a stuck loop
    stops beating). `positions` is JSON: {"topic/partition": next offset to read}."""

    __tablename__ = "sink_heartbeats"

    name: Mapped[str] = mapped_column(String(TOPIC_LENGTH), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    positions: Mapped[str] = mapped_column(Text)
    written: Mapped[int] = mapped_column(BigInteger)  # records stored since the sink started
    parked: Mapped[int] = mapped_column(BigInteger)  # records parked since the sink started


class PublishFanout(Base):
    """The outbox of publishing: one row per version change (published or closed) still to be, or
    already, announced to the workers. Written in the transaction that changes the version's row,
    so the SQL record and its fan-out cannot part; the API's relay (services/api/relay.py) sends
    `record` to the competitions topic and a re-score control record to every partition, then
    sets `done_at`. Rows are relayed in `id` order: a close never overtakes its publish."""

    __tablename__ = "publish_fanout"
    __table_args__ = (Index(None, "competition_id", "version"), Index(None, "done_at"))

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    competition_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    record: Mapped[str] = mapped_column(Text)  # the competitions topic's value, as sent
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
