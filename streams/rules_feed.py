"""Every worker's copy of the published rules, read from the compacted competitions topic.

Each worker reads all partitions itself (no consumer group): rules are small, and scoring on any
partition needs all of them. Scoring waits until the feed has caught up with the topic as it was
at start-up, so a restarted worker never scores an event with fewer rules than it had before.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.admin import partitions_of
from streams.core.catalog import Catalog
from streams.core.errors import CoreError
from streams.core.rules import Competition, parse_competition

log = logging.getLogger(__name__)


class RulesFeed:
    def __init__(self, bootstrap: str, topic: str, on_change: Callable[[], None] | None = None) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._on_change = on_change
        self._versions: dict[str, Competition] = {}
        self.catalog = Catalog([])
        self.ready = asyncio.Event()
        self._changed = asyncio.Condition()

    def versions(self) -> list[Competition]:
        """Every version read so far, drafts included (the catalog leaves drafts out)."""
        return list(self._versions.values())

    def knows(self, competition_id: str, version: int, status: str) -> bool:
        comp = self._versions.get(f"{competition_id}:{version}")
        return comp is not None and comp.status == status

    async def wait_for(self, competition_id: str, version: int, status: str, timeout: float = 60.0) -> bool:
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.knows(competition_id, version, status)), timeout
                )
            except TimeoutError:
                return False
        return True

    def _take(self, key: bytes | None, value: bytes | None) -> None:
        name = (key or b"").decode()
        if value is None:
            self._versions.pop(name, None)  # a tombstone withdraws a version
            return
        try:
            comp = parse_competition(json.loads(value))
        except (ValueError, CoreError) as exc:
            # The API validates before publishing; a hand-written bad record must not stop scoring.
            log.error("rules: ignoring invalid competition record %s: %s", name, exc)
            return
        self._versions[name] = comp

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            partitions = await self._partitions()
            tps = [TopicPartition(self._topic, p) for p in partitions]
            consumer.assign(tps)
            targets = await consumer.end_offsets(tps)
            pending = {tp for tp in tps if targets[tp] > 0}
            if not pending:
                self.ready.set()
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for tp, messages in batch.items():
                    for m in messages:
                        self._take(m.key, m.value)
                    if tp in pending and messages and messages[-1].offset + 1 >= targets[tp]:
                        pending.discard(tp)
                if batch:
                    self.catalog = Catalog(self._versions.values())
                    if self._on_change is not None:
                        self._on_change()
                    async with self._changed:
                        self._changed.notify_all()
                if not pending and not self.ready.is_set():
                    log.info("rules: caught up, %d competition versions", len(self._versions))
                    self.ready.set()
        finally:
            await consumer.stop()

    async def _partitions(self) -> list[int]:
        for _ in range(120):
            found = await partitions_of(self._bootstrap, self._topic)
            if found:
                return found
            await asyncio.sleep(0.5)
        raise RuntimeError(f"topic {self._topic} not found")
