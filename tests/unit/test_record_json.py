"""services.record_json reads what load_json reads, and refuses what it refuses with the same
reason: orjson is only the fast road to the same answer."""

from __future__ import annotations

import pytest

from schemas.errors import Rejection
from schemas.wire_json import load_json
from services.record_json import read_record

SAME = [
    b'{"entry_id": "e1", "points": "1.50", "rule_version": 3, "label": {"kind": "opening"}}',
    b'{"a": [1, 2.5, -3, true, false, null], "b": "\\u4e2d\\u6587 \\u00e9"}',
    b" [] ",
    b'"text"',
    b"12345678901234567890123456789012345678901234567890.5e-3",  # long: the strict reader decides
    b"[" * 17 + b"]" * 17,  # deeper than the limit: refused by the strict reader
    b"[" * 8 + b"{}" + b"]" * 8,
]
REFUSED = [
    b"\xff",
    b"\xef\xbb\xbf{}",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'"\\ud800"',
    b"{oops",
    b"{} trailing",
    b"[" * 200_000,
    b"1" * 41,
    b"",
]


@pytest.mark.parametrize("data", SAME)
def test_what_load_json_reads_is_read_the_same(data: bytes) -> None:
    try:
        expected = load_json(data)
    except Rejection as exc:
        with pytest.raises(Rejection) as got:
            read_record(data)
        assert (got.value.reason, got.value.detail) == (exc.reason, exc.detail)
    else:
        assert read_record(data) == expected


@pytest.mark.parametrize("data", REFUSED)
def test_what_load_json_refuses_is_refused_with_its_reason(data: bytes) -> None:
    with pytest.raises(Rejection) as strict:
        load_json(data)
    with pytest.raises(Rejection) as fast:
        read_record(data)
    assert (fast.value.reason, fast.value.detail) == (strict.value.reason, strict.value.detail)


def test_a_repeated_key_is_the_one_known_difference() -> None:
    with pytest.raises(Rejection):
        load_json(b'{"a": 1, "a": 2}')
    assert read_record(b'{"a": 1, "a": 2}') == {"a": 2}
