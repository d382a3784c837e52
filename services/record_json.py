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

import re
from typing import Any

import orjson

from schemas.wire_json import MAX_DEPTH, MAX_NUMBER_DIGITS, load_json

_LONG_NUMBER = re.compile(rb"[0-9]{%d}" % (MAX_NUMBER_DIGITS + 1))


def read_record(data: bytes) -> Any:
    """Any JSON value, as load_json would return it; raises Rejection for what load_json refuses."""
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH or _LONG_NUMBER.search(data) is not None:
        return load_json(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return load_json(data)  # raises with the strict reader's reason (or reads what orjson cannot)
