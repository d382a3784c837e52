"""The validated topic's reader takes a shortcut (orjson, kept only when the event writes back to
the very bytes read) and must give exactly what the careful reader gives: the same event for the
records the stages write, and the careful reader's answer, Rejection included, for anything else."""

from __future__ import annotations

from itertools import islice

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.envelope import Envelope
from schemas.errors import Rejection
from schemas.registry import model_for
from schemas.validate import _as_written, read_canonical, read_carefully
from tests.bench.workload import year_of_events
from tests.unit.core.test_core_properties import EVENTS as CORE_EVENTS


def _parse(raw: dict[str, object]) -> Envelope:
    model = model_for(str(raw["type"]), 1)
    assert model is not None
    return model.model_validate(raw)


EVENTS = CORE_EVENTS + [
    _parse(raw) for raw in islice(year_of_events(3, 12, 120, seed=7, balance_every=7), 600)
]
WRITTEN = [e.__pydantic_serializer__.to_json(e) for e in EVENTS]


def _same(raw: bytes) -> None:
    """read_canonical and the careful reader agree: equal events of one class, or one Rejection."""
    try:
        careful = read_carefully(raw)
    except Rejection as exc:
        with pytest.raises(Rejection) as fast:
            read_canonical(raw)
        assert (fast.value.reason, str(fast.value)) == (exc.reason, str(exc))
        assert _as_written(raw) is None
        return
    got = read_canonical(raw)
    assert type(got) is type(careful)
    assert got == careful
    assert got.model_dump_json() == careful.model_dump_json()


def test_the_stages_records_take_the_shortcut_and_read_alike() -> None:
    kinds = set()
    for raw in WRITTEN:
        assert _as_written(raw) is not None, raw  # else the shortcut would never be taken
        _same(raw)
        kinds.add(read_canonical(raw).type)
    assert len(kinds) >= 7


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r.replace(b'"type"', b'"type":"x","type"', 1),  # a repeated key
        lambda r: (
            r[:-1] + b',"type":' + r[r.index(b'"type":') + 7 : r.index(b",", r.index(b'"type":'))] + b"}"
        ),
        lambda r: b" " + r,
        lambda r: r[:-1] + b',"extra":NaN}',
        lambda r: r[:-1] + b',"extra":"\\ud800"}',
        lambda r: r[:-1] + b',"extra":' + b"1" * 41 + b"}",
        lambda r: r[:-1] + b',"extra":' + b"12345678901234567890123" + b"}",
        lambda r: r.replace(b'"schema_version":1', b'"schema_version":' + str(2**140).encode()),
        lambda r: r.replace(b'"schema_version":1', b'"schema_version":18446744073709551617'),
        lambda r: r.replace(b'"schema_version":1', b'"schema_version":-9223372036854775809'),
        lambda r: r.replace(b'"source":"', b'"source":"\\u00e9', 1),
        lambda r: r.replace(b'"source":"', b'"source":"\\n', 1),
        lambda r: r[:-1] + b',"extra":' + b"[" * 20 + b"]" * 20 + b"}",
        lambda r: r[: len(r) // 2],
        lambda r: r.replace(b'"schema_version":1', b'"schema_version":true'),
        lambda r: r.replace(b'"schema_version":1', b'"schema_version":1.0'),
        lambda r: b"[" + r + b"]",
        lambda r: b"",
        lambda r: r.replace(b'"', b"'", 2),
    ],
)
def test_odd_records_read_as_the_careful_reader_reads_them(edit: object) -> None:
    for raw in WRITTEN[:40]:
        _same(edit(raw))  # type: ignore[operator]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(WRITTEN), st.integers(0, 10_000), st.binary(min_size=0, max_size=6), st.integers(0, 6))
def test_any_edit_of_a_record_reads_as_the_careful_reader_reads_it(
    raw: bytes, at: int, insert: bytes, cut: int
) -> None:
    at %= len(raw) + 1
    _same(raw[:at] + insert + raw[at + cut :])


def test_a_shortcut_that_kept_a_record_it_should_not_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the write-back check a repeated key would be taken (the last one winning)."""
    import schemas.validate as validate

    raw = WRITTEN[0][:-1] + b',"event_id":"other"}'
    _same(raw)
    monkeypatch.setattr(validate, "_as_written", lambda data: _parse(orjson.loads(data)))
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        _same(raw)
