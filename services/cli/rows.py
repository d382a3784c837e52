"""Reading an extract: each row with the physical line it starts on, nothing validated yet.

A JSONL row is the line's bytes, left for `schemas.validate` to decode. A CSV row becomes the
event object the JSON door would have received: envelope columns at the top level, ``data.<field>``
columns inside ``data``, empty cells left out, so absent and empty mean the same thing.

Each row also keeps its raw bytes, the text it was read from, for a dead letter: for JSONL the line,
for CSV the physical line(s) of that record (several where a quoted cell holds a line break), both
exactly as in the file but without the final line break. A CSV record's raw bytes do not repeat the
header: it is line 1 of the same file, which the dead letter names.

Nothing is read whole that the file's author controls the size of. A row longer than the limit
(the message limit) becomes an `Oversized` row: its first bytes as raw, its size and SHA-256, the
rest read in chunks and dropped; the validator refuses it with its line number and the load goes
on. A CSV file whose physical line is longer than the limit is refused before anything is sent
(`survey`): the CSV parser cannot find the next row without reading that line whole. A CSV row
spanning lines is cut off at `CSV_ROW_CAP` times the limit (an unclosed quote swallowing the file).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from services.cli.errors import InputError

DATA_PREFIX = "data."
DEFAULT_MAX_BYTES = 64 * 1024
CSV_ROW_CAP = 16  # times the limit: past this a CSV row is a broken file, not an oversized row
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Oversized:
    """A row longer than the limit: only its size travels on, never its content."""

    size: int


Row = bytes | dict[str, Any] | Oversized


class Record(NamedTuple):
    line: int  # 1-based physical line the row starts on
    row: Row
    raw: bytes  # the row as in the file, without its final line break (cut to the limit if Oversized)
    size: int | None = None  # the whole row's size, when `raw` is not all of it
    sha256: str | None = None  # the whole row's digest, when `raw` is not all of it


class Format(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


_EXTENSIONS = {".csv": Format.CSV, ".jsonl": Format.JSONL, ".ndjson": Format.JSONL}


def format_of(path: Path) -> Format:
    try:
        return _EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise InputError(
            f"cannot tell the format of {path.name} from its extension; pass --format csv or --format jsonl"
        ) from None


def survey(path: Path, *, require_utf8: bool, max_line_bytes: int | None = None) -> int:
    """Count the file's physical lines (for the progress bar) and, if asked, prove the whole file
    is UTF-8 and no line longer than `max_line_bytes` before anything is produced. A JSONL line
    that is not UTF-8 or too long is only that line's fault: the validator rejects it."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    run = 0  # bytes of the line in progress
    last = b"\n"
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            if require_utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise _not_utf8(path, lines + chunk[: max(exc.start, 0)].count(b"\n") + 1) from None
            if max_line_bytes is not None:
                run = _check_line_lengths(path, chunk, lines, run, max_line_bytes)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _not_utf8(path, lines + (last != b"\n")) from None
    return lines + (last != b"\n")


def _check_line_lengths(path: Path, chunk: bytes, lines: int, run: int, limit: int) -> int:
    """Refuse the first line longer than `limit` bytes (line break not counted); returns the length
    of the line still in progress at the end of the chunk."""
    pieces = chunk.split(b"\n")
    for i, piece in enumerate(pieces):
        run = (run if i == 0 else 0) + len(piece)
        complete = i < len(pieces) - 1
        if run - (complete and piece.endswith(b"\r")) > limit:
            raise InputError(
                f"{path.name} line {lines + i + 1} is longer than {limit} bytes; "
                "a CSV row must fit in one event (is a quote or a line break missing?)"
            )
    return run


def _not_utf8(path: Path, line: int) -> InputError:
    return InputError(
        f"{path.name} line {line} is not UTF-8; convert the file first (e.g. iconv -f GBK -t UTF-8)"
    )


def read_rows(path: Path, fmt: Format, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Record]:
    """A Record for every row that is not blank; a row longer than `max_bytes` is Oversized."""
    if fmt is Format.JSONL:
        return _jsonl_rows(path, max_bytes)
    return _csv_rows(path, max_bytes)


def _jsonl_rows(path: Path, max_bytes: int) -> Iterator[Record]:
    with path.open("rb") as file:
        line_no = 0
        # One byte more than the limit (and its line break) tells a whole line from a long one.
        while head := file.readline(max_bytes + 3):
            line_no += 1
            if head.endswith(b"\n") or len(head) < max_bytes + 3:
                if head.strip():
                    text = head.rstrip(b"\r\n")
                    yield Record(line_no, text, text)
                continue
            size, digest = _rest_of_line(file, head)
            yield Record(line_no, Oversized(size), head[:max_bytes], size, digest)


