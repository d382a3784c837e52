"""`python -m streams.layout grow` on the real broker: a scored topic set copied into a new set with
more partitions scores to the same standings, each manager's state in its new partition."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.control import HEADER as CONTROL_HEADER
from schemas.topics import Topics
from streams.dedup_changelog import decode
from streams.layout import recorded_layout
from tests.support.kafka import BOOTSTRAP, drop_topics, read_all
from tests.support.layout import run_grow
from tests.support.processes import new_prefix, worker
from tests.support.random_events import seeded
from tests.support.scoring import converge, expected_standings, publish, published_templates, send_events

COMPETITIONS = published_templates()


async def test_grow_copies_into_more_partitions_and_the_standings_come_out_the_same(
    prefix: str, topics: Topics, tmp_path: Path
) -> None:
    events = seeded(seed=16, count=300, cms=12, tag="gr")
    expected = expected_standings(events, COMPETITIONS)
    old = worker(prefix, tmp_path).start()
    try:
        await publish(topics, COMPETITIONS)
        await send_events(topics, events)
        await converge(topics, expected)
    finally:
        old.stop()

    new_prefix_ = new_prefix()
    new = Topics(new_prefix_)
    try:
        grown = run_grow(prefix, 6, new_prefix_)
        assert grown.returncode == 0, grown.stderr.decode()
        copied = [r for r in await read_all(topics.validated) if CONTROL_HEADER not in r.headers]
        assert f"{len(copied)} events" in grown.stdout.decode()
        assert await recorded_layout(BOOTSTRAP, new) == dict.fromkeys(new.partitioned(), 6)
        # Dedup's memory is made again in the new set: every copied id, where its manager now is.
        remembered = {
            (r.partition, event_id)
            for r in await read_all(new.dedup_seen)
            for event_id in decode(r.value or b"").first
        }
        where = {r.key: r.partition for r in await read_all(new.validated) if CONTROL_HEADER not in r.headers}
        assert remembered == {(where[r.key], json.loads(r.value)["event_id"]) for r in copied}

        # A second grow into the same set is refused: it would copy everything twice.
        again = run_grow(prefix, 6, new_prefix_)
        assert again.returncode == 2
        assert "exist already" in again.stderr.decode()

        moved = worker(new_prefix_, tmp_path, name="grown").start()
        try:
            await converge(new, expected, timeout=90)
        finally:
            moved.stop()

        history = {r.key: r.partition for r in await read_all(new.validated) if r.key is not None}
        states = [r for r in await read_all(new.scoring_state) if r.key is not None and r.key in history]
        assert states, "the new set holds no manager states"
        assert all(r.partition == history[r.key] for r in states)
        assert {r.partition for r in states} != {0}, "12 managers over 6 partitions should not all hash to 0"
    finally:
        await drop_topics(new_prefix_)
