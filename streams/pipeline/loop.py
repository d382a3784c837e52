"""Runs one stage: a consumer group reads batches, the stage decides, one transaction writes.

Per batch (all of this worker's partitions of the input topic that had records):
  1. the stage turns each partition's records into output records (CPU only, or its own reads);
  2. one Kafka transaction carries every output *and* the consumed offsets
     (send_offsets_to_transaction); `commit_transaction` waits for every acknowledgement.
Killed anywhere before the commit, the transaction is aborted (by the broker, or at once when the
restarted worker's producer with the same transactional id starts): readers with
read_committed never see its records, the group's offsets stay where they were, and the batch is
read again. Killed after it, everything the batch caused is durable together with its progress.
So progress is never ahead of the outputs and states that claim it, and nothing is written twice.

faust keeps the worker (its CLI, life cycle, logging); these loops use aiokafka directly: faust's
per-record path costs about ten times aiokafka's here, and its commits can pass records that
were never processed (docs/how-scoring-stays-right.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

from streams.pipeline import fault
from streams.pipeline.stage import Out, Stage
from streams.settings import StreamSettings

log = logging.getLogger(__name__)

HOLD_RETRY_SECONDS = 1.0  # how soon a held partition is read again (a stage's hold is cheap to ask)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: BatchLoop) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Wait for the batch in flight: its transaction commits (or aborts) before another worker
        # may take these partitions and read their states.
        async with self._loop.busy:
            self._loop.stage.forget({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._loop.stage.forget({tp.partition for tp in assigned})
        if assigned:
            log.info("%s: assigned %s", self._loop.stage.name, sorted(tp.partition for tp in assigned))


class BatchLoop:
    def __init__(self, settings: StreamSettings, stage: Stage) -> None:
        self.settings = settings
        self.stage = stage
        self.group_id = f"{settings.app_id}-{stage.name}"
        self.transactional_id = f"{settings.app_id}-{stage.name}-{settings.worker_name}"
        self.busy = asyncio.Lock()
        self.batches = 0
        self.records = 0
        self.failures = 0
        self.last_error: str | None = None
        self.running = False  # inside the consume loop (False before start and after a failure)
        self.last_batch_at: float | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._positions: dict[TopicPartition, int] = {}  # committed, per partition
        self._rewind = False  # a batch failed: seek back to the committed offsets before reading on
        self._paused: dict[TopicPartition, float] = {}  # held by the stage: read again at this time

    # -- clients ------------------------------------------------------------------------------

    def _new_consumer(self) -> AIOKafkaConsumer:
        s = self.settings
        return AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=int(s.session_timeout_seconds * 1000),
            heartbeat_interval_ms=int(s.heartbeat_interval_seconds * 1000),
            # A re-score replays history inside one batch; the group must not drop us meanwhile.
            max_poll_interval_ms=900_000,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            transactional_id=self.transactional_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            max_batch_size=512 * 1024,
            max_request_size=1_048_576,
            transaction_timeout_ms=self.settings.transaction_timeout_ms,
            request_timeout_ms=30_000,
        )
        try:
            await producer.start()  # initialises the transactions: aborts our predecessor's open one
        except BaseException:
            await producer.stop()  # e.g. the broker is away: do not leave its connections behind
            raise
        return producer

    # -- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        consumer = self._consumer = self._new_consumer()
        await consumer.start()
        self._producer = await self._new_producer()
        consumer.subscribe([self.stage.topic], listener=_Rebalance(self))
        log.info("%s: reading %s as %s", self.stage.name, self.stage.topic, self.group_id)
        try:
            self.running = True
            while True:
                if self._rewind:
                    await self._rewind_to_committed(consumer)
                self._resume_due(consumer)
                batch = await self._next_batch(consumer)
                if batch:
                    async with self.busy:
                        await self._handle(consumer, batch)
        finally:
            self.running = False
            await consumer.stop()
            if self._producer is not None:
                await self._producer.stop()

    async def _next_batch(self, consumer: AIOKafkaConsumer) -> dict[TopicPartition, list[Any]]:
        limit = self.settings.batch_max_records
        batch: dict[TopicPartition, list[Any]] = await consumer.getmany(timeout_ms=500, max_records=limit)
        count = sum(len(v) for v in batch.values())
        if 0 < count < limit // 4:
            # A trickle: wait a moment for more, so a burst becomes one transaction, not many.
            more = await consumer.getmany(timeout_ms=self.settings.batch_wait_ms, max_records=limit - count)
            for tp, records in more.items():
                batch.setdefault(tp, []).extend(records)
        return batch

    async def _handle(self, consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[Any]]) -> None:
        owned = consumer.assignment()
        work = {tp: records for tp, records in batch.items() if tp in owned and records}
        if not work:
            return
        partitions = {tp.partition for tp in work}
        try:
            outputs: list[Out] = []
            for tp, records in sorted(work.items(), key=lambda kv: kv[0].partition):
                outputs += await self.stage.process(tp.partition, records)
            # The consumer's position, not the last offset + 1: a transaction's commit marker
            # takes an offset too, and a group at the true end shows no lag.
            offsets = {
                tp: max(records[-1].offset + 1, await consumer.position(tp)) for tp, records in work.items()
            }
            held = {
                tp: hold.offset for tp in work if (hold := self.stage.holds.get(tp.partition)) is not None
            }
            offsets.update(held)  # the stage took the records before the hold only
            await self._commit(outputs, offsets)
            self._positions.update(offsets)
            self._hold(consumer, held)
        except asyncio.CancelledError:
            self.stage.forget(partitions)
            raise
        except Exception as exc:
            await self._recover(consumer, partitions, exc)
            return
        self.stage.committed(partitions)
        self.last_batch_at = time.time()
        self.batches += 1
        self.records += sum(len(r) for r in work.values())

    async def _commit(self, outputs: list[Out], offsets: dict[TopicPartition, int]) -> None:
        producer = self._producer
        assert producer is not None
        name = self.stage.name
        state_topic = self.settings.topics.scoring_state
        states = [i for i, o in enumerate(outputs) if o.topic == state_topic]
        midway = states[len(states) // 2] if len(states) > 1 else -1
        async with producer.transaction():
            pending: list[asyncio.Future[Any]] = []
            for i, o in enumerate(outputs):
                if i == midway:
                    await asyncio.gather(*pending)
                    fault.point(f"{name}.states_midway")
                pending.append(
                    await producer.send(
                        o.topic, value=o.value, key=o.key, partition=o.partition, headers=o.headers
                    )
                )
            if pending:
                await asyncio.gather(*pending)
            fault.point(f"{name}.sent")
            await producer.send_offsets_to_transaction(offsets, self.group_id)
            fault.point(f"{name}.before_commit")

    async def _recover(self, consumer: AIOKafkaConsumer, partitions: set[int], exc: Exception) -> None:
        """The transaction did not commit: drop what the stage changed, read the batch again."""
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.exception("%s: batch failed, reading it again: %s", self.stage.name, exc)
        self.stage.forget(set(range(self.settings.partitions)) | partitions)
        # The producer may be unusable (fenced, or failed mid-transaction): start a new one with
        # the same transactional id, which also aborts whatever the old one left open.
        if self._producer is not None:
            try:
                await self._producer.stop()
            except Exception:
                log.debug("%s: stopping the failed producer raised", self.stage.name, exc_info=True)
        await asyncio.sleep(0.5)
        self._producer = await self._new_producer()
        # The rewind to the committed offsets happens before the next fetch, outside the lock a
        # rebalance waits on: asking the group coordinator from in here could wait on that
        # rebalance in turn.
        self._rewind = True

    def _hold(self, consumer: AIOKafkaConsumer, held: dict[TopicPartition, int]) -> None:
        """Read held partitions again from their hold, after a pause (the others go on meanwhile)."""
        for tp, offset in held.items():
            consumer.seek(tp, offset)
            consumer.pause(tp)
            self._paused[tp] = time.monotonic() + HOLD_RETRY_SECONDS

    def _resume_due(self, consumer: AIOKafkaConsumer) -> None:
        if not self._paused:
            return
        now, assigned = time.monotonic(), consumer.assignment()
        for tp, at in list(self._paused.items()):
            if tp not in assigned:
                del self._paused[tp]  # revoked: its next owner starts from the committed hold
            elif at <= now:
                del self._paused[tp]
                consumer.resume(tp)

    async def _rewind_to_committed(self, consumer: AIOKafkaConsumer) -> None:
        self._rewind = False
        for tp in consumer.assignment():
            committed = await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)

    def lag(self) -> int | None:
        """Records behind the partitions' high watermarks as of the last fetch (None: unknown)."""
        consumer = self._consumer
        if consumer is None or not self.running:
            return None
        behind = 0
        for tp in consumer.assignment():
            # read_committed: the last stable offset is as far as this consumer can get.
            end = consumer.last_stable_offset(tp)
            if end is None:
                end = consumer.highwater(tp)
            committed = self._positions.get(tp)
            if end is not None and committed is not None:
                behind += max(0, end - committed)
        return behind

    def status(self) -> dict[str, Any]:
        assigned = sorted(tp.partition for tp in self._consumer.assignment()) if self._consumer else []
        return {
            "stage": self.stage.name,
            "running": self.running,
            "partitions": assigned,
            "batches": self.batches,
            "records": self.records,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_batch_at": self.last_batch_at,
            "lag": self.lag(),
            "holds": {str(p): h.reason for p, h in sorted(self.stage.holds.items())},
        }
