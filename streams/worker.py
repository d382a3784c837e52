"""One worker process: the rules feed and the three batched loops, built from its settings."""

from __future__ import annotations

import asyncio
import logging

from streams.admin import BrokerUnavailable
from streams.dedup_changelog import ChangelogMismatch, SeenChangelog
from streams.dedup_store import DedupStore
from streams.history_index import HistoryIndex
from streams.pipeline import fault
from streams.pipeline.checkpoints import Checkpoints
from streams.pipeline.deduplicating import DedupStage
from streams.pipeline.loop import BatchLoop
from streams.pipeline.scoring import ScoreStage
from streams.pipeline.validating import ValidateStage
from streams.rules_feed import RulesFeed
from streams.settings import StreamSettings
from streams.topic_identity import describe

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, settings: StreamSettings) -> None:
        topics = settings.topics
        fault.arm(settings.fault)
        self._bootstrap = settings.kafka_bootstrap
        self.rules = RulesFeed(settings.kafka_bootstrap, topics.competitions)
        self.dedup_store = DedupStore(settings.dedup_path, topics.accepted)
        self.dedup_changelog = SeenChangelog(settings.kafka_bootstrap, topics.dedup_seen)
        self.history_index = HistoryIndex(settings.history_path, topics.validated)
        checkpoints = Checkpoints(settings.state_checkpoint_seconds, settings.state_idle_seconds)
        score = ScoreStage(settings.kafka_bootstrap, topics, self.rules, self.history_index, checkpoints)
        self.loops = [
            BatchLoop(settings, ValidateStage(topics, settings.limits)),
            BatchLoop(settings, DedupStage(topics, self.dedup_store, self.dedup_changelog)),
            BatchLoop(settings, score),
        ]

    async def run(self) -> None:
        try:
            await self._bind_dedup_store()
            await asyncio.gather(
                _supervised("rules", self.rules.run),
                *(_supervised(loop.stage.name, loop.run) for loop in self.loops),
            )
        finally:
            self.dedup_store.close()
            self.history_index.close()

    async def _bind_dedup_store(self) -> None:
        """Tie the seen ids to the accepted topic and the changelog as they exist now
        (streams/dedup_store.py, streams/dedup_changelog.py)."""
        topic, changelog = self.dedup_store.topic, self.dedup_changelog.topic
        while True:
            try:
                found = await describe(self._bootstrap, [topic, changelog])
                if topic in found and changelog in found:
                    self.dedup_changelog.bind(found[changelog], found[topic])
                    self.dedup_store.bind(found[topic])
                    log.info("worker: dedup store bound to %s (topic id %s)", topic, found[topic].topic_id)
                    return
                missing = [name for name in (topic, changelog) if name not in found]
                log.warning("worker: %s does not exist; looking again in 2 s", " and ".join(missing))
            except BrokerUnavailable as exc:
                log.warning("worker: %s; looking again in 2 s", exc)
            except ChangelogMismatch as exc:
                # The loops do not start (the worker is not ready) until an operator fixes it.
                log.error("worker: %s Looking again in 2 s.", exc)
            except Exception:
                # Nothing may end the pipeline task here: the loops would never start.
                log.exception("worker: cannot look up %s; looking again in 2 s", topic)
            await asyncio.sleep(2.0)


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
