"""Reading extracts: line numbers, CSV cells to event objects, encodings."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from services.cli.errors import InputError
from services.cli.rows import Format, Oversized, Record, event_object, format_of, read_rows, survey


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def test_jsonl_rows_carry_their_physical_line_and_skip_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "x.jsonl", '{"a": 1}\n\n   \n{"b": 2}\r\nlast')
    assert list(read_rows(path, Format.JSONL)) == [
        Record(1, b'{"a": 1}', b'{"a": 1}'),
        Record(4, b'{"b": 2}', b'{"b": 2}'),
        Record(5, b"last", b"last"),
    ]


def test_csv_rows_start_after_the_header_and_count_lines_inside_quoted_cells(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", 'event_id,source\nevt-1,"two\nlines"\n\n,\nevt-2,crm\n')
    assert list(read_rows(path, Format.CSV)) == [
        Record(2, {"event_id": "evt-1", "source": "two\nlines"}, b'evt-1,"two\nlines"'),
        Record(6, {"event_id": "evt-2", "source": "crm"}, b"evt-2,crm"),
    ]


def test_csv_raw_bytes_are_the_record_s_physical_lines_as_in_the_file(tmp_path: Path) -> None:
    # CRLF inside and after a quoted cell, a final line with no line break, non-ASCII text.
    content = 'event_id,source\r\nevt-1,"a\r\nb"\r\n"evt-2" , 核心系统'
    path = write(tmp_path, "x.csv", content)
    assert [(r.line, r.raw) for r in read_rows(path, Format.CSV)] == [
        (2, b'evt-1,"a\r\nb"'),
        (4, '"evt-2" , 核心系统'.encode()),
    ]


def test_csv_with_a_byte_order_mark_reads_its_first_column_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "\ufeffevent_id,source\r\nevt-1,crm\r\n")
    assert list(read_rows(path, Format.CSV)) == [
        Record(2, {"event_id": "evt-1", "source": "crm"}, b"evt-1,crm")
    ]


def test_an_empty_csv_has_no_rows(tmp_path: Path) -> None:
    assert list(read_rows(write(tmp_path, "x.csv", ""), Format.CSV)) == []


def test_a_csv_row_becomes_the_event_object_the_json_door_would_get() -> None:
    header = ["event_id", "type", "schema_version", "source", "data.cm_id", "data.employees", "data.channel"]
    cells = ["evt-1", "payroll.signed", "1", "", "cm-0215", "86", ""]
    assert event_object(header, cells) == {
        "event_id": "evt-1",
        "type": "payroll.signed",
        "schema_version": 1,
        "data": {"cm_id": "cm-0215", "employees": "86"},
    }


@pytest.mark.parametrize("cell", ["v1", "1.0", "²", "-1"])
def test_a_schema_version_that_is_not_digits_stays_text(cell: str) -> None:
    assert event_object(["schema_version"], [cell]) == {"schema_version": cell}


def test_cells_beyond_the_header_are_kept_under_a_name_so_they_are_refused() -> None:
    assert event_object(["event_id"], ["evt-1", "stray"]) == {"event_id": "evt-1", "(column 2)": "stray"}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.csv", Format.CSV), ("A.CSV", Format.CSV), ("a.jsonl", Format.JSONL), ("a.ndjson", Format.JSONL)],
)
def test_the_format_follows_the_extension(name: str, fmt: Format) -> None:
    assert format_of(Path(name)) is fmt


def test_an_unknown_extension_asks_for_format() -> None:
    with pytest.raises(InputError, match="--format"):
        format_of(Path("extract.txt"))


def test_survey_counts_lines_with_or_without_a_final_newline(tmp_path: Path) -> None:
    assert survey(write(tmp_path, "a", "1\n2\n"), require_utf8=True) == 2
    assert survey(write(tmp_path, "b", "1\n2"), require_utf8=True) == 2
    assert survey(write(tmp_path, "c", ""), require_utf8=True) == 0


def test_survey_refuses_a_file_that_is_not_utf8_naming_the_line(tmp_path: Path) -> None:
    gbk = "event_id,source\nevt-1,核心系统\n".encode("gbk")
    with pytest.raises(InputError, match="line 2 is not UTF-8"):
        survey(write(tmp_path, "x.csv", gbk), require_utf8=True)
    assert survey(write(tmp_path, "x.jsonl", gbk), require_utf8=False) == 2


# --- rows longer than the limit: refused by line, never read whole ----------------------------


@pytest.mark.parametrize("size", [150, 3 * 1024 * 1024 + 7])  # within one read, and across chunks
def test_a_jsonl_line_over_the_limit_is_oversized_with_its_size_and_digest(tmp_path: Path, size: int) -> None:
    long_line = b"[" * size
    path = write(tmp_path, "x.jsonl", b'{"a": 1}\n' + long_line + b"\r\n" + b'{"b": 2}\n')
    first, long, last = read_rows(path, Format.JSONL, max_bytes=100)
    assert first == Record(1, b'{"a": 1}', b'{"a": 1}')
    assert long == Record(2, Oversized(size), long_line[:100], size, hashlib.sha256(long_line).hexdigest())
    assert last == Record(3, b'{"b": 2}', b'{"b": 2}')


def test_a_jsonl_line_just_over_the_limit_is_left_to_the_validator(tmp_path: Path) -> None:
    # Up to two bytes over, the whole line is read and the validator names its exact size.
    path = write(tmp_path, "x.jsonl", b"x" * 102 + b"\n" + b"y" * 103)
    assert [
        r.row if isinstance(r.row, Oversized) else len(r.row) for r in read_rows(path, Format.JSONL, 100)
    ] == [
        102,
        Oversized(103),
    ]


def test_a_csv_row_over_the_limit_is_oversized_and_the_rows_after_it_still_parse(tmp_path: Path) -> None:
    cell = "\n".join(["x" * 50] * 4)  # a quoted cell spanning four lines, 203 characters
    path = write(tmp_path, "x.csv", f'event_id,source\nevt-1,"{cell}"\r\nevt-2,crm\n')
    big, after = read_rows(path, Format.CSV, max_bytes=100)
    raw = f'evt-1,"{cell}"'.encode()
    assert big == Record(2, Oversized(len(raw)), raw[:100], len(raw), hashlib.sha256(raw).hexdigest())
    assert after == Record(6, {"event_id": "evt-2", "source": "crm"}, b"evt-2,crm")


def test_a_csv_row_running_on_past_the_cap_stops_the_read_naming_its_line(tmp_path: Path) -> None:
    unclosed = "\n".join(["x" * 50] * 100)  # an open quote swallowing the rest of the file
    path = write(tmp_path, "x.csv", f'event_id,source\nevt-1,"{unclosed}\n')
    with pytest.raises(InputError, match=r"line \d+: a CSV row runs past 1600 bytes; is a quote left open"):
        list(read_rows(path, Format.CSV, max_bytes=100))


def test_a_record_the_csv_parser_refuses_is_an_input_error_not_a_crash(tmp_path: Path) -> None:
    # One quoted cell of 150,000 characters over many lines: csv's own field limit (131,072).
    cell = "\n".join(["x" * 999] * 150)
    path = write(tmp_path, "x.csv", f'event_id,source\nevt-1,"{cell}"\n')
    with pytest.raises(InputError, match=r"line \d+: field larger than field limit"):
        list(read_rows(path, Format.CSV))


def test_survey_refuses_a_csv_line_over_the_limit_before_anything_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "a\n" + "b" * 100 + "\r\n" + "c" * 101 + "\n")
    with pytest.raises(InputError, match="line 3 is longer than 100 bytes"):
        survey(path, require_utf8=True, max_line_bytes=100)
    assert survey(path, require_utf8=True, max_line_bytes=101) == 3
