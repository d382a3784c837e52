"""The ledger sink on the real broker and PostgreSQL: SIGKILLed mid-stream, nothing lost or doubled."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from schemas import SHANGHAI
from schemas.dead_letters import DeadLetter
from schemas.topics import Topics
from services.store import Store
from streams.core.ledger import LedgerEntry, make_entry
from tests.support.kafka import produce
from tests.support.processes import Process, sink

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


def _alive(proc: Process) -> bool:
    """Fail at once, with its log, if the sink process has exited."""
    if proc.proc is None or proc.proc.poll() is not None:
        raise AssertionError(f"the sink exited:\n{proc.tail()}")
    return True


async def test_poison_records_are_parked_and_the_sink_keeps_writing(
    prefix: str, topics: Topics, pg_url: str, tmp_path: Path
) -> None:
    """The reported crash: a dead letter of 200 KB of brackets made the sink raise RecursionError,
    and again at every restart. Now it and the other poison are parked, the entries after them
    are stored, and a restarted sink goes on from where it was."""
    entries = [_entry(n) for n in range(40)]

    def wire(e: LedgerEntry) -> tuple[bytes, bytes]:
        return e.cm_id.encode(), json.dumps(e.to_dict()).encode()

    too_long_id = json.dumps({**entries[0].to_dict(), "entry_id": "e" * 65}).encode()
    ledger_poison = [b"[" * 200_000, b"\xff{oops", b'{"entry_id": 1}', too_long_id]
    # The poison goes to cm-0's partition, between that manager's good entries.
    await produce(topics.ledger, [wire(e) for e in entries[:20]])
    await produce(topics.ledger, [(b"cm-0", value) for value in ledger_poison])
    await produce(topics.dead_letters, [(None, b"[" * 200_000)])  # as the old HTTP door sent it
    store = Store.from_url(pg_url)
    store.create_schema()
    env = {"CAMPAIGNS_SINK_BATCH_SIZE": "7", "CAMPAIGNS_SINK_HEARTBEAT_SECONDS": "0.5"}

    first = sink(prefix, tmp_path, pg_url, **env).start()
    try:
        _wait(lambda: _alive(first) and _count(store) >= 20 and store.parked_count() >= len(ledger_poison))
        await produce(topics.ledger, [wire(e) for e in entries[20:]])  # after the poison
        _wait(lambda: _alive(first) and _count(store) >= 40)
    finally:
        first.stop()

    second = sink(prefix, tmp_path, pg_url, **env).start()  # the restart that used to crash
    try:
        await produce(topics.ledger, [wire(_entry(n)) for n in range(40, 45)])
        _wait(lambda: _alive(second) and _count(store) >= 45)
        time.sleep(1.0)
        assert _alive(second)
        beat = store.heartbeat(f"{prefix}app-sink")
    finally:
        second.stop()

    assert _count(store) == 45
    parked = store.parked_records()
    assert len(parked) == len(ledger_poison)  # parked once, not again after the restart
    assert {p["source_topic"] for p in parked} == {topics.ledger}
    assert any(p["reason"].startswith("too_deep") and p["value_size"] == 200_000 for p in parked)
    (letter,) = store.dead_letters()
    assert len(letter["raw"]) == 64 * 1024
    assert "first 65536 of 200000 bytes kept" in letter["detail"]
    assert beat is not None and beat["written"] >= 5
    assert datetime.now(UTC) - beat["beat_at"] < timedelta(seconds=30)
    store.close()
