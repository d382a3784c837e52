"""The records the platform's own processes write to each other, with their keys.

| topic            | key                       | value                                         |
|------------------|---------------------------|-----------------------------------------------|
| events.accepted  | cm_id                     | event JSON; headers event_id, cm_id, type, arrived_at |
| events.validated | cm_id                     | event JSON (header arrived_at), or a control record |
| events.duplicates| event_id                  | {"event_id", "copies", "offset", "first_offset"} |
| score.ledger     | cm_id                     | a ledger entry (streams/core/ledger.py)       |
| score.standings  | "competition_id|cm_id"    | a standing (streams/core/standing.py)         |
| score.state      | cm_id, or "@rules"        | zlib JSON: a manager's state, or the rules in force |

score.state partition p holds the states of the managers of events.validated partition p.

`arrived_at` is when the event reached the platform: the events.raw record's timestamp (the
broker's append time, LogAppendTime on that topic), in milliseconds since the epoch as ASCII
digits. Validate sets it and dedup carries it, so the scorer and a replay read the same value.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import orjson

EVENT_ID_HEADER = "campaigns.event_id"
CM_HEADER = "campaigns.cm_id"
TYPE_HEADER = "campaigns.type"
ARRIVED_HEADER = "campaigns.arrived_at"
RULES_KEY = b"@rules"


def standing_key(competition_id: str, cm_id: str) -> bytes:
    return f"{competition_id}|{cm_id}".encode()


def to_json(body: Any) -> bytes:
    """A record's JSON (UTF-8, compact). orjson: several times the standard library's speed on
    the hot path's ledger entries, standings and states; keys that are not strings become strings,
    as `json.dumps` makes them."""
    return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)


def duplicate_record(event_id: str, copies: int, offset: int, first_offset: int) -> bytes:
    body = {"event_id": event_id, "copies": copies, "offset": offset, "first_offset": first_offset}
    return json.dumps(body).encode()


# zlib level 1 rather than 6: a state is written per changed manager per batch, and at a
# branch's steady rate that is nearly one per event. Level 1 is about half level 6's time on a
# 13 kB state (0.1 ms instead of 0.2; 3 to 10 times that on a 60 kB one) for records about a
# fifth larger. Any level reads back alike.
PACK_LEVEL = 1


def pack(body: dict[str, Any]) -> bytes:
    """State records: compact JSON, zlib-compressed (repetitive keys shrink several-fold)."""
    return compress(to_json(body))


def compress(raw: bytes) -> bytes:
    """`pack` from the JSON already made. zlib lets go of the GIL while it works, so a batch's
    states can be compressed in a thread while the event loop goes on."""
    return zlib.compress(raw, PACK_LEVEL)


def unpack(blob: bytes) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(zlib.decompress(blob))
    return body


def rules_record(
    pinned: dict[str, str], freezes: dict[str, Any] | None = None, through: int | None = None
) -> bytes:
    """Which competition versions a partition scores with: {"competition_id:version": status},
    the award periods it has read a freeze of (streams/core/lateness.py Freezes.to_dict), and the
    validated offset the partition's stored states are complete up to (`through`, exclusive;
    streams/pipeline/checkpoints.py). Written last in a checkpoint's transaction."""
    body: dict[str, Any] = {"pinned": pinned}
    if freezes:
        body["freezes"] = freezes
    if through is not None:
        body["through"] = through
    return pack(body)


def pinned_of(blob: bytes) -> dict[str, str]:
    return {str(k): str(v) for k, v in unpack(blob)["pinned"].items()}


def through_of(blob: bytes) -> int | None:
    """Where a rules record says the stored states end (None: a record from before checkpoints,
    when every batch stored its changed states, so the states are as new as the committed offset)."""
    through = unpack(blob).get("through")
    return None if through is None else int(through)


def freezes_of(blob: bytes) -> dict[str, Any]:
    """The freezes kept in a rules record ({} in one written before freezes were carried)."""
    freezes: dict[str, Any] = unpack(blob).get("freezes") or {}
    return freezes


def arrived_header(timestamp_ms: int | None) -> list[tuple[str, bytes]]:
    """The arrival header for a raw record's Kafka timestamp ([] when the broker gave none)."""
    if timestamp_ms is None or timestamp_ms <= 0:
        return []
    return [(ARRIVED_HEADER, str(int(timestamp_ms)).encode())]


def arrived_at_ms(headers: Any) -> int | None:
    """The arrival header of a record's headers (pairs), or None."""
    for key, value in headers or ():
        if key == ARRIVED_HEADER and value:
            try:
                return int(value)
            except ValueError:
                return None
    return None
