"""Validated events in; ledger entries, standings and managers' states out, per partition.

The decision is the pure `PartitionScorer` (streams/core/partition.py), the same one the
month-end verification replays with; this stage only moves bytes. A partition's states are read
from score.state on its first batch after an assignment (or after an error), the records after
their checkpoint are scored again without sending anything, and then they live in the scorer's
memory. At the end of a batch each changed manager gets one new standing per competition that
changed, in the batch's transaction (streams/pipeline/loop.py); the changed states are stored at
checkpoints (streams/pipeline/checkpoints.py), in the transaction of the batch that makes one or,
for a partition gone quiet, in a transaction of their own (`flush`).

Rules move with the partition: the competitions a partition scores with change only at a
re-score control record (schemas/control.py), at that record's position, and the set in force
is stored with the states ("@rules"). Award-period freezes move the same way (freeze control
records, kept in "@rules" too), and an entry's lateness is judged by when its event reached the
platform (the arrived_at header), never by this worker's clock. A replay after a crash therefore
sees the same rules and freezes at the same offsets and mints the same ledger entries, whenever
the rules feed learnt of a version.
A control record naming a version the rules feed does not have yet holds the partition at that
record (`holds`): the loop commits up to it and reads it again later; /readyz says why.

A manager's past comes from the local history index (streams/pipeline/history.py), which each
batch's records enter before they are scored; rebuilds run in a thread, so a re-score of a big
partition does not stop the heartbeats of the worker's consumer groups.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from aiokafka import TopicPartition

from schemas.dead_letters import DeadLetter
from schemas.records import (
    RULES_KEY,
    compress,
    freezes_of,
    pinned_of,
    rules_record,
    standing_key,
    through_of,
    to_json,
    unpack,
)
from schemas.topics import Topics
from streams.core.lateness import Freezes
from streams.core.partition import Outcome, PartitionScorer, Record, arrival_time
from streams.core.state import ParticipantState
from streams.follow import latest_by_key, read_range
from streams.history_index import HistoryIndex
from streams.pipeline.checkpoints import Checkpoints
from streams.pipeline.history import IndexedHistory, is_control
from streams.pipeline.stage import Hold, Out
from streams.rules_feed import RulesFeed
from streams.topic_identity import describe

log = logging.getLogger(__name__)

OFFLOAD_BYTES = 64 * 1024  # states' JSON below this is compressed in place (a thread hop costs more)


class ScoreStage:
    name = "score"

    def __init__(
        self,
        bootstrap: str,
        topics: Topics,
        rules: RulesFeed,
        index: HistoryIndex,
        checkpoints: Checkpoints,
    ) -> None:
        self.topic = topics.validated
        self._bootstrap = bootstrap
        self._topics = topics
        self._rules = rules
        self._index = index
        self._scorers: dict[int, PartitionScorer] = {}
        self._histories: dict[int, IndexedHistory] = {}
        self._through: dict[int, int] = {}  # one past the last record scored, per partition
        self._resumed: dict[int, int] = {}  # taken at this committed offset, not scored here yet
        self.checkpoints = checkpoints
        self.parked = 0
        self.holds: dict[int, Hold] = {}

    # -- the loop's hooks ---------------------------------------------------------------------

    def committed(self, partitions: set[int]) -> None:
        """States were changed in place; the transaction made them durable."""

    def forget(self, partitions: set[int]) -> None:
        for p in partitions:
            self._scorers.pop(p, None)
            self._histories.pop(p, None)
            self._through.pop(p, None)
            self._resumed.pop(p, None)
            self.holds.pop(p, None)
        self.checkpoints.forget(partitions)

    def resumed(self, committed: dict[int, int]) -> None:
        """Taken over: the states are brought up to date at once, not at the first new batch, so
        those the last owner had not stored reach the topic even if no record comes (`flush`)."""
        self._resumed.update(committed)

    def due(self) -> set[int]:
        """Partitions gone quiet with changed states not stored yet, and partitions taken over
        whose states are not loaded yet (the loop calls `flush` for each)."""
        due = self.checkpoints.due() & self._scorers.keys()
        if self._rules.ready.is_set():
            due |= self._resumed.keys()
        return due

    async def flush(self, partition: int) -> list[Out]:
        """Between batches: a checkpoint, or the states of a partition taken over loaded (scoring
        the tail its last owner had not stored) and stored at once when that changed any. The
        loop commits it with the partition's offset as it is."""
        committed = self._resumed.pop(partition, None)
        if committed is not None:
            if await self._scorer(partition, committed) is None:
                return []  # held: a record will bring it back (`process`)
            if not self.checkpoints.unsaved(partition):
                return []
        if partition not in self._scorers:
            return []
        return await self._checkpoint(partition)

    async def process(self, partition: int, records: list[Any]) -> list[Out]:
        await self._rules.ready.wait()
        self._resumed.pop(partition, None)
        scorer = await self._scorer(partition, records[0].offset)
        if scorer is None:
            return []  # held: the states cannot be scored up to date yet (`holds` says why)
        await self._histories[partition].note(records)  # before scoring: a rebuild may read them
        started = time.perf_counter()
        # Late is judged by when each record reached the platform, as verify judges it.
        outcome = await scorer.feed([_record(m) for m in records], arrival_time)
        if outcome.consumed:
            self._through[partition] = records[outcome.consumed - 1].offset + 1
        out = self._outputs(partition, scorer, outcome)
        must = outcome.rules_changed or bool(outcome.rescored)
        if self.checkpoints.scored(partition, outcome.dirty, rules_changed=must):
            out += await self._checkpoint(partition)
        for rescored in outcome.rescored:
            log.info(
                "score: partition %s re-scored %s over %d events (batch %.1f s)",
                partition,
                ", ".join(sorted(rescored.competitions)),
                rescored.events,
                time.perf_counter() - started,
            )
        self._hold(partition, outcome)
        return out

    def _outputs(self, partition: int, scorer: PartitionScorer, outcome: Outcome) -> list[Out]:
        """The batch's records: ledger entries, hand-overs, dead letters, changed standings."""
        topics = self._topics
        out = [Out(topics.ledger, e.cm_id.encode(), to_json(e.to_dict())) for e in outcome.entries]
        # A closing passed back to the account's opener (streams/core/handovers.py): into the
        # opener's history, in this batch's transaction, so it is there exactly when this state is.
        out += [
            Out(
                topics.validated,
                p.event.data.cm_id.encode(),
                p.event.model_dump_json().encode(),
                headers=list(p.headers) or None,
            )
            for p in outcome.passed
        ]
        for failure in outcome.failures:
            # (Kafka errors while reading history are not failures: the batch is retried.)
            self.parked += 1
            r = failure.record
            log.error("score: dead letter %s@%s/%s: %s", self.topic, partition, r.offset, failure.reason)
            letter = DeadLetter(
                "scoring_failed", failure.reason, r.value or b"", self.topic, partition, r.offset
            )
            out.append(Out(topics.dead_letters, r.key, letter.value, headers=letter.headers()))
        snapshot = scorer.snapshot(outcome.dirty)
        for standing in snapshot.standings:
            key = standing_key(standing["competition_id"], standing["cm_id"])
            out.append(Out(topics.standings, key, to_json(standing)))
        return out

    async def _checkpoint(self, partition: int) -> list[Out]:
        """The states changed since the last checkpoint, then the rules record that says where
        they are complete up to: one transaction stores both, or neither."""
        scorer = self._scorers[partition]
        states = [(cm.encode(), scorer.states[cm].to_json()) for cm in self.checkpoints.take(partition)]
        out = await self._states(partition, states)
        through = self._through[partition]
        rules = rules_record(scorer.pinned, scorer.freezes.to_dict(), through)
        out.append(Out(self._topics.scoring_state, RULES_KEY, rules, partition=partition))
        return out

    async def _states(self, partition: int, states: list[tuple[bytes, bytes]]) -> list[Out]:
        """The state records, last in the batch. Compressed in a thread when there is enough of
        them to be worth the hand-over: at a branch's steady rate nearly every event changes a
        manager's state, and zlib is a large part of that state's cost; it does not hold the GIL."""
        raws = [raw for _, raw in states]
        if sum(map(len, raws)) >= OFFLOAD_BYTES:
            blobs = await asyncio.to_thread(_compress_all, raws)
        else:
            blobs = _compress_all(raws)
        topic = self._topics.scoring_state
        return [
            Out(topic, key, blob, partition=partition) for (key, _), blob in zip(states, blobs, strict=True)
        ]

    def _hold(self, partition: int, outcome: Outcome) -> None:
        waiting = outcome.waiting
        if waiting is None:
            if self.holds.pop(partition, None) is not None:
                log.info("score: partition %s goes on", partition)
            return
        hold = Hold(waiting.offset, str(waiting))
        if self.holds.get(partition) != hold:
            log.warning("score: partition %s holds at offset %s, %s", partition, hold.offset, hold.reason)
        self.holds[partition] = hold

    # -- reading back -----------------------------------------------------------------------------

    async def _scorer(self, partition: int, committed: int) -> PartitionScorer | None:
        """The partition's scorer; made at its first batch (whose first record is at the
        committed offset) from the stored states and the records after their checkpoint. None
        when those records cannot be scored yet (a rule version unknown here: a hold)."""
        scorer = self._scorers.get(partition)
        if scorer is not None:
            return scorer
        blobs = await latest_by_key(self._bootstrap, TopicPartition(self._topics.scoring_state, partition))
        rules = blobs.pop(RULES_KEY, None)
        states = {key.decode(): ParticipantState.from_dict(unpack(blob)) for key, blob in blobs.items()}
        await self._bind_index()
        history = self._histories[partition] = IndexedHistory(
            self._index, self._bootstrap, self.topic, partition
        )
        scorer = PartitionScorer(
            history,
            self._rules,
            states=states,
            pinned=pinned_of(rules) if rules is not None else {},
            freezes=Freezes.from_dict(freezes_of(rules)) if rules is not None else None,
            offload=asyncio.to_thread,
        )
        # No rules record: nothing was ever stored, so every record before the committed offset
        # is scored again. One without `through` was written when every batch stored its states.
        through = through_of(rules) if rules is not None else 0
        start = committed if through is None else min(through, committed)
        changed = await self._replay(partition, scorer, start, committed)
        if changed is None:
            del self._histories[partition]  # made again, with the scorer, when the hold is read again
            return None
        self._scorers[partition] = scorer
        self._through[partition] = committed
        self.checkpoints.loaded(partition, changed)
        log.info(
            "score: partition %s: %d states, %d rule versions, offsets %d to %d scored again",
            partition,
            len(scorer.states),
            len(scorer.pinned),
            start,
            committed,
        )
        return scorer

    async def _replay(
        self, partition: int, scorer: PartitionScorer, start: int, stop: int
    ) -> set[str] | None:
        """Score the records from the checkpoint to the committed offset again, keeping the states
        and dropping what they cause (committed long ago). The managers changed, or None when a
        rule version the stored rules name is not known here yet (the partition holds)."""
        changed: set[str] = set()
        if start >= stop:
            return changed
        history = self._histories[partition]
        async for batch in read_range(self._bootstrap, TopicPartition(self.topic, partition), start, stop):
            await history.note(batch)
            outcome = await scorer.feed([_record(m) for m in batch], arrival_time)
            changed |= outcome.dirty
            if outcome.waiting is not None:
                self.holds[partition] = Hold(stop, f"scoring the states up to date: {outcome.waiting}")
                log.warning("score: partition %s holds: %s", partition, self.holds[partition].reason)
                return None
        return changed

    async def _bind_index(self) -> None:
        """Tie the index to the validated topic as it exists now, at every assignment: a topic
        deleted and created again while the worker runs gets an index of its own."""
        found = await describe(self._bootstrap, [self.topic])
        if self.topic not in found:
            raise LookupError(f"{self.topic} does not exist")  # the loop reads the batch again
        self._index.bind(found[self.topic])


def _compress_all(raws: list[bytes]) -> list[bytes]:
    return [compress(raw) for raw in raws]


def _record(m: Any) -> Record:
    """An aiokafka ConsumerRecord (untyped) as the scorer's record."""
    stamp = m.timestamp
    return Record(
        partition=m.partition,
        offset=m.offset,
        key=m.key,
        value=m.value,
        control=is_control(m),
        timestamp=datetime.fromtimestamp(stamp / 1000, UTC) if stamp and stamp > 0 else None,
        headers=tuple(m.headers or ()),
    )
