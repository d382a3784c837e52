"""Creates the project's topics before a worker or the API starts (idempotent)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError

from schemas.topics import Topics
from streams.replication import Replication

SINGLE_BROKER = Replication(1, 1)


class BrokerUnavailable(Exception):
    """The Kafka broker could not be reached or refused the request."""


@asynccontextmanager
async def admin_client(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    try:
        await admin.start()
    except KafkaConnectionError as exc:
        raise BrokerUnavailable(f"cannot reach Kafka at {bootstrap}: {exc}") from None
    try:
        yield admin
    finally:
        await admin.close()


# The validated topic is the scoring history: a rule change re-scores from it, so it must outlive
# the campaign year (and the month-end checks after it).
HISTORY_RETENTION_MS = 400 * 24 * 3600 * 1000

# How long dedup remembers an event id: a copy that arrives within this time of the first is
# dropped. Copies come from a client's retries (seconds), a daily extract sent twice (days) and a
# month's file loaded again after the month-end checks (weeks); 60 days covers a month and the
# month-end after it. Older copies pass dedup (an exact one is still absorbed by the scoring
# core). The window bounds dedup's changelog (retention) and its local files (pruned), so a
# partition restored on a new machine knows exactly the ids a machine that kept it knows.
DEDUP_WINDOW_MS = 60 * 24 * 3600 * 1000


def topic_config(name: str, topics: Topics, replication: Replication = SINGLE_BROKER) -> dict[str, str]:
    return replication.topic_config() | _retention(name, topics)


def _retention(name: str, topics: Topics) -> dict[str, str]:
    if name in topics.compacted():
        # Small segments and an eager cleaner: a restarted worker reads a partition's states
        # back, and should read little more than one record per manager.
        return {
            "cleanup.policy": "compact",
            "segment.bytes": str(16 * 1024 * 1024),
            "min.cleanable.dirty.ratio": "0.1",
        }
    if name == topics.validated:
        return {"retention.ms": str(HISTORY_RETENTION_MS)}
    if name == topics.dedup_seen:
        # Segments of a day, so the broker drops the ids past the window within a day of it
        # (retention deletes whole segments) and a restore reads little beyond the window.
        return {"retention.ms": str(DEDUP_WINDOW_MS), "segment.ms": str(24 * 3600 * 1000)}
    if name == topics.raw:
        # The broker stamps each record when it takes it: the arrival time that decides whether
        # an entry is late (streams/core/lateness.py). A sender's own CreateTime could be anything
        # (an extract replayed with last month's stamps), so it is not trusted.
        return {"message.timestamp.type": "LogAppendTime"}
    return {}


async def ensure_topics(
    bootstrap: str, topics: Topics, partitions: int, replication: Replication = SINGLE_BROKER
) -> list[str]:
    """Create missing topics; returns the names created. Existing topics are left as they are
    (their partition count is guarded by streams/layout/guard.py)."""
    async with admin_client(bootstrap) as admin:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name=name,
                num_partitions=1 if name == topics.layout else partitions,
                replication_factor=replication.factor,
                topic_configs=topic_config(name, topics, replication),
            )
            for name in topics.all()
            if name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except KafkaError as exc:
                # Another process may have created them between our list and create.
                if "TopicAlreadyExists" not in type(exc).__name__:
                    raise BrokerUnavailable(f"cannot create topics: {exc}") from None
        return [t.name for t in wanted]


async def partitions_of(bootstrap: str, topic: str) -> list[int]:
    """The topic's partition numbers, or [] when it does not exist (yet)."""
    async with admin_client(bootstrap) as admin:
        (description,) = await admin.describe_topics([topic])
    if description.get("error_code"):
        return []
    return sorted(p["partition"] for p in description["partitions"])
