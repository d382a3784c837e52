"""The validator against hostile input: every message is an event or a Rejection with a reason
and a storable detail, never another exception, and never a recursion or a big-number conversion."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import SHANGHAI, Limits, Rejection, RejectReason, parse_event
from schemas.wire_json import load_json
from tests.support.events import opened, wire
from tests.support.hostile import hostile_messages

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
ROOMY = Limits(max_bytes=1_000_000)  # past the size check, so the deeper checks are reached
GOOD = wire(opened("evt-good-1"))


def rejection_of(raw: bytes | str, limits: Limits = ROOMY) -> Rejection:
    with pytest.raises(Rejection) as caught:
        parse_event(raw, now=NOW, limits=limits)
    return caught.value


def test_200_kb_of_brackets_is_too_deep_without_recursing() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100)  # a recursive descent into the brackets would fail at once
    try:
        rejection = rejection_of(b"[" * 200_000)
    finally:
        sys.setrecursionlimit(limit)
    assert rejection.reason is RejectReason.TOO_DEEP
    assert rejection.detail == "nested deeper than 16 levels (at byte 16)"


def test_the_same_brackets_within_the_default_limit_are_oversized_first() -> None:
    assert rejection_of(b"[" * 200_000, Limits()).reason is RejectReason.OVERSIZED


@pytest.mark.parametrize(
    "raw",
    [b'{"a":' * 17 + b"1" + b"}" * 17, b"[" * 17 + b"]" * 17, b'{"a": "' + b"[" * 5000 + b'"}'],
    ids=["objects", "arrays", "brackets-in-a-string"],
)
def test_depth_counts_structure_not_brackets_inside_strings(raw: bytes) -> None:
    if raw.startswith(b'{"a": "'):
        assert rejection_of(raw).reason is RejectReason.MISSING_FIELD  # parsed: only "a" is there
    else:
        assert rejection_of(raw).reason is RejectReason.TOO_DEEP


def test_an_event_at_the_depth_limit_still_parses() -> None:
    assert load_json(b"[" * 16 + b"]" * 16, max_depth=16, max_number_digits=40) is not None


@pytest.mark.parametrize("digits", [41, 4301, 5000])
def test_a_balance_of_thousands_of_digits_is_number_too_long(digits: int) -> None:
    event = wire(opened("evt-1")).replace(b'"segment": "non_credit"', b'"segment": ' + b"9" * digits)
    rejection = rejection_of(event)
    assert rejection.reason is RejectReason.NUMBER_TOO_LONG
    assert rejection.detail == f"a number has {digits} digits, limit is 40"


def test_a_long_fraction_counts_its_digits() -> None:
    rejection = rejection_of(b'{"a": 0.' + b"1" * 60 + b"}")
    assert (rejection.reason, rejection.detail) == (
        RejectReason.NUMBER_TOO_LONG,
        "a number has 61 digits, limit is 40",
    )


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(constant: str) -> None:
    rejection = rejection_of(f'{{"event_id": {constant}}}')
    assert rejection.reason is RejectReason.MALFORMED_JSON
    assert constant in rejection.detail


@pytest.mark.parametrize("key", ["event_id", "data"])
def test_a_key_given_twice_is_refused_not_resolved(key: str) -> None:
    text = wire(opened("evt-1"))[:-1] + f', "{key}": "evt-2"}}'.encode()
    rejection = rejection_of(text)
    assert rejection.reason is RejectReason.DUPLICATE_KEY
    assert rejection.detail == f"key '{key}' appears twice in one object"


def test_a_duplicate_inside_data_is_refused_too() -> None:
    text = wire(opened("evt-1")).replace(b'"cm_id": "cm-001"', b'"cm_id": "cm-001", "cm_id": "cm-002"')
    assert rejection_of(text).reason is RejectReason.DUPLICATE_KEY


@pytest.mark.parametrize(
    "raw",
    [
        b'{"source": "\xed\xa0\x80"}',  # an encoded surrogate: json.loads would let it through
        b'{"source": "\xc0\xaf"}',  # an overlong encoding
        b'{"source": "\xe2\x82"}',  # a cut sequence
        json.dumps({"source": "x"}).encode("utf-16"),  # json.loads would guess UTF-16
        json.dumps({"source": "x"}).encode("utf-32"),
    ],
)
def test_text_that_is_not_utf8_is_malformed(raw: bytes) -> None:
    rejection = rejection_of(raw)
    assert rejection.reason is RejectReason.MALFORMED_JSON
    assert rejection.detail.startswith("not valid UTF-8")


def test_an_escaped_lone_surrogate_is_malformed_but_an_escaped_pair_is_text() -> None:
    lone = wire(opened("evt-1")).replace(b'"source": "test"', b'"source": "\\ud800"')
    assert rejection_of(lone).reason is RejectReason.MALFORMED_JSON
    pair = wire(opened("evt-1")).replace(b'"source": "test"', b'"source": "\\ud83d\\ude00"')
    assert parse_event(pair, now=NOW).source == "\U0001f600"


def test_a_str_with_a_lone_surrogate_is_a_rejection_not_an_encoding_error() -> None:
    assert rejection_of('{"source": "\ud800"}').reason is RejectReason.MALFORMED_JSON


@settings(
    max_examples=300,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raw=hostile_messages(), limits=st.sampled_from([Limits(), ROOMY]))
def test_hostile_bytes_are_refused_clearly_and_the_next_good_event_still_passes(
    raw: bytes, limits: Limits
) -> None:
    try:
        parse_event(raw, now=NOW, limits=limits)
    except Rejection as rejection:
        assert rejection.reason in RejectReason
        # The detail goes into HTTP answers, headers and text columns: it must be storable text.
        rejection.detail.encode("utf-8")
        assert "\x00" not in rejection.detail
    # No state survives a refusal: the next good event is read as ever.
    assert parse_event(GOOD, now=NOW, limits=limits).event_id == "evt-good-1"
