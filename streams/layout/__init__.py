"""The partition layout: recorded and checked at every worker start (guard.py), grown only by a
copy into a new topic set (grow.py). `python -m streams.layout show|grow` (__main__.py)."""

from streams.layout.guard import (
    LayoutChanged,
    Mismatch,
    actual_layout,
    decode,
    encode,
    guard,
    mismatches,
    recorded_layout,
    refusal,
    setting_ignored,
)

__all__ = [
    "LayoutChanged",
    "Mismatch",
    "actual_layout",
    "decode",
    "encode",
    "guard",
    "mismatches",
    "recorded_layout",
    "refusal",
    "setting_ignored",
]
