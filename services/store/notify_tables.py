"""企业微信 messages' tables (services/notify): each competition's robot, the outbox of messages,
the digests they are sent in, and the last top N the notifier compared against.

On the same `Base` as the ledger's tables, so `Store.create_schema()` creates them once this
module is imported (services/store/__init__.py does).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.store.column_types import UtcDateTime
from services.store.tables import ID_LENGTH, Base

KEY_LENGTH = 200
ACTOR_LENGTH = 160
_AUTO_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite auto-increments INTEGER only


class NotifyConfig(Base):
    """A competition's group robot. `webhook_url` is a secret (its `key=` lets anyone post to the
    group): the API never shows it whole, logs never carry it."""

    __tablename__ = "notify_configs"

    competition_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    webhook_url: Mapped[str] = mapped_column(Text)
    top_n: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    enabled_since: Mapped[datetime] = mapped_column(UtcDateTime())  # older news is not announced
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))


class NotifyMessage(Base):
    """One announcement, once per `key` (deterministic from what it announces). `digest_id` is set
    when it is packed into a digest, `sent_at` when that digest's POST succeeded."""

    __tablename__ = "notify_messages"
    __table_args__ = (Index(None, "key", unique=True), Index(None, "competition_id", "digest_id"))

    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    competition_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    digest_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class NotifyDigest(Base):
    """One POST's worth of messages. `intent_at` is written (and committed) just before each POST:
    a digest with an intent and neither `sent_at` nor an error was cut off mid-send (in doubt).
    `robot` is a hash of the URL it went to: the rate limit is per robot."""

    __tablename__ = "notify_digests"
    __table_args__ = (Index(None, "sent_at", "next_attempt_at"), Index(None, "robot", "intent_at"))

    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    competition_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    intent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    robot: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class NotifyTop(Base):
    """The top N a competition's rank messages were last derived from: [[unit, rank], ...]."""

    __tablename__ = "notify_tops"

    competition_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    top: Mapped[list[list[object]]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())
