"""JSON from strangers: bytes to Python values, refusing what Python's `json` would take but a
door must not.

`json.loads` alone accepts text that is not UTF-8 (it guesses UTF-16 and lets encoded surrogates
through), `NaN` and `Infinity`, repeated keys (the last one silently wins) and escapes of lone
surrogates (strings that cannot be written back as UTF-8). A few kilobytes of nested brackets
raise RecursionError, and an integer of 5,000 digits raises ValueError; neither is a
JSONDecodeError, so a caller that only expects that one crashes. Here each of these is a
Rejection with its reason, and the depth is measured on the bytes before the parser recurses.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, NoReturn

from schemas.errors import Rejection, RejectReason

# A string token (closing quote optional, so an unterminated string costs one pass, not one per
# quote) or a bracket. Possessive quantifiers: no backtracking on hostile input.
_TOKENS = re.compile(rb'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_OPEN = frozenset(b"[{")

# An event is two objects deep and its longest number is an 18-digit amount: far beyond either
# is hostile input. The defaults of the validator's Limits, and of every other reader here.
MAX_DEPTH = 16
MAX_NUMBER_DIGITS = 40


def load_json(data: bytes, *, max_depth: int = MAX_DEPTH, max_number_digits: int = MAX_NUMBER_DIGITS) -> Any:
    """Any JSON value; raises Rejection (never anything else) for text a door must refuse."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejection(
            RejectReason.MALFORMED_JSON, f"not valid UTF-8: {exc.reason} at byte {exc.start}"
        ) from None
    _check_depth(data, max_depth)
    try:
        value = _decoder(max_number_digits).decode(text)
    except json.JSONDecodeError as exc:
        raise Rejection(RejectReason.MALFORMED_JSON, f"not valid JSON: {exc}") from None
    except RecursionError:  # unreachable after _check_depth unless max_depth is set absurdly high
        raise Rejection(RejectReason.TOO_DEEP, f"nested deeper than {max_depth} levels") from None
    if _SURROGATE_ESCAPE.search(data):
        _check_text(value)
    return value


def _check_depth(data: bytes, max_depth: int) -> None:
    # Fewer brackets than the limit cannot nest deeper than it: the usual event skips the scan.
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return
    depth = 0
    for token in _TOKENS.finditer(data):
        first = token.group()[0]
        if first in _OPEN:
            depth += 1
            if depth > max_depth:
                raise Rejection(
                    RejectReason.TOO_DEEP,
                    f"nested deeper than {max_depth} levels (at byte {token.start()})",
                )
        elif first != 0x22:  # a closing bracket; strings are skipped whole
            depth -= 1


def _check_text(value: Any) -> None:
    """Every string must be writable as UTF-8: `"\\ud800"` alone escapes half a character."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Rejection(
                RejectReason.MALFORMED_JSON, "not valid JSON text: a \\u escape names a lone surrogate"
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


@lru_cache(maxsize=8)
def _decoder(max_number_digits: int) -> json.JSONDecoder:
    def number(literal: str) -> None:
        if len(literal) > max_number_digits:
            digits = sum(c.isdigit() for c in literal)
            if digits > max_number_digits:
                raise Rejection(
                    RejectReason.NUMBER_TOO_LONG,
                    f"a number has {digits} digits, limit is {max_number_digits}",
                )

    def parse_int(literal: str) -> int:
        number(literal)
        return int(literal)

    def parse_float(literal: str) -> float:
        number(literal)
        return float(literal)

    return json.JSONDecoder(
        object_pairs_hook=_unique_keys,
        parse_int=parse_int,
        parse_float=parse_float,
        parse_constant=_constant,
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                shown = key if len(key) <= 64 else key[:64] + "…"
                raise Rejection(RejectReason.DUPLICATE_KEY, f"key {shown!r} appears twice in one object")
            seen.add(key)
    return obj


def _constant(name: str) -> NoReturn:
    raise Rejection(RejectReason.MALFORMED_JSON, f"not valid JSON: {name} is not a JSON number")
