"""Users, API keys, display tokens and login sessions: creating, checking, revoking.

Secrets never reach the database: passwords and keys are stored as argon2id hashes
(argon2-cffi's RFC 9106 defaults), session ids as SHA-256. A key reads `cmp.<key_id>.<secret>`:
the key id is not secret and finds the row, the whole key is verified against its hash. A key
verified once is remembered in this process by its SHA-256 (the row is still read on every
request, so a revocation takes effect at once); argon2 is deliberately slow, and a wall screen
polling every few seconds must not pay for it each time.

Every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from threading import Lock
from typing import Any, Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Table, delete, insert, select, update

from services.store import audit
from services.store.access_tables import ApiKey, LoginSession, User
from services.store.errors import StoreConflict, StoreDataError
from services.store.rows import checked_row
from services.store.store import Store

UserRole = Literal["admin", "organiser", "viewer"]
KeyRole = Literal["admin", "organiser", "source", "display"]
USER_ROLES: tuple[str, ...] = get_args(UserRole)
KEY_ROLES: tuple[str, ...] = get_args(KeyRole)
SCOPED_ROLES = ("viewer", "display")  # read only, and only their own sub-branch's detail
MIN_PASSWORD = 10

_users: Table = User.__table__  # type: ignore[assignment]
_keys: Table = ApiKey.__table__  # type: ignore[assignment]
_sessions: Table = LoginSession.__table__  # type: ignore[assignment]

_USERNAME = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")
_SUB_BRANCH = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_TOKEN = re.compile(r"^cmp\.([0-9a-f]{12})\.([A-Za-z0-9_\-]{20,100})$")


class Credentials:
    """The access tables of one Store. Safe to share between threads."""

    def __init__(self, store: Store, hasher: PasswordHasher | None = None) -> None:
        self._store = store
        self._hasher = hasher or PasswordHasher()
        self._verified: dict[str, str] = {}  # key id -> sha256 of the key verified for it
        self._lock = Lock()
        self._dummy: str | None = None

    # --- users -------------------------------------------------------------------------

    def create_user(
        self, username: str, password: str, role: str, *, sub_branch_id: str | None = None, actor: str
    ) -> dict[str, Any]:
        """A new user (StoreConflict if the name is taken); the row without its hash."""
        if not _USERNAME.match(username):
            raise StoreDataError("username: 1-64 letters, digits or _ . @ -")
        _check_role(role, USER_ROLES)
        _check_scope(role, sub_branch_id)
        _check_password(password)
        now = datetime.now(UTC)
        row = checked_row(
            _users,
            {
                "username": username,
                "password_hash": self._hasher.hash(password),
                "role": role,
                "sub_branch_id": sub_branch_id,
                "created_at": now,
                "created_by": actor,
                "disabled_at": None,
            },
        )
        with self._store._writing() as conn:
            if conn.execute(select(_users.c.username).where(_users.c.username == username)).first():
                raise StoreConflict(f"user {username} already exists")
            conn.execute(insert(_users).values(row))
            audit.record(
                conn, actor, "user.create", f"user/{username}", {"role": role, "sub_branch_id": sub_branch_id}
            )
        return _public_user(row)

    def set_password(self, username: str, password: str, *, actor: str) -> None:
        """A new password; the user's open sessions end."""
        _check_password(password)
        with self._store._writing() as conn:
            done = conn.execute(
                update(_users)
                .where(_users.c.username == username)
                .values(password_hash=self._hasher.hash(password))
            )
            if done.rowcount != 1:
                raise StoreDataError(f"no user {username}")
            conn.execute(delete(_sessions).where(_sessions.c.username == username))
            audit.record(conn, actor, "user.password", f"user/{username}", None)

    def disable_user(self, username: str, *, actor: str) -> None:
        """The user can no longer log in; open sessions end. Disabling twice changes nothing."""
        now = datetime.now(UTC)
        with self._store._writing() as conn:
            done = conn.execute(
                update(_users)
                .where(_users.c.username == username, _users.c.disabled_at.is_(None))
                .values(disabled_at=now)
            )
            conn.execute(delete(_sessions).where(_sessions.c.username == username))
            if done.rowcount == 1:
                audit.record(
                    conn, actor, "user.disable", f"user/{username}", {"disabled_at": now.isoformat()}
                )

    def users(self) -> list[dict[str, Any]]:
        with self._store._reading() as conn:
            rows = conn.execute(select(_users).order_by(_users.c.username)).all()
        return [_public_user(dict(r._mapping)) for r in rows]

    def check_password(self, username: str, password: str) -> dict[str, Any] | None:
        """The user if the password is theirs and they are enabled, else None.

        An unknown or disabled user costs one argon2 verification all the same, so the answer
        takes as long whichever part was wrong."""
        with self._store._reading() as conn:
            found = conn.execute(select(_users).where(_users.c.username == username)).first()
        row = dict(found._mapping) if found is not None else None
        stored = row["password_hash"] if row is not None else self._dummy_hash()
        ok = self._verify(stored, password)
        if row is None or row["disabled_at"] is not None or not ok:
            return None
        if self._hasher.check_needs_rehash(stored):
            with self._store._writing() as conn:
                conn.execute(
                    update(_users)
                    .where(_users.c.username == username)
                    .values(password_hash=self._hasher.hash(password))
                )
        return _public_user(row)

    # --- keys and display tokens ---------------------------------------------------------

    def create_key(
        self, role: str, label: str, *, sub_branch_id: str | None = None, actor: str
    ) -> tuple[str, dict[str, Any]]:
        """A new key: (the key itself, shown this once; its row without the hash)."""
        _check_role(role, KEY_ROLES)
        _check_scope(role, sub_branch_id)
        if not 1 <= len(label) <= 64:
            raise StoreDataError("label: 1-64 characters")
        key_id = secrets.token_hex(6)
        token = f"cmp.{key_id}.{secrets.token_urlsafe(32)}"
        row = checked_row(
            _keys,
            {
                "key_id": key_id,
                "label": label,
                "role": role,
                "sub_branch_id": sub_branch_id,
                "secret_hash": self._hasher.hash(token),
                "created_at": datetime.now(UTC),
                "created_by": actor,
                "revoked_at": None,
            },
        )
        with self._store._writing() as conn:
            conn.execute(insert(_keys).values(row))
            audit.record(
                conn,
                actor,
                "key.create",
                f"key/{key_id}",
                {"role": role, "label": label, "sub_branch_id": sub_branch_id},
            )
        return token, _public_key(row)

    def revoke_key(self, key_id: str, *, actor: str) -> bool:
        """False if there is no such key or it was already revoked."""
        now = datetime.now(UTC)
        with self._store._writing() as conn:
            done = conn.execute(
                update(_keys)
                .where(_keys.c.key_id == key_id, _keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            if done.rowcount != 1:
                return False
            audit.record(conn, actor, "key.revoke", f"key/{key_id}", {"revoked_at": now.isoformat()})
        with self._lock:
            self._verified.pop(key_id, None)
        return True

    def api_keys(self) -> list[dict[str, Any]]:
        with self._store._reading() as conn:
            rows = conn.execute(select(_keys).order_by(_keys.c.created_at, _keys.c.key_id)).all()
        return [_public_key(dict(r._mapping)) for r in rows]

    def check_key(self, token: str) -> dict[str, Any] | None:
        """The key's row (without hash) if `token` is a live key, else None."""
        parsed = _TOKEN.match(token)
        if parsed is None:
            return None
        key_id = parsed.group(1)
        with self._store._reading() as conn:
            found = conn.execute(select(_keys).where(_keys.c.key_id == key_id)).first()
        if found is None or found.revoked_at is not None:
            return None
        digest = _sha256(token)
        with self._lock:
            known = self._verified.get(key_id)
        if known is None or not secrets.compare_digest(known, digest):
            if not self._verify(found.secret_hash, token):
                return None
            with self._lock:
                self._verified[key_id] = digest
        return _public_key(dict(found._mapping))

    # --- login sessions ------------------------------------------------------------------

    def open_session(self, username: str, lifetime: timedelta) -> tuple[str, datetime]:
        """A new session for a user who just logged in: (its id for the cookie, its expiry)."""
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires = now + lifetime
        with self._store._writing() as conn:
            # Expired sessions go whenever someone logs in: the table stays the size of the live ones.
            conn.execute(delete(_sessions).where(_sessions.c.expires_at < now))
            conn.execute(
                insert(_sessions).values(
                    id_hash=_sha256(session_id), username=username, created_at=now, expires_at=expires
                )
            )
        return session_id, expires

    def session_user(self, session_id: str) -> dict[str, Any] | None:
        """The enabled user whose live session this is, else None."""
        query = (
            select(_users, _sessions.c.expires_at)
            .join(_sessions, _sessions.c.username == _users.c.username)
            .where(_sessions.c.id_hash == _sha256(session_id))
        )
        with self._store._reading() as conn:
            found = conn.execute(query).first()
        if found is None or found.expires_at <= datetime.now(UTC) or found.disabled_at is not None:
            return None
        return _public_user(dict(found._mapping))

    def close_session(self, session_id: str) -> None:
        with self._store._writing() as conn:
            conn.execute(delete(_sessions).where(_sessions.c.id_hash == _sha256(session_id)))

    # --- plumbing ------------------------------------------------------------------------

    def _verify(self, stored: str, secret: str) -> bool:
        try:
            return self._hasher.verify(stored, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _dummy_hash(self) -> str:
        # A hash of nothing anyone knows, with the same parameters as real ones.
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _check_role(role: str, allowed: tuple[str, ...]) -> None:
    if role not in allowed:
        raise StoreDataError(f"role: must be one of {', '.join(allowed)}, got {role!r}")


def _check_scope(role: str, sub_branch_id: str | None) -> None:
    if role in SCOPED_ROLES:
        if not sub_branch_id or not _SUB_BRANCH.match(sub_branch_id):
            raise StoreDataError(f"sub_branch: a {role} is scoped to one sub-branch; give its id")
    elif sub_branch_id is not None:
        raise StoreDataError(f"sub_branch: a {role} sees every sub-branch; give none")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StoreDataError(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise StoreDataError("password: at most 1024 characters")


def _public_user(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: row[k] for k in ("username", "role", "sub_branch_id", "created_at", "created_by", "disabled_at")
    }


def _public_key(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: row[k]
        for k in ("key_id", "label", "role", "sub_branch_id", "created_at", "created_by", "revoked_at")
    }
