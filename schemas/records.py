"""The records the platform's own processes write to each other, with their keys.

| topic            | key                       | value                                         |
|------------------|---------------------------|-----------------------------------------------|
| events.accepted  | cm_id                     | canonical event JSON; headers event_id, cm_id, type |
| events.validated | cm_id                     | canonical event JSON, or a control record     |
| events.duplicates| event_id                  | {"event_id", "copies", "offset", "first_offset"} |
| score.ledger     | cm_id                     | a ledger entry (streams/core/ledger.py)       |
| score.standings  | "competition_id|cm_id"    | a standing (streams/core/standing.py)         |
| score.state      | cm_id, or "@rules"        | zlib JSON: a manager's state, or the rules in force |

score.state partition p holds the states of the managers of events.validated partition p.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

EVENT_ID_HEADER = "campaigns.event_id"
CM_HEADER = "campaigns.cm_id"
TYPE_HEADER = "campaigns.type"
RULES_KEY = b"@rules"


def standing_key(competition_id: str, cm_id: str) -> bytes:
    return f"{competition_id}|{cm_id}".encode()


def duplicate_record(event_id: str, copies: int, offset: int, first_offset: int) -> bytes:
    body = {"event_id": event_id, "copies": copies, "offset": offset, "first_offset": first_offset}
    return json.dumps(body).encode()


def pack(body: dict[str, Any]) -> bytes:
    """State records: compact JSON, zlib-compressed (repetitive keys shrink several-fold)."""
    return zlib.compress(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), 6)


def unpack(blob: bytes) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(zlib.decompress(blob))
    return body


def rules_record(pinned: dict[str, str]) -> bytes:
    """Which competition versions a partition scores with: {"competition_id:version": status}."""
    return pack({"pinned": pinned})


def pinned_of(blob: bytes) -> dict[str, str]:
    return {str(k): str(v) for k, v in unpack(blob)["pinned"].items()}
