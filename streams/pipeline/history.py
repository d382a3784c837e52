"""A validated partition's earlier records read back from Kafka: the score stage's `History`
(streams/core/partition.py). The topic keeps the campaign year, so this is a manager's whole past."""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition

from schemas.control import HEADER as CONTROL_HEADER
from streams.follow import read_range
from streams.pipeline import fault


class KafkaHistory:
    def __init__(self, bootstrap: str, topic: str, partition: int) -> None:
        self._bootstrap = bootstrap
        self._tp = TopicPartition(topic, partition)

    async def manager(self, cm_id: str, before: int) -> list[bytes]:
        key = cm_id.encode()
        raw: list[bytes] = []
        async for batch in read_range(self._bootstrap, self._tp, 0, before):
            raw += [m.value for m in batch if m.key == key and m.value is not None and not is_control(m)]
        return raw

    async def everyone(self, before: int) -> dict[str, list[bytes]]:
        raw: dict[str, list[bytes]] = {}
        async for batch in read_range(self._bootstrap, self._tp, 0, before):
            for m in batch:
                if m.value is not None and not is_control(m):
                    raw.setdefault((m.key or b"").decode(), []).append(m.value)
        fault.point("score.rescore")  # the history read, the books not yet rebuilt
        return raw


def is_control(m: Any) -> bool:
    """An aiokafka record (untyped) carrying the control header (schemas/control.py)."""
    return any(k == CONTROL_HEADER for k, _ in m.headers or ())
