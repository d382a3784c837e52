"""The one validator behind every door: bytes in, a typed event out, or a Rejection with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.envelope import SHANGHAI, Envelope
from schemas.errors import Rejection, RejectReason
from schemas.registry import EVENT_TYPES, model_for, versions_of
from schemas.wire_json import MAX_DEPTH, MAX_NUMBER_DIGITS, load_json


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 64 * 1024
    # Clocks of source systems drift; an event further ahead than this is a bad timestamp.
    max_future: timedelta = timedelta(minutes=5)
    # Refused before the parser recurses into it or converts it (schemas/wire_json.py).
    max_depth: int = MAX_DEPTH
    max_number_digits: int = MAX_NUMBER_DIGITS


_TYPE_ERRORS = ("_type", "_parsing", "is_instance_of", "model_attributes_type", "dict_type")


def _reason_of(error: dict[str, Any]) -> RejectReason:
    kind = str(error.get("type", ""))
    if kind == "missing":
        return RejectReason.MISSING_FIELD
    if kind.endswith(_TYPE_ERRORS):
        return RejectReason.WRONG_TYPE
    return RejectReason.INVALID_VALUE


def _describe(exc: ValidationError) -> Rejection:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "(event)"
    reason = _reason_of(dict(first))
    if reason is RejectReason.MISSING_FIELD:
        return Rejection(reason, f"field '{where}' is required")
    return Rejection(reason, f"field '{where}': {first.get('msg', 'invalid')}")


def decode(raw: bytes | str, limits: Limits = Limits()) -> dict[str, Any]:
    """Bytes to a JSON object, refusing empty, oversized, malformed and hostile input
    (schemas/wire_json.py)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if not data or not data.strip():
        raise Rejection(RejectReason.EMPTY, "message is empty")
    if len(data) > limits.max_bytes:
        raise Rejection(RejectReason.OVERSIZED, f"message has {len(data)} bytes, limit is {limits.max_bytes}")
    obj = load_json(data, max_depth=limits.max_depth, max_number_digits=limits.max_number_digits)
    if not isinstance(obj, dict):
        raise Rejection(RejectReason.NOT_AN_OBJECT, f"expected a JSON object, got {type(obj).__name__}")
    return obj


def parse_object(obj: dict[str, Any], *, now: datetime, limits: Limits = Limits()) -> Envelope:
    """A decoded JSON object to its typed event model."""
    event_type = obj.get("type")
    if event_type is None:
        raise Rejection(RejectReason.MISSING_FIELD, "field 'type' is required")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        raise Rejection(
            RejectReason.UNKNOWN_TYPE, f"unknown event type {event_type!r}; known: {', '.join(EVENT_TYPES)}"
        )
    version = obj.get("schema_version")
    if version is None:
        raise Rejection(RejectReason.MISSING_FIELD, "field 'schema_version' is required")
    if not isinstance(version, int) or isinstance(version, bool):
        raise Rejection(
            RejectReason.WRONG_TYPE, f"field 'schema_version' must be an integer, got {version!r}"
        )
    model = model_for(event_type, version)
    if model is None:
        known = ", ".join(str(v) for v in versions_of(event_type))
        raise Rejection(
            RejectReason.UNKNOWN_VERSION, f"{event_type} has no schema version {version!r}; known: {known}"
        )
    try:
        event = model.model_validate(obj)
    except ValidationError as exc:
        raise _describe(exc) from None
    if event.occurred_at - now > limits.max_future:
        raise Rejection(
            RejectReason.FUTURE_TIME,
            f"occurred_at {event.occurred_at.isoformat()} is more than "
            f"{int(limits.max_future.total_seconds())} s ahead of now ({now.isoformat()})",
        )
    return event


def parse_event(raw: bytes | str, *, now: datetime, limits: Limits = Limits()) -> Envelope:
    """Validate one message from any door. Raises Rejection; never anything else for bad input."""
    return parse_object(decode(raw, limits), now=now, limits=limits)


def read_canonical(raw: bytes) -> Envelope:
    """An event that already passed `parse_event` at a door (the validated topic).

    The future-time check is not repeated: it was judged on arrival, and a replay a year later
    must read the same bytes the same way.
    """
    event = _as_written(raw)
    return event if event is not None else read_carefully(raw)


def read_carefully(raw: bytes) -> Envelope:
    """`read_canonical` without its shortcut: every check of the door's reader."""
    obj = decode(raw, Limits(max_bytes=max(len(raw), 1)))
    never = datetime.max.replace(tzinfo=SHANGHAI)
    return parse_object(obj, now=never, limits=Limits(max_future=timedelta(0)))


def _no_floats(value: Any) -> bool:
    """orjson reads an integer past 64 bits as a float; the careful reader keeps it an integer, or
    refuses it past MAX_NUMBER_DIGITS. Records with any float are left to the careful reader."""
    if isinstance(value, dict):
        return all(map(_no_floats, value.values()))
    if isinstance(value, list):
        return all(map(_no_floats, value))
    return not isinstance(value, float)


def _as_written(raw: bytes) -> Envelope | None:
    """The validated topic's usual record, read at a third of the careful reader's cost: orjson
    and the same model validation, kept only when the event writes back to exactly these bytes
    (as the validate and score stages wrote it), so the careful reader would have parsed the same
    object (no repeated keys, no NaN) and made the same event. None: read it the careful way."""
    # Where the careful reader and orjson may part, it reads: deep nesting and escapes (of a lone
    # surrogate, refused there) here, numbers by _no_floats below.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH or b"\\u" in raw:
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or not _no_floats(obj):
        return None
    event_type, version = obj.get("type"), obj.get("schema_version")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES or type(version) is not int:
        return None
    model = model_for(event_type, version)
    if model is None:
        return None
    try:
        event = model.model_validate(obj)
    except ValidationError:
        return None
    return event if event.__pydantic_serializer__.to_json(event) == raw else None
