"""Kafka records to store rows: pure, so the mapping is tested without a broker."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from schemas.dead_letters import DeadLetter
from streams.core.ledger import LedgerEntry


def ledger_row(value: bytes) -> dict[str, Any]:
    return asdict(LedgerEntry.from_dict(json.loads(value)))


def dead_letter_row(
    topic: str, partition: int, offset: int, value: bytes | None, headers: dict[str, bytes]
) -> dict[str, Any]:
    """Keyed by the dead letter's own place in its topic, so a redelivery is stored once; the
    door it came through (raw topic and offset, or HTTP and line) is kept in the detail."""
    letter = DeadLetter.from_record(value, headers)
    origin = f"{letter.source_topic}@{letter.source_partition}:{letter.source_offset}"
    return {
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        "reason": letter.reason or "unknown",
        "detail": f"{letter.detail} (from {origin})",
        "raw": letter.raw,
        "event_id": _event_id(letter.raw),
    }


def _event_id(raw: bytes) -> str | None:
    """The event id when the bytes still say one: lets an operator find a rejected event."""
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    value = obj.get("event_id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None
