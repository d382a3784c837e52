"""Hostile bytes for the doors: what a careless or malicious sender can put in one message.

Each strategy aims at one way past a naive validator (recursion, number conversion, encodings,
JSON extensions, sizes); `hostile_messages` mixes them with blind mutations of a valid event.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.support.events import opened

_VALID = opened("evt-hostile-1", cm_id="cm-hostile")


def _event_with(path: tuple[str, ...], literal: str | bytes) -> bytes:
    """A valid event whose field at `path` holds `literal`, spliced into the JSON bytes as is."""
    obj: dict[str, Any] = json.loads(json.dumps(_VALID))
    inner = obj
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = "@@HOLE@@"
    splice = literal.encode() if isinstance(literal, str) else literal
    return json.dumps(obj).encode().replace(b'"@@HOLE@@"', splice)


_FIELDS = st.sampled_from(
    [("source",), ("schema_version",), ("data", "cm_id"), ("data", "new_firm"), ("data", "segment")]
)


def nested(max_depth: int = 20_000) -> st.SearchStrategy[bytes]:
    """Brackets and objects nested far deeper than any event, closed or not."""
    return st.builds(
        lambda n, opener, closed: opener * n + (b"1" + _closer(opener) * n if closed else b""),
        st.integers(min_value=17, max_value=max_depth),
        st.sampled_from([b"[", b'{"a":', b'[{"a":']),
        st.booleans(),
    )


def _closer(opener: bytes) -> bytes:
    return {b"[": b"]", b'{"a":': b"}", b'[{"a":': b"}]"}[opener]


def long_numbers() -> st.SearchStrategy[bytes]:
    """Numbers of thousands of digits (Python's int() refuses more than 4,300), in any field."""
    literal = st.builds(
        lambda digits, sign, frac: f"{sign}{'9' * digits}{frac}",
        st.integers(min_value=41, max_value=6000),
        st.sampled_from(["", "-"]),
        st.sampled_from(["", ".5", "e5", ".0e-3"]),
    )
    return st.builds(_event_with, _FIELDS, literal)


def constants() -> st.SearchStrategy[bytes]:
    """Python's JSON extensions and overflowing floats."""
    literal = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
    return st.builds(_event_with, _FIELDS, literal)


def duplicate_keys() -> st.SearchStrategy[bytes]:
    def build(key: str) -> bytes:
        text = json.dumps(_VALID)
        return (text[:-1] + f', "{key}": "again"}}').encode()

    return st.builds(build, st.sampled_from(["event_id", "type", "source", "data"]))


def bad_text() -> st.SearchStrategy[bytes]:
    """Bytes that are not UTF-8, and escapes of half a character."""
    raw_bytes = st.sampled_from(
        [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80", b"\x80"]
    )
    in_string = st.builds(lambda b: _event_with(("source",), b'"x' + b + b'"'), raw_bytes)
    escaped = st.builds(
        lambda s: _event_with(("source",), f'"{s}"'), st.sampled_from(["\\ud800", "\\udfff", "\\ud83d x"])
    )
    utf16 = st.just(json.dumps(_VALID).encode("utf-16"))
    spliced = st.builds(lambda b: b + json.dumps(_VALID).encode(), raw_bytes)
    return st.one_of(in_string, escaped, utf16, spliced)


def mutated() -> st.SearchStrategy[bytes]:
    """A valid event with a random span replaced by random bytes."""
    base = json.dumps(_VALID).encode()
    return st.builds(
        lambda start, length, junk: base[:start] + junk + base[start + length :],
        st.integers(min_value=0, max_value=len(base)),
        st.integers(min_value=0, max_value=40),
        st.binary(max_size=40),
    )


def oversized(max_bytes: int = 200_000) -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda n, fill: fill * n,
        st.integers(min_value=65_537, max_value=max_bytes),
        st.sampled_from([b" ", b"["]),
    )


def hostile_messages(max_bytes: int = 200_000) -> st.SearchStrategy[bytes]:
    return st.one_of(
        nested(),
        long_numbers(),
        constants(),
        duplicate_keys(),
        bad_text(),
        mutated(),
        st.binary(max_size=200),
        oversized(max_bytes),
    )
