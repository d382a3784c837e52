"""The validation stream on the real broker: kcat in, canonical events or dead letters out."""

from __future__ import annotations

import hashlib
import json
import subprocess

from schemas.dead_letters import REASON, DeadLetter
from schemas.topics import Topics
from tests.support.events import opened, wire
from tests.support.kafka import BOOTSTRAP, Record, produce, wait_for
from tests.support.processes import Process


def kcat_produce(topic: str, key: str, value: bytes) -> None:
    subprocess.run(
        ["kcat", "-P", "-b", BOOTSTRAP, "-t", topic, "-k", key],
        input=value + b"\n",
        check=True,
        timeout=30,
    )


async def test_event_from_kcat_arrives_validated(running_worker: Process, topics: Topics) -> None:
    event = opened("evt-kcat-1", cm_id="cm-kcat")
    kcat_produce(topics.raw, "cm-kcat", wire(event))

    (record,) = await wait_for(topics.validated, lambda rs: len(rs) >= 1)

    assert record.key == b"cm-kcat"
    assert record.value is not None
    canonical = json.loads(record.value)
    assert canonical["event_id"] == "evt-kcat-1"
    assert canonical["occurred_at"] == "2026-02-03T10:00:00+08:00"
    # Defaults filled in: downstream reads one canonical shape.
    assert canonical["data"]["channel"] == "other"


def _bad_inputs() -> dict[str, bytes]:
    base = opened("evt-bad")
    missing = json.loads(json.dumps(base))
    del missing["data"]["cm_id"]
    wrong_type = json.loads(json.dumps(base))
    wrong_type["data"]["new_firm"] = {"yes": 1}
    unknown_type = dict(base, type="loan.granted")
    unknown_version = dict(base, schema_version=7)
    future = dict(base, occurred_at="2099-01-01T00:00:00+08:00")
    oversized = dict(base, source="x" * 10, data=dict(base["data"], account_id="a" * 64))
    oversized["padding"] = "p" * (70 * 1024)
    return {
        "malformed_json": b'{"event_id": "evt-bad", "type": ',
        "missing_field": wire(missing),
        "wrong_type": wire(wrong_type),
        "unknown_type": wire(unknown_type),
        "unknown_version": wire(unknown_version),
        "future_time": wire(future),
        "oversized": wire(oversized),
        "empty": b"",
    }


async def test_every_bad_input_lands_in_dead_letters_with_its_reason(
    running_worker: Process, topics: Topics
) -> None:
    bad = _bad_inputs()
    good = opened("evt-after-the-junk")
    await produce(topics.raw, [(b"k", value) for value in bad.values()] + [(b"k", wire(good))])

    letters = await wait_for(topics.dead_letters, lambda rs: len(rs) >= len(bad), settle=1.0)
    # The agent kept running through all of them: the good event behind the junk got through.
    validated = await wait_for(topics.validated, lambda rs: len(rs) >= 1)

    by_reason = {r.headers[REASON].decode(): DeadLetter.from_record(r.value, r.headers) for r in letters}
    assert sorted(by_reason) == sorted(bad)
    for reason, original in bad.items():
        letter = by_reason[reason]
        # The original travels whole up to the dead-letter limit; beyond it, cut, with its true
        # size and digest beside it.
        assert original.startswith(letter.raw), f"{reason}: the copy must be the original's bytes"
        assert letter.original_size == len(original), reason
        assert letter.original_sha256 == hashlib.sha256(original).hexdigest(), reason
        assert letter.truncated == (len(original) > len(letter.raw)), reason
        assert letter.detail, f"{reason}: a person needs a message to act on"
        assert letter.source_topic == topics.raw
        assert letter.source_offset >= 0
    assert "cm_id" in by_reason["missing_field"].detail
    assert "new_firm" in by_reason["wrong_type"].detail
    assert "loan.granted" in by_reason["unknown_type"].detail
    # Whatever still reads as JSON naming an event id carries it (dlq.event.id): explain finds it.
    unnamed = {"malformed_json", "empty"}
    assert {r: by_reason[r].event_id for r in bad} == {r: None if r in unnamed else "evt-bad" for r in bad}
    assert [json.loads(r.value or b"")["event_id"] for r in validated] == ["evt-after-the-junk"]
    assert "Traceback" not in running_worker.output()


async def test_duplicate_is_counted_once_and_not_reemitted(running_worker: Process, topics: Topics) -> None:
    event = wire(opened("evt-dup", cm_id="cm-dup"))
    # Different keys put the copies on different raw partitions; they still meet in dedup.
    await produce(topics.raw, [(b"a", event), (b"b", event), (b"c", event)])
    await produce(topics.raw, [(b"cm-dup", wire(opened("evt-other", cm_id="cm-dup")))])

    def both_seen(rs: list[Record]) -> bool:
        return len(rs) >= 2

    validated = await wait_for(topics.validated, both_seen, settle=2.0)
    duplicates = await wait_for(topics.duplicates, lambda rs: len(rs) >= 2)

    ids = [json.loads(r.value or b"")["event_id"] for r in validated]
    assert sorted(ids) == ["evt-dup", "evt-other"]
    assert [json.loads(r.value or b"")["event_id"] for r in duplicates] == ["evt-dup", "evt-dup"]
    assert max(json.loads(r.value or b"")["copies"] for r in duplicates) == 3
