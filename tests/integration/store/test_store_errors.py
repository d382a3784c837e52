"""Failures reach callers as StoreError subclasses, never as SQLAlchemy or driver exceptions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.exc import SQLAlchemyError

from services.store import Store, StoreError, StoreUnavailable

pytestmark = pytest.mark.integration

UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/campaigns"

ENTRY = {
    "entry_id": "a",
    "event_id": "evt-a",
    "competition_id": "c",
    "rule_version": 1,
    "cm_id": "cm-1",
    "occurred_at": datetime(2025, 3, 1, tzinfo=UTC),
    "points": Decimal("1.00"),
    "component": "basic_account",
    "reason": "r",
}

CALLS: dict[str, Callable[[Store], object]] = {
    "ping": Store.ping,
    "create_schema": Store.create_schema,
    "add_ledger_entries": lambda s: s.add_ledger_entries([ENTRY]),
    "totals": lambda s: s.totals("c"),
    "dead_letters": lambda s: s.dead_letters(10),
    "save_competition": lambda s: s.save_competition("c", 1, "draft", {}),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_unreachable_postgresql_is_store_unavailable(call: Callable[[Store], object]) -> None:
    with Store.from_url(UNREACHABLE_PG) as store, pytest.raises(StoreUnavailable) as caught:
        call(store)
    assert not isinstance(caught.value, SQLAlchemyError)
    assert isinstance(caught.value.__cause__, SQLAlchemyError), "the cause stays attached for logs"
    assert "127.0.0.1" in str(caught.value)


def test_unopenable_sqlite_file_is_store_unavailable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'store.db'}"
    with Store.from_url(url) as store, pytest.raises(StoreUnavailable):
        store.ping()


def test_missing_schema_is_a_store_error_but_not_unavailable(store_url: str) -> None:
    with Store.from_url(store_url) as store, pytest.raises(StoreError) as caught:
        store.totals("c")
    assert not isinstance(caught.value, StoreUnavailable), "a retry cannot fix a missing table"
    assert not isinstance(caught.value, SQLAlchemyError)


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://x/y", "postgresql+nosuchdriver://h/db"])
def test_unusable_urls_are_store_errors(url: str) -> None:
    with pytest.raises(StoreError, match="cannot use database URL"):
        Store.from_url(url)


def test_urls_in_messages_hide_passwords() -> None:
    with Store.from_url("postgresql+psycopg://app:s3cret@127.0.0.1:1/campaigns") as store:
        assert "s3cret" not in store.url
        with pytest.raises(StoreUnavailable) as caught:
            store.ping()
    assert "s3cret" not in str(caught.value)
