"""JSON records from the platform's own topics (ledger entries, standings), read fast.

The workers write these, so nearly every one is plain, shallow JSON: orjson reads it several
times faster than `schemas.wire_json.load_json`, whose checks are written in Python. What orjson
refuses, or might read differently from load_json (more brackets than the depth limit, a run of
digits longer than the number limit), goes through load_json itself, so a bad record is refused
with load_json's reason and detail, as before.

One difference remains, on purpose: a key repeated in one object is not refused here (the last
one wins, as in orjson). Only a hand-written record can repeat a key; it is still validated as a
ledger entry or a standing afterwards, like any other.
"""

from __future__ import annotations

from typing import Any

import orjson

from schemas.wire_json import MAX_DEPTH, MAX_NUMBER_DIGITS, load_json

# Every digit to "0", every other byte to " ": a run of too many digits is then one `in` away
# (a regular expression for it costs several times orjson's whole parse).
_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_TOO_MANY_DIGITS = b"0" * (MAX_NUMBER_DIGITS + 1)


def read_record(data: bytes) -> Any:
    """Any JSON value, as load_json would return it; raises Rejection for what load_json refuses."""
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH or _TOO_MANY_DIGITS in data.translate(_DIGITS):
        return load_json(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return load_json(data)  # raises with the strict reader's reason (or reads what orjson cannot)
