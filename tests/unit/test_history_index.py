"""The score stage's history index on a temporary SQLite file: a manager's records by offset, the
managers before an offset, how far the copy is complete, and files tied to one topic."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from schemas.control import HEADER as CONTROL_HEADER
from streams.history_index import HistoryIndex, IndexMismatch, IndexNotBound
from streams.pipeline.history import IndexedHistory
from streams.topic_identity import TopicIdentity

TOPIC = "events.validated"
IDENTITY = TopicIdentity("cluster-1", TOPIC, "topic-id-1", 4, 1)
ROWS = [
    (0, "cm-a", b"a0"),
    (1, "cm-b", b"b1"),
    (2, "cm-a", b"a2"),
    (4, "cm-c", b"c4"),  # 3: a transaction marker, or a control record (never indexed)
    (5, "cm-a", b"a5"),
]


def _index(tmp_path: Path) -> HistoryIndex:
    index = HistoryIndex(tmp_path, TOPIC)
    index.bind(IDENTITY)
    return index


def test_a_manager_reads_their_own_records_below_an_offset_in_offset_order(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.add(0, reversed(ROWS))  # any order in, offset order out
    assert index.manager(0, "cm-a", 6) == [b"a0", b"a2", b"a5"]
    assert index.manager(0, "cm-a", 5) == [b"a0", b"a2"]
    assert index.manager(0, "cm-a", 0) == []
    assert index.manager(0, "cm-z", 6) == []
    # only the rows handed out are counted: another manager's records are never read
    assert index.rows_read == 5


def test_the_managers_before_an_offset_are_those_with_a_record_there(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.add(0, ROWS[3:])
    index.add(0, ROWS[:3])  # a lower offset added later still counts as the manager's first
    assert index.managers(0, 6) == ["cm-a", "cm-b", "cm-c"]
    assert index.managers(0, 4) == ["cm-a", "cm-b"]
    assert index.managers(0, 1) == ["cm-a"]
    assert index.managers(1, 6) == []  # partitions are files of their own


def test_adding_a_batch_again_changes_nothing_and_covered_only_grows(tmp_path: Path) -> None:
    index = _index(tmp_path)
    assert index.covered(0) == 0
    index.add(0, ROWS, covered=6)
    index.add(0, ROWS[:2], covered=2)  # read again after an aborted transaction
    assert index.covered(0) == 6
    assert index.manager(0, "cm-a", 10) == [b"a0", b"a2", b"a5"]


def test_the_index_outlives_the_process_and_a_reset_topic_starts_empty(tmp_path: Path) -> None:
    first = _index(tmp_path)
    first.add(0, ROWS, covered=6)
    first.close()
    again = _index(tmp_path)
    assert again.covered(0) == 6 and again.managers(0, 6) == ["cm-a", "cm-b", "cm-c"]
    # The topic deleted and created again: a new id, a new file, nothing of the old topic.
    again.bind(TopicIdentity("cluster-1", TOPIC, "topic-id-2", 4, 1))
    assert again.covered(0) == 0 and again.managers(0, 6) == []
    again.close()


def test_a_file_of_another_topic_is_refused_with_what_to_do(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.add(0, ROWS)
    index.close()
    other = HistoryIndex(tmp_path, TOPIC)
    other.bind(TopicIdentity("cluster-2", TOPIC, "topic-id-1", 4, 1))  # same id, other cluster
    with pytest.raises(IndexMismatch, match="Delete it"):
        other.covered(0)
    with pytest.raises(IndexNotBound):
        HistoryIndex(tmp_path, TOPIC).covered(0)
    with pytest.raises(ValueError):
        HistoryIndex(tmp_path, TOPIC).bind(TopicIdentity("c", "events.accepted", "x", 4, 1))


@dataclass
class _Message:
    """As much of an aiokafka ConsumerRecord as the history reads."""

    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


def _messages(rows: list[tuple[int, str, bytes]]) -> list[_Message]:
    return [_Message(offset, cm.encode(), value) for offset, cm, value in rows]


def test_the_stage_notes_batches_and_covered_follows_them_when_nothing_is_missing(tmp_path: Path) -> None:
    index = _index(tmp_path)
    history = IndexedHistory(index, "unused:9092", TOPIC, 0)
    control = _Message(3, None, b"{}", ((CONTROL_HEADER, b"rescore"),))
    asyncio.run(history.note([*_messages(ROWS[:3]), control]))
    asyncio.run(history.note(_messages(ROWS[3:])))
    assert index.covered(0) == 6
    assert index.managers(0, 6) == ["cm-a", "cm-b", "cm-c"]  # the control record is not an event
    # read without touching the topic: nothing was missing
    assert asyncio.run(history.manager("cm-a", 5)) == [b"a0", b"a2"]
    assert history.read_from_topic == 0


def test_a_first_batch_past_what_the_index_holds_leaves_covered_behind(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.add(0, ROWS[:2], covered=2)
    history = IndexedHistory(index, "unused:9092", TOPIC, 0)
    asyncio.run(history.note(_messages(ROWS[3:])))  # offsets 2 and 3 were scored elsewhere
    assert index.covered(0) == 2  # until the gap is filled from the topic at the first read
