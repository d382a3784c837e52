"""The console's tables on SQLite and PostgreSQL: credentials (hashed, checked, revoked), the audit
log, and competition versions (drafts editable, published frozen, every change audited)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from services.store import Store, StoreConflict, StoreDataError, audit
from services.store.competition_records import CompetitionRecords
from services.store.credentials import Credentials
from streams.core.templates import load_template
from tests.support.auth import FAST


def _credentials(store: Store) -> Credentials:
    return Credentials(store, FAST)


def test_users_and_passwords(store: Store) -> None:
    creds = _credentials(store)
    creds.create_user("zhang", "a-long-password", "organiser", actor="cli:root")
    creds.create_user("east", "another-password", "viewer", sub_branch_id="sb-east", actor="cli:root")
    with pytest.raises(StoreConflict):
        creds.create_user("zhang", "a-long-password", "admin", actor="cli:root")
    with pytest.raises(StoreDataError, match="sub_branch"):
        creds.create_user("west", "another-password", "viewer", actor="cli:root")
    with pytest.raises(StoreDataError, match="password"):
        creds.create_user("short", "short", "admin", actor="cli:root")

    assert creds.check_password("zhang", "a-long-password")["role"] == "organiser"  # type: ignore[index]
    assert creds.check_password("zhang", "wrong-password") is None
    assert creds.check_password("nobody", "a-long-password") is None
    with store._reading() as conn:
        stored = dict(conn.execute(text("SELECT username, password_hash FROM users")).all())
    assert all(h.startswith("$argon2id$") and "password" not in h for h in stored.values())

    session, _ = creds.open_session("zhang", timedelta(hours=1))
    assert creds.session_user(session)["username"] == "zhang"  # type: ignore[index]
    creds.disable_user("zhang", actor="cli:root")
    assert creds.session_user(session) is None  # disabling ends the sessions
    assert creds.check_password("zhang", "a-long-password") is None
    expired, _ = creds.open_session("east", timedelta(seconds=-1))
    assert creds.session_user(expired) is None
    assert [u["username"] for u in creds.users()] == ["east", "zhang"]
    assert "password_hash" not in creds.users()[0]


def test_keys_are_found_by_id_verified_and_revoked(store: Store) -> None:
    creds = _credentials(store)
    token, row = creds.create_key("source", "core banking ETL", actor="cli:root")
    display, _ = creds.create_key("display", "east wall", sub_branch_id="sb-east", actor="cli:root")
    assert token.startswith(f"cmp.{row['key_id']}.")
    assert creds.check_key(token)["role"] == "source"  # type: ignore[index]
    assert creds.check_key(token)["role"] == "source"  # type: ignore[index]  # remembered, same answer
    assert creds.check_key(display)["sub_branch_id"] == "sb-east"  # type: ignore[index]
    assert creds.check_key(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert creds.check_key("nonsense") is None
    assert creds.revoke_key(row["key_id"], actor="cli:root")
    assert not creds.revoke_key(row["key_id"], actor="cli:root")
    assert creds.check_key(token) is None  # at once
    # Another process, which never verified the key, refuses it as well.
    assert _credentials(store).check_key(token) is None
    with store._reading() as conn:
        hashes = [h for (h,) in conn.execute(text("SELECT secret_hash FROM api_keys"))]
    assert all(h.startswith("$argon2id$") and token not in h for h in hashes)
    actions = [(e["action"], e["object_id"]) for e in audit.entries(store, object_id="key/")]
    assert actions[0] == ("key.revoke", f"key/{row['key_id']}")
    assert len(actions) == 3


def test_audit_entries_filter_and_page(store: Store) -> None:
    for n in range(5):
        audit.record(store, f"user:u{n % 2}", "adjustment.create", f"adjustment/a{n}", {"points": f"{n}.50"})
    newest = audit.entries(store, limit=2)
    assert [e["object_id"] for e in newest] == ["adjustment/a4", "adjustment/a3"]
    older = audit.entries(store, limit=10, before=newest[-1]["id"])
    assert [e["object_id"] for e in older] == ["adjustment/a2", "adjustment/a1", "adjustment/a0"]
    assert [e["object_id"] for e in audit.entries(store, actor="user:u1")] == [
        "adjustment/a3",
        "adjustment/a1",
    ]
    assert audit.entries(store, object_id="adjustment/a2")[0]["diff"] == {"points": "2.50"}
    assert audit.entries(store, object_id="adjustment_") == []  # LIKE wildcards are escaped
    assert audit.entries(store, object_id="adjustment/")[0]["at"].tzinfo is not None
    with pytest.raises(StoreDataError):
        audit.entries(store, limit=0)


def _definition(**changes: Any) -> dict[str, Any]:
    return load_template("feb_account_opening").model_dump(mode="json") | {"id": "c1"} | changes


def test_versions_drafts_publish_close_and_their_audit(store: Store) -> None:
    records = CompetitionRecords(store)
    records.create_draft(_definition(), actor="user:zhang")
    with pytest.raises(StoreConflict):
        records.create_draft(_definition(), actor="user:zhang")
    edited = records.edit_draft(_definition(grace_days=5), actor="user:li")
    assert (
        edited["status"],
        edited["definition"]["grace_days"],
        edited["created_by"],
        edited["updated_by"],
    ) == (
        "draft",
        5,
        "user:zhang",
        "user:li",
    )
    published, changed = records.publish(_definition(grace_days=5), actor="user:wang")
    assert changed and published["status"] == "published" and published["published_by"] == "user:wang"
    assert published["published_at"] is not None
    assert records.publish(_definition(grace_days=5), actor="user:wang")[1] is False  # the same again
    with pytest.raises(StoreConflict):
        records.publish(_definition(grace_days=6), actor="user:wang")  # frozen
    with pytest.raises(StoreConflict):
        records.edit_draft(_definition(grace_days=6), actor="user:wang")
    records.create_draft(_definition(version=2, grace_days=7), actor="user:li")
    with pytest.raises(StoreConflict):
        records.close("c1", 2, actor="user:li")  # a draft is not closed
    closed, _ = records.close("c1", 1, actor="user:wang")
    assert (closed["status"], closed["closed_by"], closed["definition"]["status"]) == (
        "closed",
        "user:wang",
        "closed",
    )
    assert [(v["version"], v["status"]) for v in records.versions("c1")] == [(1, "closed"), (2, "draft")]
    assert [v["competition_id"] for v in records.all_versions()] == ["c1", "c1"]

    log = audit.entries(store, object_id="competition/c1")
    assert [e["action"] for e in log] == [
        "competition.close",
        "competition.create",
        "competition.publish",
        "competition.edit",
        "competition.create",
    ]
    assert [e["actor"] for e in log][:3] == ["user:wang", "user:li", "user:wang"]
    assert log[3]["diff"] == {
        "version": 1,
        "against": 1,
        "changes": [{"path": "grace_days", "op": "changed", "from": 3, "to": 5}],
    }
    assert (log[1]["diff"]["version"], log[1]["diff"]["against"]) == (2, 1)
    assert sorted(log[1]["diff"]["changes"], key=lambda c: c["path"]) == [
        {"path": "grace_days", "op": "changed", "from": 5, "to": 7},
        {"path": "version", "op": "changed", "from": 1, "to": 2},
    ]


@pytest.mark.parametrize("version", [0, -1, 2**31, 2**70, -(2**70)])
def test_a_version_no_column_can_hold_is_simply_not_there(store: Store, version: int) -> None:
    # Found by the API fuzzer: binding 2**70 raised OverflowError (HTTP 500) instead of "no such".
    records = CompetitionRecords(store)
    records.create_draft(_definition(), actor="user:zhang")
    assert records.get(_definition()["id"], version) is None
