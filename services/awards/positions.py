"""Where each stage of the pipeline stands against the end of its input: what the freeze gate
(services/awards/gate.py) checks. Reads Kafka only: end offsets (read_committed: the last stable
offset, so an open transaction's records are not waited for) and the consumer groups' committed
offsets. aiokafka's errors stop here (GateUnavailable).

The stages are checked in order, each against end offsets taken once the stage before it was
found caught up (or the wait ran out), so every output of what came before is already counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from schemas.topics import Topics
from services.awards.gate import Lag


class GateUnavailable(Exception):
    """Kafka did not answer: the gate cannot tell, so the freeze is refused (503)."""


@dataclass(frozen=True)
class Groups:
    """The consumer group of each stage."""

    validate: str
    dedup: str
    score: str
    sink: str

    @classmethod
    def of(cls, app_id: str, sink_name: str) -> Groups:
        # streams/pipeline/loop.py names a stage's group "<app_id>-<stage>".
        return cls(f"{app_id}-validate", f"{app_id}-dedup", f"{app_id}-score", sink_name)


def _inputs(topics: Topics, groups: Groups) -> list[tuple[str, str, list[str]]]:
    return [
        ("validate", groups.validate, [topics.raw]),
        ("dedup", groups.dedup, [topics.accepted]),
        ("score", groups.score, [topics.validated]),
        ("sink", groups.sink, [topics.ledger, topics.dead_letters]),
    ]


async def pipeline_lags(
    bootstrap: str,
    topics: Topics,
    groups: Groups,
    *,
    wait: float,
    stages: tuple[str, ...] = ("validate", "dedup", "score", "sink"),
    cut: Mapping[TopicPartition, int] | None = None,
) -> tuple[Lag, ...]:
    """Each stage's position against its input's end; a stage behind is waited for up to `wait`
    seconds in all (a stage under steady load commits every batch). `stages`: only these, in the
    pipeline's order; `cut`: the first one's targets, taken by the caller earlier (verify's cut),
    instead of its input's end now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, isolation_level="read_committed", enable_auto_commit=False
    )
    try:
        await admin.start()
        await consumer.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        out: list[Lag] = []
        for stage, group, names in _inputs(topics, groups):
            if stage not in stages:
                continue
            tps = await _partitions(admin, names)
            ends: Mapping[TopicPartition, int]
            if cut is not None and stage == stages[0]:
                tps, ends = [tp for tp in tps if tp in cut], cut
            else:
                ends = await consumer.end_offsets(tps) if tps else {}
            while True:
                committed = await admin.list_consumer_group_offsets(group, partitions=tps) if tps else {}
                lags = [
                    Lag(stage, tp.topic, tp.partition, ends[tp], _offset(committed.get(tp)))
                    for tp in sorted(tps, key=lambda t: (t.topic, t.partition))
                ]
                if all(lag.behind == 0 for lag in lags) or loop.time() >= deadline:
                    break
                await asyncio.sleep(0.25)
            out += lags
        return tuple(out)
    except KafkaError as exc:
        raise GateUnavailable(f"cannot read the pipeline's positions from Kafka: {exc}") from None
    finally:
        await consumer.stop()
        await admin.close()


def _offset(meta: object) -> int | None:
    offset = getattr(meta, "offset", None)
    return offset if isinstance(offset, int) and offset >= 0 else None


async def _partitions(admin: AIOKafkaAdminClient, names: list[str]) -> list[TopicPartition]:
    out: list[TopicPartition] = []
    for description in await admin.describe_topics(names):
        if description.get("error_code"):
            continue  # not created yet: nothing to wait for
        out += [TopicPartition(description["topic"], p["partition"]) for p in description["partitions"]]
    return out
