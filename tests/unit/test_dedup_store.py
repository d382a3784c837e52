"""Dedup's seen ids belong to one topic of one cluster, not to a topic name."""

from __future__ import annotations

import shutil
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
