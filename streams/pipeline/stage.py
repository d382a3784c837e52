"""What a stage of the pipeline is to the loop that runs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Out:
    """One record to produce. `partition` None: the default partitioner places it by key."""

    topic: str
    key: bytes | None
    value: bytes | None
    partition: int | None = None
    headers: Headers | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """A partition the stage stopped short on: the records from `offset` on were not taken. The
    loop commits up to `offset` and reads the partition from there again a little later."""

    offset: int
    reason: str  # for /readyz


class Stage(Protocol):
    name: str
    topic: str  # the input topic
    parked: int  # records this stage sent to the dead letters since start-up
    holds: dict[int, Hold]  # set by `process` for a partition it stopped short on, else cleared

    async def process(self, partition: int, records: list[Any]) -> list[Out]:
        """One partition's batch, in offset order, to the records it causes. May keep state in
        memory: it counts as durable only once the loop's transaction commits (`committed`)."""
        ...

    def committed(self, partitions: set[int]) -> None:
        """The batch's transaction committed: what `process` changed for these partitions holds."""
        ...

    def forget(self, partitions: set[int]) -> None:
        """Revoked, or an error aborted the transaction: drop every cache of these partitions."""
        ...

    def resumed(self, committed: dict[int, int]) -> None:
        """Taken over (or read again after an error) at these committed offsets, by partition."""
        ...

    def due(self) -> set[int]:
        """Partitions with something to store between batches (`flush`); empty for most stages."""
        ...

    async def flush(self, partition: int) -> list[Out]:
        """What to store for the partition now, between batches; the loop commits it in the
        partition's transaction with its offset unchanged."""
        ...


class StoredWithItsBatch:
    """The between-batches hooks of a stage that stores everything with the batch that causes
    it (validate, dedup): nothing to load on a take-over, nothing to store in between."""

    def resumed(self, committed: dict[int, int]) -> None:
        """Nothing to load."""

    def due(self) -> set[int]:
        return set()

    async def flush(self, partition: int) -> list[Out]:
        return []
