"""The console's tables: who may do what (users, API keys and display tokens, login sessions),
what they did (the audit log), and who wrote each competition version.

On the same `Base` as the ledger's tables, so `Store.create_schema()` creates them too. No
secret is stored: passwords and keys as argon2 hashes, session ids as SHA-256 (a session id is
256 random bits, so a fast hash is as good as a slow one and costs nothing per request).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.store.column_types import UtcDateTime
from services.store.tables import ID_LENGTH, Base

NAME_LENGTH = 64
HASH_LENGTH = 255  # an argon2 PHC string is ~100 characters
ACTOR_LENGTH = 160  # "user:<name>" / "key:<id> <label>"
ROLE_LENGTH = 16


class User(Base):
    """A person who logs in: role admin, organiser or viewer (a viewer is scoped to a sub-branch)."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    role: Mapped[str] = mapped_column(String(ROLE_LENGTH))
    sub_branch_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ApiKey(Base):
    """A key for a program (role source, organiser or admin) or a display token for a wall screen
    (role display, scoped to a sub-branch). `key_id` is the non-secret part of the key, so a key
    is found by it and then verified against `secret_hash` once."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(NAME_LENGTH))
    role: Mapped[str] = mapped_column(String(ROLE_LENGTH))
    sub_branch_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    secret_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LoginSession(Base):
    """A browser session after a login; the cookie holds the id, this table only its hash."""

    __tablename__ = "login_sessions"
    __table_args__ = (Index(None, "username"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AuditEntry(Base):
    """One change: who, when, what they did to which object, and the diff (JSON text)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "object_id"), Index(None, "actor"))

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    action: Mapped[str] = mapped_column(String(NAME_LENGTH))
    object_id: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    diff: Mapped[str] = mapped_column(Text)


class CompetitionAuthor(Base):
    """Who wrote and who published each version in `competitions` (kept beside it, so the
    competitions table keeps its shape for the tools that already read it)."""

    __tablename__ = "competition_authors"

    competition_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    closed_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
