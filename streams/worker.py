"""One worker process: the rules feed and the three batched loops, built from its settings."""

from __future__ import annotations

import asyncio
import logging

from streams.dedup_store import DedupStore
from streams.pipeline import fault
from streams.pipeline.deduplicating import DedupStage
from streams.pipeline.loop import BatchLoop
from streams.pipeline.scoring import ScoreStage
from streams.pipeline.validating import ValidateStage
from streams.rules_feed import RulesFeed
from streams.settings import StreamSettings

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, settings: StreamSettings) -> None:
        topics = settings.topics
        fault.arm(settings.fault)
        self.rules = RulesFeed(settings.kafka_bootstrap, topics.competitions)
        self.dedup_store = DedupStore(settings.dedup_path, topics.accepted)
        self.loops = [
            BatchLoop(settings, ValidateStage(topics, settings.limits)),
            BatchLoop(settings, DedupStage(topics, self.dedup_store)),
            BatchLoop(settings, ScoreStage(settings.kafka_bootstrap, topics, self.rules)),
        ]

    async def run(self) -> None:
        try:
            await asyncio.gather(
                _supervised("rules", self.rules.run),
                *(_supervised(loop.stage.name, loop.run) for loop in self.loops),
            )
        finally:
            self.dedup_store.close()


async def _supervised(name: str, run: object) -> None:
    """Keep a part running: an error it could not handle itself is logged, and it starts again."""
    assert callable(run)
    while True:
        try:
            await run()
            return
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or task.cancelling():
                raise  # the worker is stopping
            # A cancellation nobody asked for: aiokafka can leak one from a timed-out request
            # while the broker is away. Letting it through would end the whole pipeline task.
            log.exception("worker: %s stopped by a stray cancellation; starting it again in 2 s", name)
            await asyncio.sleep(2.0)
        except Exception:
            log.exception("worker: %s stopped; starting it again in 2 s", name)
            await asyncio.sleep(2.0)
