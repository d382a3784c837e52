"""The API replica's read model: replays the compacted standings and org topics from the
beginning, keeps following them, and reads the competitions with the workers' own `RulesFeed`.

No consumer group: every replica reads every partition itself, so replicas never share work and
each one holds the whole picture. aiokafka's errors stop here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from schemas.topics import Topics
from services.readmodel.board import Board, Leaderboard
from streams.admin import partitions_of
from streams.core.rules import Competition, RankingKind
from streams.core.standing import Standing
from streams.rules_feed import RulesFeed

log = logging.getLogger(__name__)


class ReadModel:
    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self.board = Board()
        self._rules = RulesFeed(bootstrap, topics.competitions, on_change=self._rules_changed)
        self._wakeup = asyncio.Event()  # set and replaced on every change
        self._tasks: list[asyncio.Task[None]] = []
        self.standings_ready = asyncio.Event()
        self.org_ready = asyncio.Event()

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._rules.run(), name="readmodel-rules"),
            asyncio.create_task(
                self._follow(self._topics.standings, self.board.put, self.standings_ready),
                name="readmodel-standings",
            ),
            asyncio.create_task(
                self._follow(self._topics.org, self.board.put_org, self.org_ready), name="readmodel-org"
            ),
        ]
        for task in self._tasks:
            task.add_done_callback(_report_death)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    @property
    def ready(self) -> bool:
        """Caught up with the competitions, standings and org topics as they were at start-up."""
        return self._rules.ready.is_set() and self.standings_ready.is_set() and self.org_ready.is_set()

    @property
    def revision(self) -> int:
        return self.board.revision

    async def wait_for_change(self, after: int, timeout: float) -> int:
        """The revision once it is past `after`, or the current one after `timeout` s (for push)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.revision <= after and (left := deadline - loop.time()) > 0:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), left)
        return self.revision

    # -- the questions the API asks ---------------------------------------------------------

    def competitions(self) -> list[Competition]:
        return self.board.competitions()

    def competition(self, competition_id: str) -> Competition:
        return self.board.competition(competition_id)

    def version(self, competition_id: str, version: int) -> Competition | None:
        return self.board.version(competition_id, version)

    def leaderboard(self, competition_id: str, ranking: RankingKind) -> Leaderboard:
        return self.board.leaderboard(competition_id, ranking)

    def standing(self, competition_id: str, cm_id: str) -> Standing | None:
        return self.board.standing(competition_id, cm_id)

    # -- feeding ----------------------------------------------------------------------------

    def _rules_changed(self) -> None:
        if self.board.set_competitions(self._rules.versions()):
            self._notify()

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def _follow(
        self, topic: str, put: Callable[[bytes | None, bytes | None], bool], ready: asyncio.Event
    ) -> None:
        """Every partition of a compacted topic from offset 0, then on; `ready` once caught up."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in await self._partitions(topic)]
            # A fresh assignment with auto_offset_reset=earliest reads from offset 0 (see
            # tests/support/kafka.py for why there is no explicit seek).
            consumer.assign(tps)
            targets = await consumer.end_offsets(tps)
            pending = {tp for tp in tps if targets[tp] > 0}
            while True:
                try:
                    batch = await consumer.getmany(timeout_ms=500)
                except KafkaError as exc:
                    log.warning("readmodel: reading %s failed, retrying: %s", topic, exc)
                    await asyncio.sleep(1.0)
                    continue
                changed = False
                for tp, messages in batch.items():
                    for m in messages:
                        changed = put(m.key, m.value) or changed
                    if messages and messages[-1].offset + 1 >= targets.get(tp, 0):
                        pending.discard(tp)
                if changed:
                    self._notify()
                if not pending and not ready.is_set():
                    log.info("readmodel: caught up with %s (revision %d)", topic, self.revision)
                    ready.set()
        finally:
            await consumer.stop()

    async def _partitions(self, topic: str) -> list[int]:
        for _ in range(120):
            found = await partitions_of(self._bootstrap, topic)
            if found:
                return found
            await asyncio.sleep(0.5)
        raise RuntimeError(f"topic {topic} not found")


def _report_death(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("readmodel: %s stopped: %r", task.get_name(), task.exception())
