"""A dead letter carries a bounded copy of the original, with its size and digest, and reading one
back survives headers written by hand."""

from __future__ import annotations

import hashlib

from schemas.dead_letters import (
    ORIGINAL_SHA256,
    ORIGINAL_SIZE,
    REASON,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    TRUNCATED,
    DeadLetter,
)


def test_a_small_original_travels_whole() -> None:
    letter = DeadLetter("malformed_json", "not JSON", b"{oops", "events.raw", 2, 41)
    headers = dict(letter.headers())
    assert letter.value == b"{oops"
    assert headers[ORIGINAL_SIZE] == b"5"
    assert headers[ORIGINAL_SHA256] == hashlib.sha256(b"{oops").hexdigest().encode()
    assert headers[TRUNCATED] == b"false"


def test_a_large_original_is_cut_to_the_limit_with_its_size_and_digest() -> None:
    original = b"[" * 200_000
    letter = DeadLetter("oversized", "too big", original, "http", -1, 1, keep=65_536)
    headers = dict(letter.headers())
    assert letter.value == original[:65_536]
    assert headers[ORIGINAL_SIZE] == b"200000"
    assert headers[ORIGINAL_SHA256] == hashlib.sha256(original).hexdigest().encode()
    assert headers[TRUNCATED] == b"true"


def test_a_door_that_kept_only_the_head_passes_the_whole_size_and_digest() -> None:
    letter = DeadLetter(
        "oversized", "row too big", b"head", "cli:x.jsonl", -1, 7, size=9_000_000, sha256="ab" * 32
    )
    headers = dict(letter.headers())
    assert (headers[ORIGINAL_SIZE], headers[ORIGINAL_SHA256], headers[TRUNCATED]) == (
        b"9000000",
        b"ab" * 32,
        b"true",
    )


def test_the_detail_header_is_bounded() -> None:
    letter = DeadLetter("unknown_type", "x" * 50_000, b"{}", "events.raw", 0, 0)
    assert len(dict(letter.headers())["dlq.detail"]) == 1000


def test_reading_back_round_trips() -> None:
    sent = DeadLetter("oversized", "too big", b"[" * 1000, "http", -1, 3, keep=100)
    read = DeadLetter.from_record(sent.value, dict(sent.headers()))
    assert (read.reason, read.source_partition, read.source_offset) == ("oversized", -1, 3)
    assert (read.raw, read.original_size, read.original_sha256) == (b"[" * 100, 1000, sent.original_sha256)
    assert read.truncated


def test_hand_written_headers_never_raise() -> None:
    junk = {
        REASON: b"\xff\xfe",
        SOURCE_PARTITION: "²".encode(),  # a digit to str.isdigit, not to int()
        SOURCE_OFFSET: b"9" * 5000,
        ORIGINAL_SIZE: b"-",
        ORIGINAL_SHA256: b"not a digest",
        "dlq.detail": None,  # Kafka header values may be null
    }
    letter = DeadLetter.from_record(None, junk)  # type: ignore[arg-type]
    assert (letter.source_partition, letter.source_offset) == (-1, -1)
    assert (letter.raw, letter.original_size, letter.detail) == (b"", 0, "")
    assert letter.original_sha256 == hashlib.sha256(b"").hexdigest()
