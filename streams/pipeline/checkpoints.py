"""When the score stage stores its managers' states: at checkpoints, not after every batch.

A manager's state is tens of kilobytes of JSON. Stored after every batch, at a branch's steady
rate nearly every event rewrote one, and the states were most of what the score stage encoded,
compressed and sent (issue 17 measured freshness p50 544 ms with them, 144 ms without).

So a partition's changed states are kept in memory and stored together, in one batch's
transaction, at a checkpoint. The checkpoint's rules record ("@rules", schemas/records.py) says
the offset the stored states are complete up to (`through`). A worker that takes the partition
(or reads it again after a failed batch) loads the stored states and scores the records from
`through` to its committed offset again, sending nothing: their ledger entries and standings
were committed by the batches that first scored them. The scoring core is deterministic over
the records (the same entries whatever the batching, which the kill tests prove), so the states
it ends with are the ones the lost memory held.

A checkpoint is due:
- in a batch that changed the rules or freezes, or re-scored: the rules record then says what
  holds from there on, and no control record is ever scored again on the way back;
- in a batch when the last checkpoint is `every_seconds` old (0: every batch, as before);
- between batches, for a partition that had no batch for `idle_seconds`: a quiet partition's
  states reach the topic soon after its last event, so what is stored matches the ledger.
The records to score again after a crash are therefore at most `every_seconds` of traffic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Partition:
    saved_at: float  # when the last checkpoint was made (or the states were loaded)
    fed_at: float  # when the last batch was scored
    unsaved: set[str] = field(default_factory=set)  # managers changed since the last checkpoint


class Checkpoints:
    def __init__(
        self, every_seconds: float, idle_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.every_seconds = every_seconds
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._partitions: dict[int, _Partition] = {}

    def loaded(self, partition: int, unsaved: set[str]) -> None:
        """The partition's states were read back; `unsaved` changed in the records scored again."""
        now = self._clock()
        self._partitions[partition] = _Partition(saved_at=now, fed_at=now, unsaved=set(unsaved))

    def scored(self, partition: int, changed: set[str], *, rules_changed: bool) -> bool:
        """A batch changed these managers: True when it must end with a checkpoint."""
        now = self._clock()
        p = self._partitions.setdefault(partition, _Partition(saved_at=now, fed_at=now))
        p.unsaved |= changed
        p.fed_at = now
        if rules_changed:
            return True
        return bool(p.unsaved) and now - p.saved_at >= self.every_seconds

    def take(self, partition: int) -> list[str]:
        """The managers to store now, in order; from here on they count as stored."""
        now = self._clock()
        p = self._partitions.setdefault(partition, _Partition(saved_at=now, fed_at=now))
        taken = sorted(p.unsaved)
        p.unsaved.clear()
        p.saved_at = now
        return taken

    def due(self) -> set[int]:
        """Partitions with unsaved states whose checkpoint should not wait for another batch."""
        now = self._clock()
        return {
            partition
            for partition, p in self._partitions.items()
            if p.unsaved and (now - p.fed_at >= self.idle_seconds or now - p.saved_at >= self.every_seconds)
        }

    def unsaved(self, partition: int) -> int:
        p = self._partitions.get(partition)
        return len(p.unsaved) if p else 0

    def forget(self, partitions: set[int]) -> None:
        for partition in partitions:
            self._partitions.pop(partition, None)
