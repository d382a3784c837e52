"""The one validator: every rejection reason, the examples, and the canonical wire form."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import EVENT_TYPES, SHANGHAI, Limits, Rejection, RejectReason, parse_event
from schemas.validate import parse_object

EXAMPLES = Path(__file__).parents[2] / "schemas" / "examples"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)


def event(**changes: Any) -> dict[str, Any]:
    """A valid account.opened event as a JSON object, with top-level fields changed."""
    obj: dict[str, Any] = {
        "event_id": "evt-20260212-acct-000418",
        "type": "account.opened",
        "schema_version": 1,
        "occurred_at": "2026-02-12T10:24:31+08:00",
        "source": "core-banking",
        "data": {
            "account_id": "acct-3201-0088417",
            "customer_id": "cust-91320100MA1X7Q2K",
            "cm_id": "cm-0107",
            "account_type": "basic",
            "segment": "non_credit",
        },
    }
    obj.update(changes)
    return obj


def with_data(**changes: Any) -> dict[str, Any]:
    obj = event()
    obj["data"] = {**obj["data"], **changes}
    return obj


def without(obj: dict[str, Any], *path: str) -> dict[str, Any]:
    inner = obj
    for key in path[:-1]:
        inner = inner[key]
    del inner[path[-1]]
    return obj


def rejection_of(raw: bytes | str | dict[str, Any], limits: Limits | None = None) -> Rejection:
    text = json.dumps(raw) if isinstance(raw, dict) else raw
    with pytest.raises(Rejection) as caught:
        parse_event(text, now=NOW, limits=limits or Limits())
    return caught.value


def test_the_base_event_is_valid() -> None:
    assert parse_event(json.dumps(event()), now=NOW).type == "account.opened"


@pytest.mark.parametrize("raw", [b"", "", "   ", "\n", " \t\r\n "])
def test_empty_or_whitespace_is_rejected_as_empty(raw: bytes | str) -> None:
    assert rejection_of(raw).reason is RejectReason.EMPTY


def test_oversized_is_rejected_before_it_is_parsed() -> None:
    raw = json.dumps(event()) + " " * (64 * 1024)
    rejection = rejection_of(raw)
    assert rejection.reason is RejectReason.OVERSIZED
    assert "limit is 65536" in rejection.detail


def test_the_size_limit_is_in_bytes_and_inclusive() -> None:
    raw = json.dumps(event(source="核心系统"), ensure_ascii=False).encode()
    assert parse_event(raw, now=NOW, limits=Limits(max_bytes=len(raw)))
    assert rejection_of(raw, Limits(max_bytes=len(raw) - 1)).reason is RejectReason.OVERSIZED


@pytest.mark.parametrize("raw", ['{"event_id": ', "{'event_id': 'x'}", '{"a": 1,}', b"\xff\xfe{}", "evt-1"])
def test_malformed_json_is_rejected(raw: bytes | str) -> None:
    assert rejection_of(raw).reason is RejectReason.MALFORMED_JSON


@pytest.mark.parametrize("raw", ["[]", "[{}]", "42", '"account.opened"', "null", "true"])
def test_json_that_is_not_an_object_is_rejected(raw: str) -> None:
    assert rejection_of(raw).reason is RejectReason.NOT_AN_OBJECT


@pytest.mark.parametrize("field", ["event_id", "type", "schema_version", "occurred_at", "source", "data"])
def test_a_missing_envelope_field_is_named(field: str) -> None:
    rejection = rejection_of(without(event(), field))
    assert rejection.reason is RejectReason.MISSING_FIELD
    assert rejection.detail == f"field '{field}' is required"


@pytest.mark.parametrize("field", ["account_id", "customer_id", "cm_id", "account_type", "segment"])
def test_a_missing_data_field_is_named_with_its_path(field: str) -> None:
    rejection = rejection_of(without(event(), "data", field))
    assert rejection.reason is RejectReason.MISSING_FIELD
    assert rejection.detail == f"field 'data.{field}' is required"


@pytest.mark.parametrize(
    ("obj", "where"),
    [
        (event(event_id=418), "event_id"),
        (event(source=["core-banking"]), "source"),
        (event(data="cm-0107"), "data"),
        (event(occurred_at="yesterday"), "occurred_at"),
        (with_data(cm_id=107), "data.cm_id"),
        (with_data(new_firm="perhaps"), "data.new_firm"),
    ],
)
def test_a_wrong_type_is_rejected_with_its_field(obj: dict[str, Any], where: str) -> None:
    rejection = rejection_of(obj)
    assert rejection.reason is RejectReason.WRONG_TYPE
    assert rejection.detail.startswith(f"field '{where}'")


@pytest.mark.parametrize("event_type", ["account.frozen", "Account.Opened", "", 7, ["account.opened"]])
def test_an_unknown_event_type_is_rejected(event_type: object) -> None:
    rejection = rejection_of(event(type=event_type))
    assert rejection.reason is RejectReason.UNKNOWN_TYPE
    assert "account.opened" in rejection.detail  # tells the sender what is known


@pytest.mark.parametrize("version", [2, 0, -1])
def test_an_unknown_schema_version_is_rejected(version: object) -> None:
    rejection = rejection_of(event(schema_version=version))
    assert rejection.reason is RejectReason.UNKNOWN_VERSION
    assert rejection.detail.endswith("known: 1")


@pytest.mark.parametrize("version", ["1", 1.0, True])
def test_a_schema_version_that_is_not_an_integer_is_a_wrong_type(version: object) -> None:
    rejection = rejection_of(event(schema_version=version))
    assert rejection.reason is RejectReason.WRONG_TYPE
    assert "schema_version" in rejection.detail


def test_occurred_at_more_than_five_minutes_ahead_is_rejected() -> None:
    ahead = (NOW + timedelta(minutes=5, seconds=1)).isoformat()
    rejection = rejection_of(event(occurred_at=ahead))
    assert rejection.reason is RejectReason.FUTURE_TIME
    assert "300 s ahead" in rejection.detail


def test_occurred_at_within_the_clock_drift_allowance_is_accepted() -> None:
    assert parse_event(json.dumps(event(occurred_at=(NOW + timedelta(minutes=5)).isoformat())), now=NOW)


def test_the_future_limit_compares_instants_not_wall_clocks() -> None:
    # 04:04 UTC is 12:04 in Shanghai: within the allowance although the wall-clock hour differs.
    assert parse_event(json.dumps(event(occurred_at="2026-11-30T04:04:00Z")), now=NOW)


@pytest.mark.parametrize("naive", ["2026-02-12T10:24:31", "2026-02-12 10:24:31", "2026-02-12T10:24:31.5"])
def test_a_naive_occurred_at_is_rejected(naive: str) -> None:
    rejection = rejection_of(event(occurred_at=naive))
    assert rejection.reason is RejectReason.INVALID_VALUE
    assert rejection.detail.startswith("field 'occurred_at'")
    assert "timezone" in rejection.detail


@pytest.mark.parametrize(
    ("obj", "where"),
    [
        (event(channel="bookkeeper"), "channel"),
        (with_data(branch="sb-jianye"), "data.branch"),
    ],
)
def test_an_unknown_extra_field_is_rejected_not_ignored(obj: dict[str, Any], where: str) -> None:
    rejection = rejection_of(obj)
    assert rejection.reason is RejectReason.INVALID_VALUE
    assert rejection.detail.startswith(f"field '{where}'")
    assert "not permitted" in rejection.detail


@pytest.mark.parametrize(
    ("obj", "where"),
    [
        (with_data(account_type="vip"), "data.account_type"),
        (event(event_id="evt 1"), "event_id"),
        (event(source=""), "source"),
        (with_data(cm_id=""), "data.cm_id"),
    ],
)
def test_a_value_outside_its_contract_is_rejected_as_invalid(obj: dict[str, Any], where: str) -> None:
    rejection = rejection_of(obj)
    assert rejection.reason is RejectReason.INVALID_VALUE
    assert rejection.detail.startswith(f"field '{where}'")


def test_parse_object_applies_the_same_rules_without_the_byte_checks() -> None:
    with pytest.raises(Rejection) as caught:
        parse_object(without(event(), "data", "cm_id"), now=NOW)
    assert caught.value.reason is RejectReason.MISSING_FIELD


@settings(max_examples=200, database=None, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_junk_is_a_rejection_never_a_crash(raw: bytes) -> None:
    try:
        parse_event(raw, now=NOW)
    except Rejection as rejection:
        assert rejection.reason in RejectReason


# --- the examples and the canonical form -----------------------------------------------------

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def test_there_is_one_example_per_event_type() -> None:
    assert sorted(f.name for f in EXAMPLE_FILES) == sorted(f"{t}.v1.json" for t in EVENT_TYPES)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_validates_as_its_own_type(path: Path) -> None:
    parsed = parse_event(path.read_bytes(), now=NOW)
    assert path.name == f"{parsed.type}.v{parsed.schema_version}.json"


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_the_canonical_form_round_trips(path: Path) -> None:
    parsed = parse_event(path.read_bytes(), now=NOW)
    again = parse_event(parsed.model_dump_json(), now=NOW)
    assert again == parsed
    assert again.model_dump_json() == parsed.model_dump_json()


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [
        ("2026-02-12T02:24:31Z", "2026-02-12T10:24:31+08:00"),
        ("2026-02-12T02:24:31+00:00", "2026-02-12T10:24:31+08:00"),
        ("2026-02-11T21:24:31-05:00", "2026-02-12T10:24:31+08:00"),
        ("2026-02-12T10:24:31+08:00", "2026-02-12T10:24:31+08:00"),
    ],
)
def test_occurred_at_is_carried_as_shanghai_time(sent: str, canonical: str) -> None:
    parsed = parse_event(json.dumps(event(occurred_at=sent)), now=NOW)
    assert parsed.occurred_at.utcoffset() == timedelta(hours=8)
    assert json.loads(parsed.model_dump_json())["occurred_at"] == canonical
