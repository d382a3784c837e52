"""Kafka records to store rows: pure, so the mapping is tested without a broker.

`ledger_row` and `dead_letter_row` raise for a record they cannot turn into a row; the sink then
stores `parked_row` instead (services/sink/writer.py). Every text that reaches the database is
bounded and free of NUL characters (PostgreSQL's text type cannot hold them), and every copy of
foreign bytes is cut to `keep` bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields
from operator import attrgetter
from typing import Any

from pydantic import ValidationError

from schemas.dead_letters import DeadLetter, event_id_of
from schemas.errors import Rejection
from services.record_json import read_record
from streams.core.ledger import LedgerEntry

_REASON_CHARS = 64  # the dead_letters.reason column
_DETAIL_CHARS = 2000
_KEY_BYTES = 1024

# A row is the entry's fields as they are (dataclasses.asdict deep-copies each one: a tenth of
# the sink's time, for values nothing changes).
_LEDGER_FIELDS = tuple(f.name for f in fields(LedgerEntry))
_ledger_values = attrgetter(*_LEDGER_FIELDS)


class UnreadableLedgerEntry(ValueError):
    """A record on the ledger topic that is not a ledger entry; the sink parks it with this text."""


def ledger_row(value: bytes | None) -> dict[str, Any]:
    """The row of one ledger record; UnreadableLedgerEntry (and nothing else) for what is not one."""
    if not value:
        raise UnreadableLedgerEntry("a ledger record without a value")
    try:
        obj = read_record(value)
    except Rejection as exc:
        raise UnreadableLedgerEntry(f"{exc.reason}: {exc.detail}") from None
    if not isinstance(obj, dict):
        raise UnreadableLedgerEntry(f"a ledger entry must be a JSON object, got {type(obj).__name__}")
    try:
        entry = LedgerEntry.from_dict(obj)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "(entry)"
        raise UnreadableLedgerEntry(f"not a ledger entry: field '{where}': {first.get('msg')}") from None
    return dict(zip(_LEDGER_FIELDS, _ledger_values(entry), strict=True))


def dead_letter_row(
    topic: str, partition: int, offset: int, value: bytes | None, headers: dict[str, bytes], keep: int
) -> dict[str, Any]:
    """Keyed by the dead letter's own place in its topic, so a redelivery is stored once; the
    door it came through (raw topic and offset, or HTTP and line) is kept in the detail, and so
    are the original's size and SHA-256 when the stored copy is not all of it."""
    letter = DeadLetter.from_record(value, headers)
    copy = letter.raw[:keep]  # a hand-written dead letter may be bigger than any door sends
    origin = f"{letter.source_topic}@{letter.source_partition}:{letter.source_offset}"
    if len(copy) < letter.original_size:
        origin += f"; first {len(copy)} of {letter.original_size} bytes kept, sha256 {letter.original_sha256}"
    return {
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        "reason": clean_text(letter.reason, _REASON_CHARS) or "unknown",
        "detail": clean_text(f"{letter.detail} (from {origin})", _DETAIL_CHARS),
        "raw": copy,
        # The door's reading of the id (a CSV row's column, say); else the JSON copy's, when whole.
        "event_id": letter.event_id or (event_id_of(copy) if len(copy) == letter.original_size else None),
    }


def parked_row(
    topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, reason: str, keep: int
) -> dict[str, Any]:
    """A record the sink could not store: where it was, why, and a bounded copy of it."""
    whole = value or b""
    return {
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        "reason": clean_text(reason, _DETAIL_CHARS),
        "key": None if key is None else key[:_KEY_BYTES],
        "value": None if value is None else value[:keep],
        "value_size": len(whole),
        "value_sha256": hashlib.sha256(whole).hexdigest(),
    }


def describe(exc: BaseException) -> str:
    """Why a record could not be stored, in one bounded line."""
    if isinstance(exc, Rejection):
        return f"{exc.reason}: {exc.detail}"[:_DETAIL_CHARS]
    if isinstance(exc, UnreadableLedgerEntry):  # its text already says why, reason code first
        return str(exc)[:_DETAIL_CHARS]
    return f"{type(exc).__name__}: {exc}"[:_DETAIL_CHARS]


def clean_text(text: str, limit: int) -> str:
    """At most `limit` characters, no NUL, no lone surrogates: storable on every database."""
    cut = text[:limit].replace("\x00", "\N{REPLACEMENT CHARACTER}")
    return cut.encode("utf-8", "replace").decode("utf-8")
