"""Reading an extract: each row with the physical line it starts on, nothing validated yet.

A JSONL row is the line's bytes, left for `schemas.validate` to decode. A CSV row becomes the
event object the JSON door would have received: envelope columns at the top level, ``data.<field>``
columns inside ``data``, empty cells left out, so absent and empty mean the same thing.

Each row also keeps its raw bytes, the text it was read from, for a dead letter: for JSONL the line,
for CSV the physical line(s) of that record (several where a quoted cell holds a line break), both
exactly as in the file but without the final line break. A CSV record's raw bytes do not repeat the
header: it is line 1 of the same file, which the dead letter names.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from services.cli.errors import InputError

Row = bytes | dict[str, Any]

DATA_PREFIX = "data."
_CHUNK = 1 << 20


class Record(NamedTuple):
    line: int  # 1-based physical line the row starts on
    row: Row
    raw: bytes  # the row as in the file, without its final line break


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


def survey(path: Path, *, require_utf8: bool) -> int:
    """Count the file's physical lines (for the progress bar) and, if asked, prove the whole file
    is UTF-8 before anything is produced. A JSONL line that is not UTF-8 is only that line's fault:
    the validator rejects it as malformed JSON."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    last = b"\n"
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            if require_utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise _not_utf8(path, lines + chunk[: max(exc.start, 0)].count(b"\n") + 1) from None
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _not_utf8(path, lines + (last != b"\n")) from None
    return lines + (last != b"\n")


def _not_utf8(path: Path, line: int) -> InputError:
    return InputError(
        f"{path.name} line {line} is not UTF-8; convert the file first (e.g. iconv -f GBK -t UTF-8)"
    )


def read_rows(path: Path, fmt: Format) -> Iterator[Record]:
    """A Record for every row that is not blank."""
    if fmt is Format.JSONL:
        return _jsonl_rows(path)
    return _csv_rows(path)


def _jsonl_rows(path: Path) -> Iterator[Record]:
    with path.open("rb") as file:
        for line_no, line in enumerate(file, start=1):
            if line.strip():
                text = line.rstrip(b"\r\n")
                yield Record(line_no, text, text)


def _csv_rows(path: Path) -> Iterator[Record]:
    # utf-8-sig: spreadsheets save UTF-8 with a byte-order mark.
    # newline="": line breaks reach the reader (and the raw text) as they are in the file.
    with path.open(encoding="utf-8-sig", newline="") as file:
        taken: list[str] = []  # the physical lines the reader has pulled for the current record

        def lines() -> Iterator[str]:
            for text in file:
                taken.append(text)
                yield text

        # The reader pulls lines only until its record is complete, so `taken` holds exactly that record.
        reader = csv.reader(lines())
        header = next(reader, None)
        if header is None:
            return
        header = [name.strip() for name in header]
        taken.clear()
        end = reader.line_num
        for cells in reader:
            # A quoted cell may span lines: a row starts on the line after the previous one ended.
            start, end = end + 1, reader.line_num
            raw = _without_line_break("".join(taken)).encode()
            taken.clear()
            if any(cell.strip() for cell in cells):
                yield Record(start, event_object(header, cells), raw)


def _without_line_break(text: str) -> str:
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


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
