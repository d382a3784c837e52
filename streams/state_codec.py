"""How a customer manager's scoring state is kept in the worker's table and its changelog.

zlib-compressed JSON: the state holds the manager's events (a re-score recomputes from them), and
repetitive JSON shrinks several-fold, which keeps each changelog record well below the broker's
message limit for longer. The partition and offset are kept beside it: the offset tells a restarted
worker where its partition's states stop (see streams/state_store.py).
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from streams.core.state import ParticipantState


def encode(state: ParticipantState, partition: int, offset: int) -> bytes:
    """`offset`: the validated-topic offset of the record whose processing wrote this state."""
    body = {"partition": partition, "offset": offset, "state": state.to_dict()}
    return zlib.compress(json.dumps(body, separators=(",", ":")).encode(), 6)


def _body(blob: bytes) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(zlib.decompress(blob))
    return body


def decode(blob: bytes) -> tuple[ParticipantState, int, int]:
    """The state, its partition and the offset it was written at."""
    body = _body(blob)
    return ParticipantState.from_dict(body["state"]), int(body["partition"]), int(body["offset"])


def offset_of(blob: bytes) -> int:
    """Only the offset: rebuilding the state (events, books) is not needed to read it."""
    return int(_body(blob)["offset"])
