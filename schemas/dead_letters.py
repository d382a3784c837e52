"""How a rejected message travels: a bounded copy of its original bytes as the value, the reason
and where it came from in headers.

The copy is the original cut to `keep` bytes (by default the message limit, 64 KiB): a door may
refuse something far larger than Kafka takes, and its dead letter must still fit. The headers
say how big the original was, its SHA-256 and whether the copy is cut, so a person can tell the
copy from the original and match it with the sender's file.

Reading one back (`from_record`) trusts nothing: a dead letter may have been written by hand.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from schemas.errors import Rejection
from schemas.wire_json import load_json

REASON = "dlq.reason"
DETAIL = "dlq.detail"
SOURCE_TOPIC = "dlq.source.topic"
SOURCE_PARTITION = "dlq.source.partition"
SOURCE_OFFSET = "dlq.source.offset"
ORIGINAL_SIZE = "dlq.original.size"
ORIGINAL_SHA256 = "dlq.original.sha256"
TRUNCATED = "dlq.truncated"
EVENT_ID = "dlq.event.id"  # when the refused input still names one: explain finds it by that id

KEEP_BYTES = 64 * 1024
MAX_DETAIL_CHARS = 1000
_EVENT_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")  # the envelope's own event_id pattern


def event_id_of(raw: bytes) -> str | None:
    """The event id a refused JSON input still names, if it names a well-formed one."""
    try:
        obj = load_json(raw)
    except Rejection:
        return None
    value = obj.get("event_id") if isinstance(obj, dict) else None
    return well_formed_id(value)


def well_formed_id(value: object) -> str | None:
    return value if isinstance(value, str) and _EVENT_ID.fullmatch(value) else None


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    detail: str
    raw: bytes  # the original bytes, or the part of them a door kept (then `size` says how many)
    source_topic: str
    source_partition: int
    source_offset: int
    size: int | None = None  # the original's size when `raw` is not all of it
    sha256: str | None = None  # the original's digest when `raw` is not all of it
    keep: int = KEEP_BYTES
    event_id: str | None = None  # the input's event id, when it could be read (explain's key)

    @property
    def value(self) -> bytes:
        """What travels as the record's value: at most `keep` bytes of the original."""
        return self.raw[: self.keep]

    @property
    def original_size(self) -> int:
        return self.size if self.size is not None else len(self.raw)

    @property
    def original_sha256(self) -> str:
        return self.sha256 or hashlib.sha256(self.raw).hexdigest()

    @property
    def truncated(self) -> bool:
        return len(self.value) < self.original_size

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            (REASON, self.reason.encode()),
            (DETAIL, self.detail[:MAX_DETAIL_CHARS].encode("utf-8", "replace")),
            (SOURCE_TOPIC, self.source_topic.encode("utf-8", "replace")),
            (SOURCE_PARTITION, str(self.source_partition).encode()),
            (SOURCE_OFFSET, str(self.source_offset).encode()),
            (ORIGINAL_SIZE, str(self.original_size).encode()),
            (ORIGINAL_SHA256, self.original_sha256.encode()),
            (TRUNCATED, b"true" if self.truncated else b"false"),
            *(
                [(EVENT_ID, self.event_id.encode())]
                if well_formed_id(self.event_id) and self.event_id
                else []
            ),
        ]

    @classmethod
    def from_record(cls, value: bytes | None, headers: dict[str, bytes]) -> DeadLetter:
        """A dead letter as read from the topic: `raw` is the copy that travelled."""

        def text(name: str) -> str:
            return (headers.get(name) or b"").decode("utf-8", "replace")

        raw = value or b""
        size = _number(text(ORIGINAL_SIZE))
        digest = text(ORIGINAL_SHA256)
        return cls(
            reason=text(REASON),
            detail=text(DETAIL),
            raw=raw,
            source_topic=text(SOURCE_TOPIC),
            source_partition=_number(text(SOURCE_PARTITION), -1),
            source_offset=_number(text(SOURCE_OFFSET), -1),
            size=size if size >= 0 else None,
            sha256=digest if len(digest) == 64 else None,
            keep=max(len(raw), 1),
            event_id=well_formed_id(text(EVENT_ID)),
        )


def _number(text: str, missing: int = -1) -> int:
    """A header's integer; a hand-written header that is not one reads as `missing`."""
    text = text.strip()
    digits = text.removeprefix("-")
    if not digits or len(digits) > 19 or not (digits.isascii() and digits.isdigit()):
        return missing
    return int(text)
