"""The sink's writer on SQLite and PostgreSQL: poison is parked, every other record of the batch
is stored, and writing the same batch again changes nothing. Plus the sink's bookkeeping rows
(parked records, heartbeat) as the store keeps them."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from schemas import SHANGHAI
from schemas.dead_letters import DeadLetter
from services.sink.writer import Writer
from services.store import Store, StoreDataError
from streams.core.ledger import LedgerEntry, make_entry

LEDGER = "t.score.ledger"
DEAD = "t.events.deadletter"


@dataclass(frozen=True)
class Message:
    """What the writer reads of an aiokafka ConsumerRecord."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


def entry(n: int, **changes: object) -> LedgerEntry:
    made = make_entry(
        competition_id="feb-opening",
        rule_version=1,
        event_id=f"evt-{n}",
        cm_id="cm-1",
        sub_branch_id=None,
        team_id=None,
        occurred_at=datetime(2026, 2, 3, 10, 0, tzinfo=SHANGHAI),
        points=Decimal("1.00"),
        component="opening",
        reason=f"#{n}",
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def ledger(offset: int, value: bytes | None) -> Message:
    return Message(LEDGER, 0, offset, b"cm-1", value)


def good(offset: int, n: int) -> Message:
    return ledger(offset, json.dumps(entry(n).to_dict()).encode())


POISON = {
    "deep": b"[" * 200_000,
    "not json": b"\xff{oops",
    "not an entry": b'{"entry_id": "x"}',
    "empty": None,
    # A valid ledger entry the database cannot hold: its id is longer than the column.
    "refused by the database": json.dumps(entry(99, entry_id="e" * 65).to_dict()).encode(),
}


def test_poison_in_a_ledger_batch_is_parked_and_the_rest_is_stored(store: Store) -> None:
    batch = [good(0, 0), *(ledger(1 + i, v) for i, v in enumerate(POISON.values())), good(9, 1)]
    writer = Writer(store, LEDGER, keep=1000)

    outcome = writer.write(LEDGER, batch)

    assert (outcome.stored, outcome.parked) == (2, len(POISON))
    assert store.totals("feb-opening") == {"cm-1": Decimal("2.00")}
    parked = {row["source_offset"]: row for row in store.parked_records()}
    assert sorted(parked) == [1, 2, 3, 4, 5]
    assert parked[1]["reason"].startswith("too_deep")
    assert (len(parked[1]["value"]), parked[1]["value_size"]) == (1000, 200_000)
    assert parked[4]["value"] is None
    assert "StoreDataError" in parked[5]["reason"]
    assert store.parked_count() == len(POISON)

    again = writer.write(LEDGER, batch)  # a redelivery after a crash before the commit
    assert (again.stored, again.parked) == (2, len(POISON))
    assert store.parked_count() == len(POISON)
    assert store.totals("feb-opening") == {"cm-1": Decimal("2.00")}


def test_dead_letters_are_stored_bounded_and_the_unstorable_are_parked(store: Store) -> None:
    big = DeadLetter("oversized", "message has 200000 bytes", b"[" * 200_000, "http", -1, 1)
    headers = tuple(big.headers())
    nul_detail = (("dlq.reason", b"malformed_json"), ("dlq.detail", b"a\x00b"))
    batch = [
        Message(DEAD, 0, 0, None, big.value, headers),
        Message(DEAD, 0, 1, None, b"x", nul_detail),
        Message(DEAD, 0, 2, None, b"\xff", (("dlq.detail", None),)),  # type: ignore[arg-type]
    ]
    outcome = Writer(store, LEDGER, keep=65_536).write(DEAD, batch)

    assert (outcome.stored, outcome.parked) == (3, 0)
    letters = {row["source_offset"]: row for row in store.dead_letters()}
    assert len(letters[0]["raw"]) == 65_536
    assert "of 200000 bytes kept" in letters[0]["detail"]
    assert letters[1]["detail"].startswith("a\ufffdb")
    assert letters[2]["reason"] == "unknown"


def test_a_poll_of_many_partitions_is_one_batch_and_a_refused_row_costs_only_itself(store: Store) -> None:
    """Both topics and two partitions in one write_batch: stored together; the row the database
    refuses is parked and the rest of the poll is stored; written again, nothing changes."""
    letter = DeadLetter("malformed_json", "not valid JSON", b"{oops", "events.raw", 3, 41)
    refused = json.dumps(entry(99, entry_id="e" * 65).to_dict()).encode()
    parts = [
        (LEDGER, [good(0, 0), ledger(1, refused), good(2, 1)]),
        (DEAD, [Message(DEAD, 0, 0, None, letter.value, tuple(letter.headers()))]),
        (LEDGER, [Message(LEDGER, 1, 0, b"cm-1", json.dumps(entry(2).to_dict()).encode())]),
    ]
    writer = Writer(store, LEDGER, keep=1000)

    outcome = writer.write_batch(parts)

    assert (outcome.stored, outcome.parked) == (4, 1)
    assert store.totals("feb-opening") == {"cm-1": Decimal("3.00")}
    assert [(r["source_partition"], r["source_offset"]) for r in store.parked_records()] == [(0, 1)]
    assert [r["detail"] for r in store.dead_letters()] == ["not valid JSON (from events.raw@3:41)"]

    again = writer.write_batch(parts)  # a redelivery after a crash before the commit
    assert (again.stored, again.parked) == (4, 1)
    assert store.totals("feb-opening") == {"cm-1": Decimal("3.00")}
    assert (len(store.dead_letters()), store.parked_count()) == (1, 1)


def test_a_clean_poll_of_both_topics_is_stored_in_one_call(store: Store) -> None:
    letter = DeadLetter("malformed_json", "not valid JSON", b"{oops", "events.raw", 3, 42)
    parts = [
        (LEDGER, [good(0, 0), good(1, 1)]),
        (DEAD, [Message(DEAD, 0, 5, None, letter.value, tuple(letter.headers()))]),
    ]
    assert store.add_sink_batch([], []) == (0, 0)

    outcome = Writer(store, LEDGER, keep=1000).write_batch(parts)

    assert (outcome.stored, outcome.parked) == (3, 0)
    assert store.totals("feb-opening") == {"cm-1": Decimal("2.00")}
    assert [r["source_offset"] for r in store.dead_letters()] == [5]


def test_heartbeat_is_one_row_per_sink_replaced_on_every_beat(store: Store) -> None:
    started = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert store.heartbeat("app-sink") is None
    store.beat("app-sink", started_at=started, positions={"t.score.ledger/0": 5}, written=5, parked=0)
    later = started + timedelta(seconds=7)
    store.beat(
        "app-sink", started_at=started, positions={"t.score.ledger/0": 9}, written=9, parked=1, at=later
    )
    beat = store.heartbeat("app-sink")
    assert beat is not None
    assert (beat["beat_at"], beat["positions"], beat["written"], beat["parked"]) == (
        later,
        {"t.score.ledger/0": 9},
        9,
        1,
    )
    assert store.heartbeat("other-sink") is None


def test_parking_the_same_position_twice_keeps_one_row(store: Store) -> None:
    row = {
        "source_topic": LEDGER,
        "source_partition": 0,
        "source_offset": 7,
        "reason": "x",
        "key": None,
        "value": b"v",
        "value_size": 1,
        "value_sha256": "0" * 64,
    }
    assert store.park_record(**row) is True
    assert store.park_record(**row) is False
    assert store.parked_count() == 1
    with pytest.raises(StoreDataError):
        store.park_record(**{**row, "source_offset": 8, "value_sha256": "0" * 65})
