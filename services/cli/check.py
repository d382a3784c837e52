"""Validation of extract rows with the shared contract: a pure step, no files and no Kafka."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.envelope import Envelope
from schemas.errors import Rejection, RejectReason
from schemas.routing import participant_of
from schemas.validate import Limits, decode, parse_object
from services.cli.rows import Oversized, Row

DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Accepted:
    line: int
    event: Envelope
    key: bytes  # data.cm_id: one partition holds all of a manager's history
    value: bytes  # the canonical JSON every consumer reads


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: RejectReason
    detail: str
    event_id: str | None = None


def check(
    rows: Iterable[tuple[int, Row]],
    now: datetime,
    *,
    source: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Accepted | Rejected]:
    """Each row accepted with its key and canonical value, or rejected with the validator's reason:
    one outcome per row, in order.

    `source` fills in the envelope's source where a row has none (extracts rarely carry one).
    """
    for line, row in rows:
        yield check_row(line, row, now, source=source, limits=limits)


def check_row(
    line: int, row: Row, now: datetime, *, source: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> Accepted | Rejected:
    """One row of `check`."""
    event_id = None
    try:
        if isinstance(row, Oversized):
            raise Rejection(RejectReason.OVERSIZED, f"row has {row.size} bytes, limit is {limits.max_bytes}")
        obj = decode(row, limits) if isinstance(row, bytes) else row
        event_id = _event_id(obj)
        if source is not None:
            obj = {"source": source, **obj}
        return _accept(line, parse_object(obj, now=now, limits=limits), limits)
    except Rejection as rejection:
        return Rejected(line, rejection.reason, rejection.detail, event_id)


def _accept(line: int, event: Envelope, limits: Limits) -> Accepted:
    try:
        key = participant_of(event)
    except ValueError as exc:
        raise Rejection(RejectReason.INVALID_VALUE, str(exc)) from None
    value = event.model_dump_json().encode()
    # A CSV row skips the byte limit of decode(); what we produce must still pass it downstream.
    if len(value) > limits.max_bytes:
        raise Rejection(
            RejectReason.OVERSIZED, f"event has {len(value)} bytes as JSON, limit is {limits.max_bytes}"
        )
    return Accepted(line, event, key.encode(), value)


def _event_id(obj: dict[str, Any]) -> str | None:
    value = obj.get("event_id")
    return value if isinstance(value, str) else None
