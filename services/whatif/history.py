"""Reading what a preview scores, straight from Kafka (committed records only, no consumer group):
the published versions of the competition, everyone's org moves, and the validated history one
partition at a time (a manager's events all live in one partition, so a partition's managers are
scored and dropped before the next is read: the peak is one partition's raw bytes).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from schemas.control import HEADER as CONTROL_HEADER
from schemas.errors import Rejection
from schemas.topics import Topics
from schemas.wire_json import load_json
from services.whatif.errors import HistoryUnavailable
from services.whatif.plan import HistoryPlan, type_of
from streams.admin import BrokerUnavailable, partitions_of
from streams.core.errors import CoreError
from streams.core.rules import Competition, parse_competition
from streams.follow import read_range, reader
from streams.rules_feed import STATUS_ORDER


@dataclass
class ReadCounts:
    records: int = 0  # validated records read (from the time cut on)
    kept: int = 0  # of those, the ones of a type the preview needs
    skipped: int = 0  # validated records before the time cut, never fetched
    org: int = 0  # org moves read from the org topic


@dataclass
class PartitionHistory:
    partition: int
    by_cm: dict[str, list[bytes]]  # canonical event bytes, as written


async def published_versions(bootstrap: str, topics: Topics, competition_id: str) -> list[Competition]:
    """The versions the workers score with (published or closed, each in its furthest status)."""
    prefix = f"{competition_id}:".encode()
    best: dict[int, Competition] = {}
    try:
        for partition in await partitions_of(bootstrap, topics.competitions):
            tp = TopicPartition(topics.competitions, partition)
            async for batch in read_range(bootstrap, tp):
                for m in batch:
                    if m.value is None or not (m.key or b"").startswith(prefix):
                        continue
                    try:
                        comp = parse_competition(load_json(m.value))
                    except (Rejection, ValueError, CoreError, RecursionError):
                        continue  # the rules feed skips it too
                    if comp.id != competition_id or comp.status == "draft":
                        continue
                    known = best.get(comp.version)
                    if known is None or STATUS_ORDER[comp.status] > STATUS_ORDER[known.status]:
                        best[comp.version] = comp
    except (KafkaError, BrokerUnavailable) as exc:
        raise HistoryUnavailable(f"cannot read {topics.competitions}: {exc}") from None
    return [best[v] for v in sorted(best)]


async def org_moves(bootstrap: str, topics: Topics, counts: ReadCounts) -> dict[str, list[bytes]]:
    """Every manager's org.changed events, whole (the org topic is compacted, never cut by time)."""
    out: dict[str, list[bytes]] = {}
    try:
        for partition in await partitions_of(bootstrap, topics.org):
            async for batch in read_range(bootstrap, TopicPartition(topics.org, partition)):
                for m in batch:
                    if m.value is None:
                        continue
                    try:
                        cm_id = json.loads(m.value)["data"]["cm_id"]
                    except (ValueError, KeyError, TypeError):
                        continue  # the read model skips it too
                    out.setdefault(str(cm_id), []).append(m.value)
                    counts.org += 1
    except (KafkaError, BrokerUnavailable) as exc:
        raise HistoryUnavailable(f"cannot read {topics.org}: {exc}") from None
    return out


async def start_offsets(bootstrap: str, topic: str, plan: HistoryPlan) -> dict[int, tuple[int, int]]:
    """Per partition: (first offset to read, end offset as of now)."""
    partitions = await partitions_of(bootstrap, topic)
    tps = [TopicPartition(topic, p) for p in partitions]
    async with reader(bootstrap) as consumer:
        ends = await consumer.end_offsets(tps)
        starts = dict.fromkeys(tps, 0)
        if plan.since is not None:
            found = await consumer.offsets_for_times(dict.fromkeys(tps, int(plan.since.timestamp() * 1000)))
            starts = {tp: (hit.offset if hit is not None else ends[tp]) for tp, hit in found.items()}
    return {tp.partition: (starts[tp], ends[tp]) for tp in tps}


async def validated_history(
    bootstrap: str, topics: Topics, plan: HistoryPlan, counts: ReadCounts, partitions: list[int] | None = None
) -> AsyncIterator[PartitionHistory]:
    """The validated topic's events the plan wants, one partition at a time (these partitions, or
    all), grouped by manager."""
    try:
        bounds = await start_offsets(bootstrap, topics.validated, plan)
        for partition, (start, stop) in sorted(bounds.items()):
            if partitions is not None and partition not in partitions:
                continue
            counts.skipped += start
            by_cm: dict[str, list[bytes]] = {}
            tp = TopicPartition(topics.validated, partition)
            async for batch in read_range(bootstrap, tp, start, stop):
                counts.records += len(batch)
                for m in batch:
                    value = m.value
                    if value is None or (m.headers and _is_control(m.headers)):
                        continue
                    if not plan.wants(type_of(value)):
                        continue
                    counts.kept += 1
                    by_cm.setdefault((m.key or b"").decode(), []).append(value)
            yield PartitionHistory(partition, by_cm)
    except (KafkaError, BrokerUnavailable) as exc:
        raise HistoryUnavailable(f"cannot read {topics.validated}: {exc}") from None


def _is_control(headers: Sequence[tuple[str, bytes]]) -> bool:
    return any(k == CONTROL_HEADER for k, _ in headers)