def _rest_of_line(file: BinaryIO, head: bytes) -> tuple[int, str]:
    """Read a long line to its end in chunks, keeping only its size and SHA-256 (line break not
    counted)."""
    digest = hashlib.sha256()
    size = 0
    pending = head
    while True:
        more = file.readline(_CHUNK)
        if not more or more.endswith(b"\n"):
            tail = (pending + more).rstrip(b"\r\n")
            digest.update(tail)
            return size + len(tail), digest.hexdigest()
        digest.update(pending)
        size += len(pending)
        pending = more


class _RowText:
    """The physical lines of the CSV record being read: kept up to the limit, beyond that only
    counted and hashed; past CSV_ROW_CAP times the limit the file is refused."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self._path = path
        self._max = max_bytes
        self._reset()

    def _reset(self) -> None:
        self._kept = bytearray()
        self._size = 0
        self._digest = hashlib.sha256()
        self._last = b""  # the newest line, hashed once we know it is not the record's last

    def add(self, text: str, line: int) -> None:
        data = text.encode()
        self._digest.update(self._last)
        self._last = data
        self._size += len(data)
        if len(self._kept) <= self._max:
            self._kept += data[: self._max + 2 - len(self._kept)]
        if self._size > CSV_ROW_CAP * self._max:
            raise InputError(
                f"{self._path.name} line {line}: a CSV row runs past {CSV_ROW_CAP * self._max} bytes; "
                "is a quote left open?"
            )

    def take(self) -> tuple[bytes, int, str | None]:
        """The record's raw bytes without the final line break, its size, and its SHA-256 when
        the raw bytes are cut."""
        ending = _line_break_length(self._last)
        size = self._size - ending
        if size <= self._max:
            raw, digest = bytes(self._kept[: len(self._kept) - ending]), None
        else:
            self._digest.update(self._last[: len(self._last) - ending])
            raw, digest = bytes(self._kept[: self._max]), self._digest.hexdigest()
        self._reset()
        return raw, size, digest


def _csv_rows(path: Path, max_bytes: int) -> Iterator[Record]:
    # utf-8-sig: spreadsheets save UTF-8 with a byte-order mark.
    # newline="": line breaks reach the reader (and the raw text) as they are in the file.
    with path.open(encoding="utf-8-sig", newline="") as file:
        taken = _RowText(path, max_bytes)  # the physical lines the reader pulled for this record
        physical = 0

        def lines() -> Iterator[str]:
            nonlocal physical
            # Bounded reads: `survey` refused longer lines, but the file may have changed since.
            while text := file.readline(CSV_ROW_CAP * max_bytes):
                physical += 1
                taken.add(text, physical)
                yield text

        # The reader pulls lines only until its record is complete, so `taken` holds exactly that record.
        reader = csv.reader(lines())
        try:
            header = next(reader, None)
            if header is None:
                return
            header = [name.strip() for name in header]
            taken.take()
            end = reader.line_num
            for cells in reader:
                # A quoted cell may span lines: a row starts on the line after the previous one ended.
                start, end = end + 1, reader.line_num
                raw, size, digest = taken.take()
                if digest is not None:
                    yield Record(start, Oversized(size), raw, size, digest)
                elif any(cell.strip() for cell in cells):
                    yield Record(start, event_object(header, cells), raw)
        except csv.Error as exc:
            raise InputError(f"{path.name} line {physical}: {exc}; is a quote left open?") from None


def _line_break_length(data: bytes) -> int:
    for ending in (b"\r\n", b"\n", b"\r"):
        if data.endswith(ending):
            return len(ending)
    return 0


def event_object(header: list[str], cells: list[str]) -> dict[str, Any]:
    """One CSV row as the JSON object of an event."""
    obj: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for i, cell in enumerate(cells):
        if cell == "":
            continue
        # Cells beyond the header keep a name, so the validator refuses them like any unknown field.
        name = header[i] if i < len(header) else f"(column {i + 1})"
        if name.startswith(DATA_PREFIX):
            data[name.removeprefix(DATA_PREFIX)] = cell
        elif name == "schema_version" and cell.strip().isascii() and cell.strip().isdigit():
            obj[name] = int(cell)
        else:
            obj[name] = cell
    if data:
        obj["data"] = data
    return obj
