"""Dedup's seen ids belong to the accepted topic Kafka has now: after the topic is deleted and
created again under the same name, an id seen in the old topic no longer drops an event, neither
from the local files nor from the changelog, which outlived the topic here."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from schemas.topics import Topics
from streams.topic_identity import describe
from tests.support.events import opened, wire
from tests.support.kafka import BOOTSTRAP, produce, read_all, wait_for
from tests.support.processes import worker


async def delete_topic(topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=15000)
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    deadline = time.monotonic() + 30
    while topic in await describe(BOOTSTRAP, [topic]):
        assert time.monotonic() < deadline, f"{topic} still there after 30 s"
        await asyncio.sleep(0.5)


async def test_ids_seen_in_a_deleted_accepted_topic_do_not_drop_events_of_the_new_one(
    prefix: str, topics: Topics, tmp_path: Path
) -> None:
    # One manager, so both events share a partition: e2 sits at offset 1 of events.accepted.
    await produce(
        topics.raw, [(b"cm-x", wire(opened("e1", cm_id="cm-x"))), (b"cm-x", wire(opened("e2", cm_id="cm-x")))]
    )
    first = worker(prefix, tmp_path, CAMPAIGNS_DEDUP_DIR=str(tmp_path / "dedup")).start()
    try:
        await wait_for(topics.validated, lambda rs: len(rs) >= 2)
    finally:
        first.stop()
    old_id = (await describe(BOOTSTRAP, [topics.accepted]))[topics.accepted].topic_id

    await delete_topic(topics.accepted)
    # e2 again, the first record of the new topic (offset 0): a store that kept the old topic's
    # ids would find e2 "seen at offset 1" and drop it as a duplicate.
    await produce(topics.raw, [(b"cm-x", wire(opened("e2", cm_id="cm-x")))])
    again = worker(prefix, tmp_path, name="again", CAMPAIGNS_DEDUP_DIR=str(tmp_path / "dedup")).start()
    try:
        validated = await wait_for(topics.validated, lambda rs: len(rs) >= 3, settle=2.0)
    finally:
        again.stop()

    new_id = (await describe(BOOTSTRAP, [topics.accepted]))[topics.accepted].topic_id
    assert new_id != old_id
    events = [r for r in validated if r.key == b"cm-x"]
    assert len(events) == 3, [r.value for r in validated]
    assert await read_all(topics.duplicates) == []
    assert f"dedup store bound to {topics.accepted} (topic id {new_id})" in again.output()
    # The changelog's record of the old topic was read and skipped.
    assert re.search(
        r"dedup: partition \d+: restored from \S+ offsets 0 to \d+ \(0 records, 1 skipped\)", again.output()
    )
