"""Runs one stage: a consumer group reads batches, the stage decides, one transaction per
partition writes.

Per batch (all of this worker's partitions of the input topic that had records):
  1. the stage turns each partition's records into output records (CPU only, or its own reads);
  2. per input partition, one Kafka transaction carries that partition's outputs *and* its consumed
     offset (send_offsets_to_transaction); `commit_transaction` waits for every acknowledgement.
     The partitions' transactions run side by side.
Killed anywhere before the commit, the transaction is aborted (by the broker, or at once when the
partition's next owner starts its producer): readers with read_committed never see its records,
the group's offsets stay where they were, and the batch is read again. Killed after it,
everything the batch caused is durable together with its progress. So progress is never ahead of
the outputs and states that claim it, and nothing is written twice.

Fencing (Kafka Streams' first exactly-once design): each input partition has its own
transactional id, `<group>-<topic>-<partition>`, whoever owns it. A worker that takes a partition
(or reads one again after a failed batch) first starts that partition's producer, whose
InitProducerId bumps the id's epoch: the previous owner's producer is fenced, so a worker that
stalled past its session and wakes cannot commit any more, and the broker aborts (or finishes)
that producer's open transaction before answering. Only then are the committed offsets fetched,
so they are final: aiokafka 0.14 fetches offsets without KIP-447's require_stable and commits
without the group generation, and this order is what makes that safe. Until then the partition
is paused. The comparison with a KIP-447 client (confluent-kafka) is in the README.

faust keeps the worker (its CLI, life cycle, logging); these loops use aiokafka directly: faust's
per-record path costs about ten times aiokafka's here, and its commits can pass records that
were never processed (docs/how-scoring-stays-right.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

from streams.pipeline import fault
from streams.pipeline.batch_send import send_batches
from streams.pipeline.stage import Out, Stage
from streams.settings import StreamSettings

log = logging.getLogger(__name__)

HOLD_RETRY_SECONDS = 1.0  # how soon a held partition is read again (a stage's hold is cheap to ask)
TAKE_OVER_RETRY_SECONDS = 1.0  # after a failed take-over (the broker away): try again this soon
PRODUCER_START_SECONDS = 60.0  # a producer start that hangs longer is given up and tried again
MAX_REQUEST_BYTES = 1_048_576  # the producer's limit on one record (and one request)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: BatchLoop) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Wait for the batch in flight: its transaction commits (or aborts) before another worker
        # may take these partitions and read their states.
        async with self._loop.busy:
            self._loop.stage.forget({tp.partition for tp in revoked})
            await self._loop.drop_producers({tp.partition for tp in revoked})
        if revoked:
            log.info("%s: revoked %s", self._loop.stage.name, sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        # Synchronously, before aiokafka fetches anything: the partitions wait, paused, until
        # their producers have fenced the previous owner (BatchLoop._take_over).
        consumer = self._loop.consumer
        assert consumer is not None
        self._loop.taken(consumer, set(assigned))
        if assigned:
            log.info("%s: assigned %s", self._loop.stage.name, sorted(tp.partition for tp in assigned))


class BatchLoop:
    def __init__(self, settings: StreamSettings, stage: Stage) -> None:
        self.settings = settings
        self.stage = stage
        self.group_id = f"{settings.app_id}-{stage.name}"
        self.busy = asyncio.Lock()
        self.batches = 0
        self.records = 0
        self.failures = 0
        self.last_error: str | None = None
        self.running = False  # inside the consume loop (False before start and after a failure)
        self.last_batch_at: float | None = None
        self.outputs: Counter[str] = Counter()  # records produced by committed batches, by topic
        self.batch_timer: Callable[[float], None] = lambda seconds: None  # streams/metrics.py sets it
        self._consumer: AIOKafkaConsumer | None = None
        self._producers: dict[int, AIOKafkaProducer] = {}  # by input partition
        self._positions: dict[TopicPartition, int] = {}  # committed, per partition
        self._fresh: set[TopicPartition] = set()  # paused until their producer fenced the last owner
        self._paused: dict[TopicPartition, float] = {}  # held by the stage: read again at this time

    def transactional_id(self, partition: int) -> str:
        """The same for whichever worker owns the partition: that is what fences the last one."""
        return f"{self.group_id}-{self.stage.topic}-{partition}"

    # -- clients ------------------------------------------------------------------------------

    def _new_consumer(self) -> AIOKafkaConsumer:
        s = self.settings
        return AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap,
            group_id=self.group_id,
            client_id=f"{self.group_id}-{s.worker_name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=int(s.session_timeout_seconds * 1000),
            heartbeat_interval_ms=int(s.heartbeat_interval_seconds * 1000),
            # A re-score replays history inside one batch; the group must not drop us meanwhile.
            max_poll_interval_ms=900_000,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )

    async def _new_producer(self, partition: int) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            transactional_id=self.transactional_id(partition),
            enable_idempotence=True,
            acks="all",
            linger_ms=0,  # our record batches are whole already (batch_send.py): no waiting for more
            max_batch_size=512 * 1024,
            max_request_size=MAX_REQUEST_BYTES,
            transaction_timeout_ms=self.settings.transaction_timeout_ms,
            request_timeout_ms=30_000,
        )
        try:
            # Initialises the transactions: fences the id's last producer and returns once its
            # open transaction is aborted, or its commit complete.
            await asyncio.wait_for(producer.start(), PRODUCER_START_SECONDS)
        except BaseException:
            await producer.stop()  # e.g. the broker is away: do not leave its connections behind
            raise
        return producer

    async def drop_producers(self, partitions: set[int]) -> None:
        for p in sorted(partitions):
            producer = self._producers.pop(p, None)
            if producer is not None:
                try:
                    await producer.stop()
                except Exception:
                    log.debug("%s: stopping the producer of %d raised", self.stage.name, p, exc_info=True)

    # -- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        consumer = self._consumer = self._new_consumer()
        await consumer.start()
        consumer.subscribe([self.stage.topic], listener=_Rebalance(self))
        log.info("%s: reading %s as %s", self.stage.name, self.stage.topic, self.group_id)
        try:
            self.running = True
            while True:
                if self._fresh:
                    async with self.busy:
                        await self._take_over(consumer)
                self._resume_due(consumer)
                batch = await self._next_batch(consumer)
                if batch:
                    async with self.busy:
                        await self._handle(consumer, batch)
                if self.stage.due():
                    async with self.busy:
                        await self._flush(consumer)
        finally:
            self.running = False
            await consumer.stop()
            await self.drop_producers(set(self._producers))

    @property
    def consumer(self) -> AIOKafkaConsumer | None:
        return self._consumer

    def taken(self, consumer: AIOKafkaConsumer, partitions: set[TopicPartition]) -> None:
        """Newly assigned, or to be read again after a failed transaction: pause them until
        `_take_over` has fenced whoever wrote them last and sought their committed offsets."""
        self.stage.forget({tp.partition for tp in partitions})
        owned = consumer.assignment()
        for tp in partitions:
            self._paused.pop(tp, None)
            if tp in owned:
                consumer.pause(tp)
                self._fresh.add(tp)

    async def _take_over(self, consumer: AIOKafkaConsumer) -> None:
        owned = consumer.assignment()
        self._fresh &= owned
        fresh = sorted(self._fresh, key=lambda tp: tp.partition)
        if not fresh:
            return
        partitions = {tp.partition for tp in fresh}
        try:
            await self.drop_producers(partitions)
            started = await asyncio.gather(
                *(self._new_producer(p) for p in sorted(partitions)), return_exceptions=True
            )
            for p, result in zip(sorted(partitions), started, strict=True):
                if isinstance(result, BaseException):
                    raise result
                self._producers[p] = result
            # Only now: every transaction that held these offsets has been aborted or completed.
            committed = await asyncio.gather(*(consumer.committed(tp) for tp in fresh))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "%s: taking over %s failed, again in %.0f s: %s",
                self.stage.name,
                sorted(partitions),
                TAKE_OVER_RETRY_SECONDS,
                self.last_error,
            )
            await asyncio.sleep(TAKE_OVER_RETRY_SECONDS)
            return
        self.stage.forget(partitions)
        for tp, offset in zip(fresh, committed, strict=True):
            if offset is None:
                await consumer.seek_to_beginning(tp)
                self._positions.pop(tp, None)
            else:
                consumer.seek(tp, offset)
                self._positions[tp] = offset
            self._fresh.discard(tp)
            consumer.resume(tp)
        self.stage.resumed({tp.partition: self._positions[tp] for tp in fresh if tp in self._positions})
        # The fault scenarios read this line: from here on the worker scores these partitions.
        log.info("%s: took over %s", self.stage.name, sorted(partitions))

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
        work = {
            tp: records for tp, records in batch.items() if tp in owned and tp not in self._fresh and records
        }
        if not work:
            return
        partitions = {tp.partition for tp in work}
        started = time.monotonic()
        try:
            outputs: dict[TopicPartition, list[Out]] = {}
            for tp, records in sorted(work.items(), key=lambda kv: kv[0].partition):
                outputs[tp] = await self.stage.process(tp.partition, records)
            # The consumer's position, not the last offset + 1: a transaction's commit marker
            # takes an offset too, and a group at the true end shows no lag.
            offsets = {
                tp: max(records[-1].offset + 1, await consumer.position(tp)) for tp, records in work.items()
            }
            held = {
                tp: hold.offset for tp in work if (hold := self.stage.holds.get(tp.partition)) is not None
            }
            offsets.update(held)  # the stage took the records before the hold only
        except asyncio.CancelledError:
            self.stage.forget(partitions)
            raise
        except Exception as exc:
            self._failed(consumer, set(work), exc)
            return
        done = await self._commit_all(consumer, outputs, offsets)
        if done:
            self._hold(consumer, {tp: offset for tp, offset in held.items() if tp in done})
            self.last_batch_at = time.time()
            self.batches += 1
            self.records += sum(len(work[tp]) for tp in done)
            self.batch_timer(time.monotonic() - started)

    async def _flush(self, consumer: AIOKafkaConsumer) -> None:
        """What the stage stores between batches (the score stage's checkpoints of a partition
        gone quiet, streams/pipeline/checkpoints.py): in a transaction of the partition's
        producer, which commits the partition's offset as it is."""
        due = self.stage.due()
        work = [
            tp
            for tp in sorted(consumer.assignment(), key=lambda tp: tp.partition)
            if tp.partition in due and tp not in self._fresh and tp in self._positions
        ]
        if not work:
            return
        outputs: dict[TopicPartition, list[Out]] = {}
        try:
            for tp in work:
                outputs[tp] = await self.stage.flush(tp.partition)
        except asyncio.CancelledError:
            self.stage.forget({tp.partition for tp in work})
            raise
        except Exception as exc:
            self._failed(consumer, set(work), exc)
            return
        outputs = {tp: out for tp, out in outputs.items() if out}  # nothing to store: no transaction
        if outputs:
            await self._commit_all(consumer, outputs, {tp: self._positions[tp] for tp in outputs})

    async def _commit_all(
        self,
        consumer: AIOKafkaConsumer,
        outputs: dict[TopicPartition, list[Out]],
        offsets: dict[TopicPartition, int],
    ) -> set[TopicPartition]:
        """Each partition's outputs and offset in its own transaction, side by side; the
        partitions committed (the others are read again from their committed offsets)."""
        work = list(outputs)
        partitions = {tp.partition for tp in work}
        try:
            results = await asyncio.gather(
                *(self._commit(tp, outputs[tp], offsets[tp]) for tp in work), return_exceptions=True
            )
        except asyncio.CancelledError:
            self.stage.forget(partitions)
            raise
        done = {tp for tp, r in zip(work, results, strict=True) if r is None}
        failed = {tp: r for tp, r in zip(work, results, strict=True) if r is not None}
        for r in failed.values():
            if not isinstance(r, Exception):
                self.stage.forget(partitions)
                raise r  # a cancellation or an exit: not a batch failure
        if done:
            self.stage.committed({tp.partition for tp in done})
            self._positions.update({tp: offsets[tp] for tp in done})
            self.outputs.update(o.topic for tp in done for o in outputs[tp])
        if failed:
            first = next(iter(failed.values()))
            assert isinstance(first, Exception)
            self._failed(consumer, set(failed), first)
        return done

    async def _commit(self, tp: TopicPartition, outputs: list[Out], offset: int) -> None:
        """One input partition's outputs and offset in one transaction of its own producer."""
        producer = self._producers.get(tp.partition)
        if producer is None:
            raise RuntimeError(f"no producer for partition {tp.partition}: taken over meanwhile")
        name = self.stage.name
        state_topic = self.settings.topics.scoring_state
        states = [i for i, o in enumerate(outputs) if o.topic == state_topic]
        midway = states[len(states) // 2] if len(states) > 1 else -1
        limit = MAX_REQUEST_BYTES
        async with producer.transaction():
            if midway >= 0:
                await send_batches(producer, outputs[:midway], limit)
                fault.point(f"{name}.states_midway")
                await send_batches(producer, outputs[midway:], limit)
            else:
                await send_batches(producer, outputs, limit)
            fault.point(f"{name}.sent")
            await producer.send_offsets_to_transaction({tp: offset}, self.group_id)
            fault.point(f"{name}.before_commit")

    def _failed(self, consumer: AIOKafkaConsumer, partitions: set[TopicPartition], exc: Exception) -> None:
        """These partitions' transactions did not commit: drop what the stage changed for them and
        read them again from their committed offsets, through a new producer each (the old one
        may be fenced or broken mid-transaction; the new one aborts what it left open)."""
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.error(
            "%s: batch failed, reading it again (partitions %s): %s",
            self.stage.name,
            sorted(tp.partition for tp in partitions),
            self.last_error,
            exc_info=exc,
        )
        self.taken(consumer, partitions)

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
                if tp not in self._fresh:
                    consumer.resume(tp)

    def lag(self) -> int | None:
        """Records behind the partitions' high watermarks as of the last fetch (None: unknown)."""
        behind = self.lag_by_partition()
        return None if behind is None else sum(behind.values())

    def lag_by_partition(self) -> dict[int, int] | None:
        """`lag` per assigned partition that has committed a batch here (None: not running)."""
        consumer = self._consumer
        if consumer is None or not self.running:
            return None
        behind: dict[int, int] = {}
        for tp in consumer.assignment():
            # read_committed: the last stable offset is as far as this consumer can get.
            end = consumer.last_stable_offset(tp)
            if end is None:
                end = consumer.highwater(tp)
            committed = self._positions.get(tp)
            if end is not None and committed is not None:
                behind[tp.partition] = max(0, end - committed)
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
