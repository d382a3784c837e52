"""Reading the raw history back from Kafka: every competition version ever published, and the
validated topic partition by partition, committed records only (streams/follow.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from aiokafka import TopicPartition

from schemas.control import HEADER as CONTROL_HEADER
from schemas.errors import Rejection
from schemas.wire_json import load_json
from services.verify.replay import HistoryRecord
from streams.admin import partitions_of
from streams.core.errors import CoreError
from streams.core.rules import Competition, parse_competition
from streams.follow import read_range

VersionKey = tuple[str, int, str]  # competition, version, status


async def definitions(bootstrap: str, topic: str) -> dict[VersionKey, Competition]:
    """Each (competition, version, status) on the compacted competitions topic, as the rules
    feed keeps them; unreadable records are skipped, as the rules feed skips them."""
    by_key: dict[bytes, Competition] = {}
    for partition in await partitions_of(bootstrap, topic):
        async for batch in read_range(bootstrap, TopicPartition(topic, partition)):
            for m in batch:
                if m.value is None:
                    by_key.pop(m.key or b"", None)
                    continue
                try:
                    by_key[m.key or b""] = parse_competition(load_json(m.value))
                except (Rejection, ValueError, CoreError, RecursionError):
                    continue
    return {(c.id, c.version, c.status): c for c in by_key.values()}


def _record(m: Any) -> HistoryRecord:
    """An aiokafka ConsumerRecord (untyped) as a HistoryRecord."""
    stamp = m.timestamp
    return HistoryRecord(
        partition=m.partition,
        offset=m.offset,
        key=m.key,
        value=m.value,
        control=any(k == CONTROL_HEADER for k, _ in m.headers or ()),
        timestamp=datetime.fromtimestamp(stamp / 1000, UTC) if stamp and stamp > 0 else None,
        headers=tuple(m.headers or ()),
    )


async def partition_batches(
    bootstrap: str,
    topic: str,
    partition: int,
    key: bytes | None = None,
    *,
    start: int = 0,
    stop: int | None = None,
) -> AsyncIterator[list[HistoryRecord]]:
    """One partition from `start` (its beginning) to `stop` (its end as of now), in batches;
    `key`: only its records."""
    async for batch in read_range(bootstrap, TopicPartition(topic, partition), start, stop):
        yield [_record(m) for m in batch if key is None or m.key == key]
