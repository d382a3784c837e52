"""How a rejected message travels: its original bytes as the value, the reason in headers."""

from __future__ import annotations

from dataclasses import dataclass

REASON = "dlq.reason"
DETAIL = "dlq.detail"
SOURCE_TOPIC = "dlq.source.topic"
SOURCE_PARTITION = "dlq.source.partition"
SOURCE_OFFSET = "dlq.source.offset"


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    detail: str
    raw: bytes
    source_topic: str
    source_partition: int
    source_offset: int

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            (REASON, self.reason.encode()),
            (DETAIL, self.detail.encode()),
            (SOURCE_TOPIC, self.source_topic.encode()),
            (SOURCE_PARTITION, str(self.source_partition).encode()),
            (SOURCE_OFFSET, str(self.source_offset).encode()),
        ]

    @classmethod
    def from_record(cls, value: bytes | None, headers: dict[str, bytes]) -> DeadLetter:
        def text(name: str) -> str:
            return headers.get(name, b"").decode("utf-8", "replace")

        return cls(
            reason=text(REASON),
            detail=text(DETAIL),
            raw=value or b"",
            source_topic=text(SOURCE_TOPIC),
            source_partition=int(text(SOURCE_PARTITION) or -1),
            source_offset=int(text(SOURCE_OFFSET) or -1),
        )
