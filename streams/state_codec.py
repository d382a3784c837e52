"""How a customer manager's scoring state is kept in the worker's table and its changelog.

zlib-compressed JSON: the state holds the manager's events (a re-score recomputes from them), and
repetitive JSON shrinks several-fold, which keeps each changelog record well below the broker's
message limit for longer. The partition is kept beside it so a re-score touches only the states
that the partition receiving the control record owns.
"""

from __future__ import annotations

import json
import zlib

from streams.core.state import ParticipantState


def encode(state: ParticipantState, partition: int) -> bytes:
    body = json.dumps({"partition": partition, "state": state.to_dict()}, separators=(",", ":"))
    return zlib.compress(body.encode(), 6)


def decode(blob: bytes) -> tuple[ParticipantState, int]:
    obj = json.loads(zlib.decompress(blob))
    return ParticipantState.from_dict(obj["state"]), int(obj["partition"])
