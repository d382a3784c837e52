"""Dedup's seen ids belong to one topic of one cluster, not to a topic name."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from streams.dedup_store import DedupStore, StoreMismatch, StoreNotBound
from streams.topic_identity import TopicIdentity

TOPIC = "unit.events.accepted"


def identity(topic_id: str, cluster_id: str = "cluster-a") -> TopicIdentity:
    return TopicIdentity(cluster_id=cluster_id, topic=TOPIC, topic_id=topic_id, partitions=4, replicas=1)


def test_ids_seen_in_a_topic_are_found_again_after_a_restart(tmp_path: Path) -> None:
    store = DedupStore(tmp_path, TOPIC)
    store.bind(identity("id-1"))
    store.record(0, {"e1": 10}, {})
    store.close()

    again = DedupStore(tmp_path, TOPIC)
    again.bind(identity("id-1"))
    assert again.lookup(0, ["e1", "e2"]) == {"e1": (10, 1)}
    again.close()


def test_a_topic_created_again_under_the_same_name_starts_with_no_ids(tmp_path: Path) -> None:
    store = DedupStore(tmp_path, TOPIC)
    store.bind(identity("id-1"))
    store.record(0, {"e1": 10}, {})
    # The topic was deleted and created again: Kafka gave it a new id, and its offsets start at 0.
    store.bind(identity("id-2"))
    assert store.lookup(0, ["e1"]) == {}
    store.record(0, {"e1": 0}, {})
    assert store.lookup(0, ["e1"]) == {"e1": (0, 1)}
    store.close()


def test_the_store_refuses_to_answer_before_it_knows_its_topic(tmp_path: Path) -> None:
    store = DedupStore(tmp_path, TOPIC)
    with pytest.raises(StoreNotBound):
        store.lookup(0, ["e1"])


def test_a_store_cannot_be_bound_to_another_topic(tmp_path: Path) -> None:
    store = DedupStore(tmp_path, TOPIC)
    with pytest.raises(ValueError, match="cannot serve"):
        store.bind(TopicIdentity("cluster-a", "unit.events.raw", "id-1", 4, 1))


def test_a_file_of_another_cluster_is_refused_with_its_name(tmp_path: Path) -> None:
    elsewhere = DedupStore(tmp_path / "b", TOPIC)
    elsewhere.bind(identity("id-1", cluster_id="cluster-b"))
    elsewhere.record(0, {"e1": 10}, {})
    elsewhere.close()
    # Someone copied the other cluster's files into this machine's dedup directory.
    here = DedupStore(tmp_path / "a", TOPIC)
    here.bind(identity("id-1", cluster_id="cluster-a"))
    (tmp_path / "a").mkdir()
    shutil.copy(elsewhere_path(tmp_path / "b"), here.path(0))

    with pytest.raises(StoreMismatch, match="cluster cluster-b") as refused:
        here.lookup(0, ["e1"])
    assert "Move it out of the dedup directory" in str(refused.value)


def elsewhere_path(directory: Path) -> Path:
    (path,) = directory.glob("*.sqlite3")
    return path


def test_the_checkpoint_belongs_to_one_changelog_topic(tmp_path: Path) -> None:
    store = DedupStore(tmp_path, TOPIC)
    store.bind(identity("id-1"))
    assert store.checkpoint(0, "changelog-1") == 0
    store.set_checkpoint(0, "changelog-1", 42)
    store.close()
    again = DedupStore(tmp_path, TOPIC)
    again.bind(identity("id-1"))
    assert again.checkpoint(0, "changelog-1") == 42
    # The changelog was deleted and created again: its offsets start anew, so read it all.
    assert again.checkpoint(0, "changelog-2") == 0
    assert again.checkpoint(1, "changelog-1") == 0
    again.close()


def test_ids_past_the_window_are_not_found_and_are_pruned(tmp_path: Path) -> None:
    store = DedupStore(tmp_path, TOPIC)
    store.bind(identity("id-1"))
    store.record(0, {"old": 1}, {}, at=1_000)
    store.record(0, {"new": 2}, {}, at=5_000)
    assert store.lookup(0, ["old", "new"], since=2_000) == {"new": (2, 1)}
    assert store.prune(0, before=2_000) == 1
    assert store.lookup(0, ["old", "new"]) == {"new": (2, 1)}
    store.close()


def test_a_restored_record_keeps_the_first_offset_and_only_raises_a_count(tmp_path: Path) -> None:
    store = DedupStore(tmp_path, TOPIC)
    store.bind(identity("id-1"))
    store.record(0, {"e1": 3}, {}, at=1_000)
    store.record(0, {}, {"e1": 4}, at=1_000)
    # The changelog's tail read again: an older count and the same first offset change nothing.
    store.record(0, {"e1": 3}, {"e1": 2}, at=2_000)
    assert store.lookup(0, ["e1"], since=1_000) == {"e1": (3, 4)}
    store.close()


def test_a_file_from_before_the_seen_times_keeps_its_ids(tmp_path: Path) -> None:
    store = DedupStore(tmp_path, TOPIC)
    store.bind(identity("id-1"))
    path = store.path(0)
    store.close()
    tmp_path.mkdir(exist_ok=True)
    with sqlite3.connect(path) as db:  # the schema of the files made before this change
        db.execute(
            "CREATE TABLE seen (event_id TEXT PRIMARY KEY, first_offset INTEGER NOT NULL, "
            "copies INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID"
        )
        db.execute("INSERT INTO seen (event_id, first_offset) VALUES ('e1', 7)")
    db.close()
    again = DedupStore(tmp_path, TOPIC)
    again.bind(identity("id-1"))
    assert again.lookup(0, ["e1"], since=1) == {"e1": (7, 1)}
    again.close()
