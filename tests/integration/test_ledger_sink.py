"""The ledger sink on the real broker and PostgreSQL: SIGKILLed mid-stream, nothing lost or doubled."""

from __future__ import annotations

import json
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from schemas import SHANGHAI
from schemas.dead_letters import DeadLetter
from schemas.topics import Topics
from services.store import Store
from streams.core.ledger import LedgerEntry, make_entry
from tests.support.kafka import produce
from tests.support.processes import sink

ENTRIES = 3000


def _entry(n: int) -> LedgerEntry:
    return make_entry(
        competition_id="feb-opening",
        rule_version=1,
        event_id=f"evt-{n}",
        cm_id=f"cm-{n % 7}",
        sub_branch_id=f"sb-{n % 3}",
        team_id=None,
        occurred_at=datetime(2026, 2, 3, 10, 0, tzinfo=SHANGHAI),
        points=Decimal(n % 5) + Decimal("0.25"),
        component="opening",
        reason=f"开立基本户 #{n}",
    )


def _count(store: Store) -> int:
    return sum(len(store.entries_for("feb-opening", f"cm-{i}")) for i in range(7))


def _wait(condition: object, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


async def test_sink_killed_mid_stream_stores_every_entry_once(
    prefix: str, topics: Topics, pg_url: str, tmp_path: Path
) -> None:
    entries = [_entry(n) for n in range(ENTRIES)]
    redelivered = entries[:500]  # an upstream retry: the same entries again, same ids
    await produce(topics.ledger, [(e.cm_id.encode(), json.dumps(e.to_dict()).encode()) for e in entries])
    await produce(topics.ledger, [(e.cm_id.encode(), json.dumps(e.to_dict()).encode()) for e in redelivered])
    letter = DeadLetter("malformed_json", "not valid JSON", b"\xff{oops", topics.raw, 2, 41)
    await produce(topics.dead_letters, [(None, letter.raw)])  # no headers: reason unknown, still kept
    store = Store.from_url(pg_url)
    store.create_schema()

    first = sink(prefix, tmp_path, pg_url, CAMPAIGNS_SINK_BATCH_SIZE="50").start()
    _wait(lambda: _count(store) > 0)
    first.kill()
    stored_at_kill = _count(store)
    second = sink(prefix, tmp_path, pg_url, CAMPAIGNS_SINK_BATCH_SIZE="50").start()
    try:
        _wait(lambda: _count(store) >= ENTRIES)
        time.sleep(1.0)  # anything doubled would show up by now
    finally:
        second.stop()

    assert 0 < stored_at_kill < ENTRIES, "the kill must land mid-stream to prove anything"
    assert _count(store) == ENTRIES
    expected: dict[str, Decimal] = {}
    for e in entries:
        expected[e.cm_id] = expected.get(e.cm_id, Decimal(0)) + e.points
    assert store.totals("feb-opening") == expected
    (stored_letter,) = store.dead_letters()
    assert stored_letter["raw"] == b"\xff{oops"
    store.close()
