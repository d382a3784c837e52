"""The partition layout guard's decision, the replication settings and the topic metadata parser."""

from __future__ import annotations

import uuid

import pytest

from schemas.topics import Topics
from streams.admin import topic_config
from streams.layout import Mismatch, decode, encode, mismatches, refusal, setting_ignored
from streams.replication import Replication
from streams.settings import StreamSettings
from streams.topic_identity import TopicIdentity, identities


def test_same_counts_pass_and_a_topic_not_recorded_yet_is_no_mismatch() -> None:
    recorded = {"p.events.accepted": 4, "p.events.validated": 4}
    actual = {"p.events.accepted": 4, "p.events.validated": 4, "p.score.state": 4}
    assert mismatches(recorded, actual) == []


def test_a_grown_or_missing_topic_is_a_mismatch() -> None:
    recorded = {"p.events.accepted": 4, "p.events.validated": 4, "p.score.state": 4}
    actual = {"p.events.accepted": 4, "p.events.validated": 8}
    assert mismatches(recorded, actual) == [
        Mismatch("p.events.validated", 4, 8),
        Mismatch("p.score.state", 4, None),
    ]


def test_the_refusal_names_each_topic_and_what_to_do() -> None:
    text = refusal(
        [Mismatch("p.events.validated", 4, 8), Mismatch("p.score.state", 4, None)], "p.topics.layout"
    )
    assert "p.events.validated has 8 partitions, recorded with 4" in text
    assert "p.score.state is gone, recorded with 4" in text
    assert "python -m streams.layout grow" in text
    assert "kafka-topics --alter" in text


def test_a_layout_record_round_trips() -> None:
    assert decode(encode(12)) == 12


def test_the_layout_topic_is_compacted_and_not_partitioned_like_the_others() -> None:
    topics = Topics("p.")
    assert topics.layout in topics.all()
    assert topics.layout in topics.compacted()
    assert topics.layout not in topics.partitioned()
    assert len(topics.partitioned()) == len(topics.all()) - 1


def test_replication_comes_from_the_settings_and_defaults_to_one_broker() -> None:
    assert StreamSettings().replication == Replication(1, 1)
    cluster = StreamSettings(replication_factor=3, min_insync_replicas=2)
    assert cluster.replication == Replication(3, 2)
    topics = Topics("p.")
    assert topic_config(topics.validated, topics, cluster.replication)["min.insync.replicas"] == "2"
    assert topic_config(topics.standings, topics, cluster.replication)["cleanup.policy"] == "compact"


@pytest.mark.parametrize(("factor", "min_insync"), [(0, 1), (3, 4), (3, 0)])
def test_impossible_replication_is_refused(factor: int, min_insync: int) -> None:
    with pytest.raises(ValueError, match=r"min\.insync\.replicas"):
        Replication(factor, min_insync)


def test_metadata_v11_gives_the_cluster_and_topic_ids() -> None:
    topic_id = uuid.uuid4()

    def partition(index: int) -> dict[str, object]:
        return {"partition_index": index, "replica_nodes": [1, 2, 3]}

    metadata = {
        "cluster_id": "c-1",
        "topics": [
            {
                "error_code": 0,
                "name": "p.events.accepted",
                "topic_id": topic_id,
                "partitions": [partition(1), partition(0)],
            },
            # UNKNOWN_TOPIC_OR_PARTITION: left out
            {"error_code": 3, "name": "p.nope", "topic_id": uuid.UUID(int=0), "partitions": []},
        ],
    }
    assert identities(metadata) == {
        "p.events.accepted": TopicIdentity(
            "c-1", "p.events.accepted", str(topic_id), partitions=2, replicas=3
        )
    }


def test_a_partition_setting_that_differs_from_existing_topics_is_pointed_out() -> None:
    layout = {"p.events.validated": 4}
    assert setting_ignored(4, layout, "p.events.validated") is None
    assert setting_ignored(12, {}, "p.events.validated") is None  # nothing recorded yet
    note = setting_ignored(12, layout, "p.events.validated")
    assert note is not None
    assert "CAMPAIGNS_PARTITIONS is 12 but p.events.validated has 4 partitions" in note
    assert "docs/operations.md" in note
