"""How a customer manager's scoring state is kept in the worker's table and its changelog.

zlib-compressed JSON: the state holds the manager's events (a re-score recomputes from them), and
repetitive JSON shrinks several-fold, which keeps each changelog record well below the broker's
message limit for longer. The partition and offset are kept beside it: the offset tells a restarted
worker where its partition's states stop (see streams/state_store.py).
"""

from __future__ import annotations

import json
import zlib

from streams.core.state import ParticipantState


def encode(state: ParticipantState, partition: int, offset: int) -> bytes:
    """`offset`: the validated-topic offset of the record whose processing wrote this state."""
    body = {"partition": partition, "offset": offset, "state": state.to_dict()}
    return zlib.compress(json.dumps(body, separators=(",", ":")).encode(), 6)


def decode(blob: bytes) -> tuple[ParticipantState, int, int]:
    """The state, its partition and the offset it was written at."""
    obj = json.loads(zlib.decompress(blob))
    return ParticipantState.from_dict(obj["state"]), int(obj["partition"]), int(obj["offset"])
