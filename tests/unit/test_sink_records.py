"""The sink's record-to-row mapping: a record it cannot read raises (the sink parks it); every
row it does make is bounded and storable on both databases."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import datetime
from decimal import Decimal

import pytest

from schemas import SHANGHAI
from schemas.dead_letters import EVENT_ID, DeadLetter
from schemas.errors import RejectReason
from services.sink.records import UnreadableLedgerEntry, clean_text, dead_letter_row, ledger_row, parked_row
from streams.core.ledger import make_entry


def _entry_bytes() -> bytes:
    entry = make_entry(
        competition_id="feb-opening",
        rule_version=1,
        event_id="evt-1",
        cm_id="cm-1",
        sub_branch_id=None,
        team_id=None,
        occurred_at=datetime(2026, 2, 3, 10, 0, tzinfo=SHANGHAI),
        points=Decimal("1.50"),
        component="opening",
        reason="开立基本户",
    )
    return json.dumps(entry.to_dict()).encode()


def test_a_ledger_entry_becomes_a_row() -> None:
    assert ledger_row(_entry_bytes())["points"] == Decimal("1.50")


def test_an_entry_older_than_labels_is_read_with_none() -> None:
    old = json.loads(_entry_bytes())
    del old["label"], old["correction"]
    row = ledger_row(json.dumps(old).encode())
    assert (row["label"], row["correction"]) == (None, None)


@pytest.mark.parametrize(
    "label",
    [
        {"kind": "opening\x00"},  # PostgreSQL text cannot hold NUL
        {"Kind": "opening"},  # keys are plain lower-case words
        {"kind": "x" * 65},
        {"k" + chr(97 + i): "v" for i in range(17)},  # at most 16 words
        {"kind": 1},
    ],
)
def test_a_label_that_is_not_a_few_plain_words_is_refused(label: object) -> None:
    entry = json.loads(_entry_bytes())
    entry["label"] = label
    with pytest.raises(UnreadableLedgerEntry):
        ledger_row(json.dumps(entry).encode())


def test_sixteen_plain_words_are_a_label() -> None:
    entry = json.loads(_entry_bytes())
    entry["label"] = {"k" + chr(97 + i): "v" for i in range(16)}
    assert len(ledger_row(json.dumps(entry).encode())["label"]) == 16


def test_deeply_nested_ledger_bytes_are_refused_without_recursing() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100)
    try:
        with pytest.raises(UnreadableLedgerEntry, match=str(RejectReason.TOO_DEEP)):
            ledger_row(b"[" * 200_000)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "without a value"),
        (b"", "without a value"),
        (b"[1, 2]", "must be a JSON object, got list"),
        (b"\xff", "^malformed_json: "),
        (b'{"entry_id": "e"}', "field 'event_id'"),
    ],
)
def test_what_is_not_a_ledger_entry_raises_one_error_that_says_why(value: bytes | None, why: str) -> None:
    with pytest.raises(UnreadableLedgerEntry, match=why):  # the writer parks the record with this text
        ledger_row(value)


def test_the_reported_dead_letter_of_200_kb_of_brackets_becomes_a_bounded_row() -> None:
    original = b"[" * 200_000
    letter = DeadLetter("oversized", "message has 200000 bytes", original, "http", -1, 1)
    row = dead_letter_row("events.deadletter", 0, 5, letter.value, dict(letter.headers()), keep=65_536)
    assert len(row["raw"]) == 65_536
    assert row["event_id"] is None
    assert "first 65536 of 200000 bytes kept" in row["detail"]
    assert hashlib.sha256(original).hexdigest() in row["detail"]


def test_a_hand_written_dead_letter_is_cut_and_cleaned() -> None:
    headers = {"dlq.reason": b"r" * 500, "dlq.detail": b"nul\x00inside " + b"d" * 10_000}
    row = dead_letter_row("events.deadletter", 1, 2, b"x" * 2_000_000, headers, keep=1000)
    assert len(row["raw"]) == 1000
    assert len(row["reason"]) == 64
    assert len(row["detail"]) <= 2000
    assert "\x00" not in row["detail"]


def test_the_event_id_is_taken_only_when_it_is_a_valid_id() -> None:
    def event_id(raw: bytes) -> str | None:
        letter = DeadLetter("x", "y", raw, "t", 0, 0)
        return dead_letter_row("dl", 0, 0, letter.value, dict(letter.headers()), keep=65_536)["event_id"]

    assert event_id(b'{"event_id": "evt-7", "type": 1}') == "evt-7"
    assert event_id(b'{"event_id": "evt\\u0000nul"}') is None
    assert event_id(b'{"event_id": "' + b"e" * 200 + b'"}') is None
    assert event_id(b'{"event_id": "evt-1", "n": ' + b"9" * 5000 + b"}") is None


def test_the_doors_reading_of_the_event_id_travels_in_a_header_and_wins() -> None:
    """A CSV row's bytes are no JSON: the door read its event_id column and says it in a header,
    so the stored dead letter is found by that id; a malformed header id is dropped."""
    row = b"evt-c3,account.opened,1,2026-02-12T10:24:31+08:00,core-banking,a-3,c-3,,basic"
    letter = DeadLetter(
        "missing_field", "field 'data.cm_id' is required", row, "cli:x.csv", -1, 3, event_id="evt-c3"
    )
    headers = dict(letter.headers())
    assert headers[EVENT_ID] == b"evt-c3"
    assert DeadLetter.from_record(letter.value, headers).event_id == "evt-c3"
    assert dead_letter_row("dl", 0, 0, letter.value, headers, keep=65_536)["event_id"] == "evt-c3"
    forged = {**headers, EVENT_ID: b"evt with spaces"}
    assert dead_letter_row("dl", 0, 1, letter.value, forged, keep=65_536)["event_id"] is None
    without = DeadLetter("x", "y", row, "t", 0, 0)
    assert EVENT_ID not in dict(without.headers())


def test_a_parked_row_keeps_a_bounded_copy_with_the_whole_size_and_digest() -> None:
    value = b"\x00" * 300_000
    row = parked_row("score.ledger", 3, 99, b"k" * 5000, value, "Rejection: \x00", keep=65_536)
    assert (len(row["value"]), row["value_size"]) == (65_536, 300_000)
    assert row["value_sha256"] == hashlib.sha256(value).hexdigest()
    assert len(row["key"]) == 1024
    assert "\x00" not in row["reason"]


def test_clean_text_removes_what_postgresql_cannot_store() -> None:
    assert clean_text("a\x00b\ud800c", 100) == "a\ufffdb?c"
