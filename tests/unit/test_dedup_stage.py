"""The dedup stage without Kafka: the decision per batch, its changelog record, and the restore
that brings a new machine's empty store up to what the changelog holds."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from schemas.records import CM_HEADER, EVENT_ID_HEADER, TYPE_HEADER
from schemas.topics import Topics
from streams.dedup_changelog import (
    IDS_PER_RECORD,
    ChangelogMismatch,
    ChangelogNotBound,
    Restored,
    SeenBatch,
    SeenChangelog,
    decode,
    encode_all,
)
from streams.dedup_store import DedupStore
from streams.pipeline import deduplicating
from streams.pipeline.deduplicating import DedupStage
from streams.pipeline.stage import Out
from streams.topic_identity import TopicIdentity
from tests.support.events import joined, opened, wire

TOPICS = Topics("unit.")
ACCEPTED_ID = "accepted-1"
DAY_MS = 24 * 3600 * 1000
T0 = 1_800_000_000.0  # the stage's clock, epoch seconds


class FakeChangelog:
    """The changelog topic as a list of committed batches per partition."""

    topic = TOPICS.dedup_seen
    topic_id = "changelog-1"

    def __init__(self) -> None:
        self.batches: dict[int, list[SeenBatch]] = {}
        self.restores: list[int] = []

    def commit(self, partition: int, outs: list[Out]) -> None:
        for o in outs:
            if o.topic == self.topic:
                assert o.partition == partition and o.value is not None
                self.batches.setdefault(partition, []).append(decode(o.value))

    async def restore(self, store: DedupStore, partition: int, accepted_id: str, since: int) -> Restored:
        self.restores.append(partition)
        kept = [b for b in self.batches.get(partition, []) if b.accepted_id == accepted_id and b.at >= since]
        for b in kept:
            store.record(partition, b.first, b.copies, b.at)
        n = len(self.batches.get(partition, []))
        return Restored(0, n, len(kept), n - len(kept))

    async def end(self, partition: int) -> int:
        return len(self.batches.get(partition, []))


def accepted(offset: int, event: dict[str, Any], *, headers: tuple[str, ...] | None = None) -> Any:
    """As validate writes it; `headers` keeps only the headers named."""
    value = wire(event)
    hs = [
        (EVENT_ID_HEADER, event["event_id"].encode()),
        (CM_HEADER, event["data"]["cm_id"].encode()),
        (TYPE_HEADER, event["type"].encode()),
    ]
    if headers is not None:
        hs = [(k, v) for k, v in hs if k in headers]
    return SimpleNamespace(
        offset=offset, key=event["data"]["cm_id"].encode(), value=value, headers=hs, topic=TOPICS.accepted
    )


def stage(directory: Path, changelog: FakeChangelog, clock: list[float]) -> DedupStage:
    store = DedupStore(directory, TOPICS.accepted)
    store.bind(TopicIdentity("cluster", TOPICS.accepted, ACCEPTED_ID, partitions=4, replicas=1))
    return DedupStage(TOPICS, store, changelog, now=lambda: clock[0])  # type: ignore[arg-type]


def topics_of(outs: list[Out]) -> list[str]:
    return [o.topic.removeprefix("unit.") for o in outs]


async def test_a_batch_writes_its_new_ids_as_one_changelog_record_in_its_own_partition(
    tmp_path: Path,
) -> None:
    changelog, clock = FakeChangelog(), [T0]
    dedup = stage(tmp_path, changelog, clock)
    outs = await dedup.process(2, [accepted(0, opened("e1")), accepted(1, opened("e2"))])
    assert topics_of(outs) == ["events.validated", "events.validated", "dedup.seen"]
    record = decode(outs[-1].value or b"")
    assert outs[-1].partition == 2
    assert record == SeenBatch(ACCEPTED_ID, int(T0 * 1000), {"e1": 0, "e2": 1}, {})


async def test_a_copy_is_dropped_and_its_count_goes_to_the_changelog(tmp_path: Path) -> None:
    changelog, clock = FakeChangelog(), [T0]
    dedup = stage(tmp_path, changelog, clock)
    changelog.commit(0, await dedup.process(0, [accepted(0, opened("e1"))]))
    outs = await dedup.process(0, [accepted(5, opened("e1")), accepted(6, opened("e1"))])
    assert topics_of(outs) == ["events.duplicates", "events.duplicates", "dedup.seen"]
    assert [json.loads(o.value or b"")["copies"] for o in outs[:2]] == [2, 3]
    assert decode(outs[-1].value or b"").copies == {"e1": 3}


async def test_a_batch_read_again_after_an_abort_is_sent_again_with_its_changelog_record(
    tmp_path: Path,
) -> None:
    changelog, clock = FakeChangelog(), [T0]
    dedup = stage(tmp_path, changelog, clock)
    await dedup.process(0, [accepted(0, opened("e1"))])  # its transaction aborted: not committed
    dedup.forget({0})
    outs = await dedup.process(0, [accepted(0, opened("e1"))])
    assert topics_of(outs) == ["events.validated", "dedup.seen"]
    # The aborted record never reached the changelog: the new one carries the id.
    assert decode(outs[-1].value or b"").first == {"e1": 0}


async def test_a_new_machine_restores_the_ids_from_the_changelog_and_drops_a_copy(tmp_path: Path) -> None:
    changelog, clock = FakeChangelog(), [T0]
    first = stage(tmp_path / "machine-a", changelog, clock)
    changelog.commit(1, await first.process(1, [accepted(0, opened("e1")), accepted(1, opened("e2"))]))
    changelog.commit(1, await first.process(1, [accepted(2, opened("e1"))]))  # a copy: count 2

    changelog.restores.clear()
    other = stage(tmp_path / "machine-b", changelog, clock)  # no local files
    outs = await other.process(1, [accepted(3, opened("e1")), accepted(4, opened("e3"))])
    assert changelog.restores == [1]
    assert topics_of(outs) == ["events.duplicates", "events.validated", "dedup.seen"]
    dup = json.loads(outs[0].value or b"")
    assert (dup["copies"], dup["first_offset"]) == (3, 0)


async def test_the_changelog_of_an_earlier_accepted_topic_is_not_restored(tmp_path: Path) -> None:
    changelog, clock = FakeChangelog(), [T0]
    changelog.batches[0] = [SeenBatch("accepted-before-the-reset", int(T0 * 1000), {"e1": 7}, {})]
    dedup = stage(tmp_path, changelog, clock)
    outs = await dedup.process(0, [accepted(0, opened("e1"))])
    assert topics_of(outs) == ["events.validated", "dedup.seen"]


async def test_an_id_is_remembered_for_the_window_only(tmp_path: Path) -> None:
    changelog, clock = FakeChangelog(), [T0]
    dedup = stage(tmp_path, changelog, clock)
    changelog.commit(0, await dedup.process(0, [accepted(0, opened("e1"))]))
    clock[0] = T0 + 59 * DAY_MS / 1000
    assert topics_of(await dedup.process(0, [accepted(1, opened("e1"))]))[0] == "events.duplicates"
    clock[0] = T0 + 61 * DAY_MS / 1000
    assert topics_of(await dedup.process(0, [accepted(2, opened("e1"))]))[0] == "events.validated"
    # A new machine restoring the same changelog then knows no more than this one.
    other = stage(tmp_path / "other", changelog, clock)
    assert topics_of(await other.process(0, [accepted(3, opened("e1"))]))[0] == "events.validated"


async def test_a_revoked_partition_reads_the_changelog_again_on_its_next_batch(tmp_path: Path) -> None:
    changelog, clock = FakeChangelog(), [T0]
    dedup = stage(tmp_path, changelog, clock)
    await dedup.process(0, [accepted(0, opened("e1"))])
    await dedup.process(0, [accepted(1, opened("e2"))])
    assert changelog.restores == [0]
    dedup.forget({0})
    await dedup.process(0, [accepted(2, opened("e3"))])
    assert changelog.restores == [0, 0]


async def test_each_record_is_parsed_at_most_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[bytes] = []
    real = orjson.loads

    def counting(value: bytes) -> Any:
        parsed.append(value)
        return real(value)

    monkeypatch.setattr(deduplicating.orjson, "loads", counting)
    dedup = stage(tmp_path, FakeChangelog(), [T0])
    org = joined("cm-1", "sb-1", event_id="org-1")
    records = [
        accepted(0, org, headers=(TYPE_HEADER,)),  # the id, the manager and the org key: one parse
        accepted(1, opened("e1"), headers=()),  # the id and the manager: one parse
        accepted(2, opened("e2")),  # every header: no parse
    ]
    outs = await dedup.process(0, records)
    assert topics_of(outs) == [
        "events.validated",
        "org.members",
        "events.validated",
        "events.validated",
        "dedup.seen",
    ]
    assert [real(v)["event_id"] for v in list(parsed)] == ["org-1", "e1"]


async def test_a_record_without_an_event_id_is_parked(tmp_path: Path) -> None:
    dedup = stage(tmp_path, FakeChangelog(), [T0])
    broken = SimpleNamespace(offset=0, key=b"k", value=b"{not json", headers=[], topic=TOPICS.accepted)
    outs = await dedup.process(0, [broken])
    assert topics_of(outs) == ["events.deadletter"]
    assert dedup.parked == 1


def test_a_big_batch_goes_to_the_changelog_in_records_of_bounded_size() -> None:
    first = {f"e{i}": i for i in range(IDS_PER_RECORD + 10)}
    values = encode_all(SeenBatch(ACCEPTED_ID, 1, first, {"e1": 2}))
    assert len(values) == 2
    batches = [decode(v) for v in values]
    assert {e: n for b in batches for e, n in b.first.items()} == first
    assert [b.copies for b in batches] == [{}, {"e1": 2}]
    longest = SeenBatch(
        ACCEPTED_ID, 1, {"x" * 120 + f"{i:08d}": 10**12 + i for i in range(IDS_PER_RECORD)}, {}
    )
    assert len(encode_all(longest)[0]) < 1_000_000


def test_a_changelog_with_other_partitions_than_the_accepted_topic_is_refused() -> None:
    changelog = SeenChangelog("127.0.0.1:1", TOPICS.dedup_seen)
    accepted_topic = TopicIdentity("cluster", TOPICS.accepted, ACCEPTED_ID, partitions=4, replicas=1)
    with pytest.raises(ChangelogMismatch, match="has 2 partitions"):
        changelog.bind(
            TopicIdentity("cluster", TOPICS.dedup_seen, "c", partitions=2, replicas=1), accepted_topic
        )
    with pytest.raises(ChangelogNotBound):
        assert changelog.topic_id
    changelog.bind(TopicIdentity("cluster", TOPICS.dedup_seen, "c", partitions=4, replicas=1), accepted_topic)
    assert changelog.topic_id == "c"
