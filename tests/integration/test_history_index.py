"""The score stage's history index on the real broker: a rebuild reads one manager's records and
nothing else, and an index that is lost (or behind) is filled from the validated topic."""

from __future__ import annotations

import json
from pathlib import Path

from aiokafka import AIOKafkaProducer, TopicPartition

from schemas.control import HEADER as CONTROL_HEADER
from schemas.topics import Topics
from streams.admin import ensure_topics
from streams.follow import read_range
from streams.history_index import HistoryIndex
from streams.pipeline.history import IndexedHistory
from streams.topic_identity import describe
from tests.support.kafka import BOOTSTRAP
from tests.support.processes import worker
from tests.support.scoring import converge, expected_standings, publish, send_events
from tests.support.transfers import balance, deposit_competition

MANAGERS = [f"cm-{i}" for i in range(5)]


async def _fill_topic(topics: Topics) -> list[tuple[int, str, bytes]]:
    """200 event records over five managers and a control record in partition 0; what was sent."""
    await ensure_topics(BOOTSTRAP, topics, 2)
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all")
    await producer.start()
    sent = []
    try:
        for i in range(200):
            if i == 120:
                await producer.send_and_wait(
                    topics.validated, b"{}", partition=0, headers=[(CONTROL_HEADER, b"rescore")]
                )
            cm = MANAGERS[i % len(MANAGERS)]
            value = json.dumps({"n": i, "cm": cm}).encode()
            meta = await producer.send_and_wait(topics.validated, value, key=cm.encode(), partition=0)
            sent.append((meta.offset, cm, value))
    finally:
        await producer.stop()
    return sent


async def _index(topics: Topics, directory: Path) -> HistoryIndex:
    index = HistoryIndex(directory, topics.validated)
    index.bind((await describe(BOOTSTRAP, [topics.validated]))[topics.validated])
    return index


async def _tail(topics: Topics, start: int) -> list[object]:
    """The partition's records from `start` on: the first batch a newly assigned stage sees."""
    out: list[object] = []
    async for batch in read_range(BOOTSTRAP, TopicPartition(topics.validated, 0), start):
        out += batch
    return out


async def test_a_rebuild_reads_that_managers_records_and_a_lost_index_is_filled_from_the_topic(
    topics: Topics, tmp_path: Path
) -> None:
    sent = await _fill_topic(topics)
    end = sent[-1][0] + 1
    start = sent[150][0]  # the stage was assigned here: everything before was scored elsewhere
    index = await _index(topics, tmp_path)
    history = IndexedHistory(index, BOOTSTRAP, topics.validated, 0)
    await history.note(await _tail(topics, start))

    # The first read fills the gap once, from the topic, up to where the stage started.
    mine = [value for offset, cm, value in sent if cm == "cm-3" and offset < end]
    assert await history.manager("cm-3", end) == mine
    assert history.read_from_topic == 151  # offsets 0 up to 150: 150 events and the control record
    assert index.covered(0) == end
    assert index.rows_read == len(mine) == 40  # not one record of another manager

    # The next assignment finds the index complete: no record is read from the topic.
    index.rows_read = 0
    again = IndexedHistory(index, BOOTSTRAP, topics.validated, 0)
    await again.note(await _tail(topics, sent[190][0]))
    assert await again.managers(end) == MANAGERS
    before = sent[100][0]
    assert await again.manager("cm-1", before) == [v for o, cm, v in sent if cm == "cm-1" and o < before]
    assert again.read_from_topic == 0 and index.rows_read == 20
    index.close()

    # The index lost: the next reader fills it from offset 0, the same history comes out.
    for path in tmp_path.iterdir():
        path.unlink()
    lost = await _index(topics, tmp_path)
    fresh = IndexedHistory(lost, BOOTSTRAP, topics.validated, 0)
    await fresh.note(await _tail(topics, sent[190][0]))
    assert await fresh.manager("cm-3", end) == mine
    assert fresh.read_from_topic == sent[190][0]  # everything below the first batch, once
    assert lost.covered(0) == end
    lost.close()


async def test_a_worker_whose_index_was_deleted_rescores_from_the_topic(
    topics: Topics, tmp_path: Path
) -> None:
    """Events scored, the worker stopped, its history index deleted; a new contest published:
    the re-score reads the history back from the topic and lands on the batch result."""
    first = deposit_competition("point_in_time")
    second = deposit_competition("daily_average", cid="deposit-average")
    events = [
        balance(f"bal-{cm}-{day}", cm, f"acct-{cm}", f"2026-02-{day:02d}", 100_000 + day * 1000)
        for cm in ("cm-a", "cm-b", "cm-c")
        for day in range(1, 20)
    ]
    proc = worker(topics.prefix, tmp_path)
    proc.start()
    try:
        await publish(topics, [first])
        await send_events(topics, events)
        expected = expected_standings(events, [first])
        assert len(expected) == 3 and all(s["points"] != "0.00" for s in expected.values())
        await converge(topics, expected, timeout=90)
    finally:
        proc.stop()
    history_dir = tmp_path / "worker-data" / "history"
    assert any(history_dir.iterdir())  # the worker indexed what it scored
    for path in history_dir.iterdir():
        path.unlink()
    proc.start()
    try:
        await publish(topics, [second])
        await converge(topics, expected_standings(events, [first, second]), timeout=90)
        assert "history index filled from the topic" in proc.output()
    finally:
        proc.stop()
