"""How many copies of each partition the cluster keeps, as the topics are created with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Replication:
    factor: int = 1
    # Writes need this many in-sync copies (producers use acks=all): with factor 3 and 2 here, one
    # broker can be down without losing an acknowledged write or refusing new ones.
    min_insync: int = 1

    def __post_init__(self) -> None:
        if self.factor < 1 or not 1 <= self.min_insync <= self.factor:
            raise ValueError(
                f"replication factor {self.factor} with min.insync.replicas {self.min_insync}: "
                "need 1 <= min.insync.replicas <= replication factor"
            )

    def topic_config(self) -> dict[str, str]:
        return {"min.insync.replicas": str(self.min_insync)}
