"""campaigns-load without a broker: the right rows reported, the right records and dead letters
sent, exit codes."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError

from schemas import SHANGHAI, Limits, RejectReason
from schemas.dead_letters import EVENT_ID, REASON, SOURCE_OFFSET, DeadLetter
from schemas.topics import Topics
from services.cli.check import Accepted, Rejected, check
from services.cli.errors import BrokerError
from services.cli.load import load, main
from services.cli.rows import Format
from services.cli.sink import KafkaSink

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)


class FakeSink:
    """Records what a KafkaSink would have produced."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.sent: list[tuple[bytes, bytes]] = []
        self.letters: list[DeadLetter] = []
        self.closed = False
        self._fail_after = fail_after

    async def send(self, key: bytes, value: bytes) -> None:
        if self._fail_after is not None and len(self.sent) >= self._fail_after:
            raise BrokerError("Kafka did not confirm a write")
        self.sent.append((key, value))

    async def dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)

    async def close(self) -> None:
        self.closed = True


def opened(event_id: str, cm_id: str = "cm-0107", **changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "event_id": event_id,
        "type": "account.opened",
        "schema_version": 1,
        "occurred_at": "2026-02-12T10:24:31+08:00",
        "source": "core-banking",
        "data": {
            "account_id": f"acct-{event_id}",
            "customer_id": "cust-91320100MA1X7Q2K",
            "cm_id": cm_id,
            "account_type": "basic",
            "segment": "non_credit",
        },
    }
    obj.update(changes)
    return obj


def line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


JSONL = "\n".join(
    [
        line(opened("evt-1")),  # 1 good
        line(opened("evt-2", occurred_at="2026-02-12T10:24:31")),  # 2 naive time
        "",  # 3 blank: skipped, still counted
        "{not json",  # 4
        line(opened("evt-5", cm_id="cm-0215")),  # 5 good
        line({**opened("evt-6"), "type": "account.frozen"}),  # 6
        "[1, 2]",  # 7
        line(opened("evt-8", schema_version=2)),  # 8
        line(opened("evt-9", occurred_at="2026-12-01T09:00:00+08:00")),  # 9 future
    ]
)
JSONL_REJECTED = [
    (2, RejectReason.INVALID_VALUE),
    (4, RejectReason.MALFORMED_JSON),
    (6, RejectReason.UNKNOWN_TYPE),
    (7, RejectReason.NOT_AN_OBJECT),
    (8, RejectReason.UNKNOWN_VERSION),
    (9, RejectReason.FUTURE_TIME),
]

HEADER = (
    "event_id,type,schema_version,occurred_at,source,"
    "data.account_id,data.customer_id,data.cm_id,data.account_type,data.segment,data.new_firm"
)
AT = "2026-02-12T10:24:31+08:00"
CSV = "\n".join(
    [
        HEADER,  # 1
        f"evt-c2,account.opened,1,{AT},core-banking,a-2,c-2,cm-0107,basic,non_credit,true",  # 2
        f"evt-c3,account.opened,1,{AT},core-banking,a-3,c-3,,basic,non_credit,",  # 3 no cm_id
        f"evt-c4,account.opened,1,{AT},core-banking,a-4,c-4,cm-0107,basic,non_credit,perhaps",  # 4
        ",,,,,,,,,,",  # 5 empty row: skipped
        f'evt-c6,account.opened,1,{AT},"core\nbanking",a-6,c-6,cm-0107,vip,non_credit,',  # 6-7
        f"evt-c8,account.opened,one,{AT},core-banking,a-8,c-8,cm-0107,basic,non_credit,",  # 8
        f"evt-c9,account.opened,1,{AT},core-banking,a-9,c-9,cm-0300,general,credit_online,",  # 9
        f"evt-c10,account.opened,1,{AT},,a-10,c-10,cm-0107,basic,non_credit,",  # 10 no source
    ]
)
CSV_REJECTED = [
    (3, RejectReason.MISSING_FIELD),
    (4, RejectReason.WRONG_TYPE),
    (6, RejectReason.INVALID_VALUE),
    (8, RejectReason.WRONG_TYPE),
    (10, RejectReason.MISSING_FIELD),
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def reported(rejected: list[Rejected]) -> list[tuple[int, RejectReason]]:
    return [(r.line, r.reason) for r in rejected]


def lettered(letters: list[DeadLetter]) -> list[tuple[int, str]]:
    return [(letter.source_offset, letter.reason) for letter in letters]


def physical_line(text: str, number: int) -> bytes:
    return text.split("\n")[number - 1].encode()


async def test_jsonl_rejections_are_reported_by_line_and_the_rest_are_sent(tmp_path: Path) -> None:
    sink = FakeSink()
    report = await load(write(tmp_path, "x.jsonl", JSONL), Format.JSONL, sink, NOW)
    assert reported(report.rejected) == JSONL_REJECTED
    assert (report.read, report.accepted, report.exit_code) == (8, 2, 1)
    assert [key for key, _ in sink.sent] == [b"cm-0107", b"cm-0215"]
    assert [json.loads(value)["event_id"] for _, value in sink.sent] == ["evt-1", "evt-5"]
    assert not sink.closed  # the caller owns the sink


async def test_each_rejected_jsonl_line_is_dead_lettered_with_its_bytes_as_in_the_file(
    tmp_path: Path,
) -> None:
    sink = FakeSink()
    report = await load(write(tmp_path, "x.jsonl", JSONL), Format.JSONL, sink, NOW)
    assert lettered(sink.letters) == [(n, str(reason)) for n, reason in JSONL_REJECTED]
    assert [letter.raw for letter in sink.letters] == [physical_line(JSONL, n) for n, _ in JSONL_REJECTED]
    assert [letter.detail for letter in sink.letters] == [r.detail for r in report.rejected]
    assert {(letter.source_topic, letter.source_partition) for letter in sink.letters} == {
        ("cli:x.jsonl", -1)
    }


async def test_a_rejected_csv_record_is_dead_lettered_as_its_physical_lines(tmp_path: Path) -> None:
    sink = FakeSink()
    await load(write(tmp_path, "extract.csv", CSV), Format.CSV, sink, NOW)
    assert lettered(sink.letters) == [(n, str(reason)) for n, reason in CSV_REJECTED]
    raw = {letter.source_offset: letter.raw for letter in sink.letters}
    # Line 6 holds a quoted cell with a line break: its record is lines 6 and 7, joined as in the file.
    assert raw[6] == physical_line(CSV, 6) + b"\n" + physical_line(CSV, 7)
    assert raw[6].startswith(b"evt-c6,") and raw[6].endswith(b",vip,non_credit,")
    assert [raw[n] for n in (3, 4, 8, 10)] == [physical_line(CSV, n) for n in (3, 4, 8, 10)]
    assert {letter.source_topic for letter in sink.letters} == {"cli:extract.csv"}


async def test_a_rejected_row_s_dead_letter_names_its_event_id_so_explain_finds_it(tmp_path: Path) -> None:
    sink = FakeSink()
    await load(write(tmp_path, "extract.csv", CSV), Format.CSV, sink, NOW)
    assert {letter.source_offset: letter.event_id for letter in sink.letters} == {
        3: "evt-c3",
        4: "evt-c4",
        6: "evt-c6",
        8: "evt-c8",
        10: "evt-c10",
    }
    assert all(
        (EVENT_ID, letter.event_id.encode()) in letter.headers() for letter in sink.letters if letter.event_id
    )


async def test_an_event_id_seen_earlier_in_the_file_is_a_duplicate_sent_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "\n".join(line(opened(e)) for e in ("evt-1", "evt-2", "evt-1", "evt-1")) + "\n"
    sink = FakeSink()
    report = await load(write(tmp_path, "x.jsonl", text), Format.JSONL, sink, NOW)
    assert (report.read, report.accepted, report.rejected) == (4, 2, [])
    assert report.duplicates == [(3, "evt-1", 1), (4, "evt-1", 1)]
    assert [json.loads(value)["event_id"] for _, value in sink.sent] == ["evt-1", "evt-2"]
    assert report.exit_code == 0
    assert report.lines() == [
        "read 4, accepted 2, rejected 0, duplicate 2",
        "line 3: duplicate: evt-1 (first on line 1)",
        "line 4: duplicate: evt-1 (first on line 1)",
    ]


async def test_a_load_with_no_bad_rows_sends_no_dead_letters(tmp_path: Path) -> None:
    sink = FakeSink()
    await load(write(tmp_path, "x.jsonl", line(opened("evt-1"))), Format.JSONL, sink, NOW)
    assert len(sink.sent) == 1 and sink.letters == []


async def test_csv_rejections_are_reported_by_physical_line_with_the_header_as_line_1(tmp_path: Path) -> None:
    sink = FakeSink()
    report = await load(write(tmp_path, "x.csv", CSV), Format.CSV, sink, NOW)
    assert reported(report.rejected) == CSV_REJECTED
    assert [r.detail for r in report.rejected if r.reason is RejectReason.MISSING_FIELD] == [
        "field 'data.cm_id' is required",
        "field 'source' is required",
    ]
    assert [json.loads(value)["event_id"] for _, value in sink.sent] == ["evt-c2", "evt-c9"]
    assert (report.read, report.accepted) == (7, 2)


async def test_what_is_sent_is_the_canonical_json_keyed_by_customer_manager(tmp_path: Path) -> None:
    sink = FakeSink()
    await load(write(tmp_path, "x.csv", CSV), Format.CSV, sink, NOW)
    key, value = sink.sent[0]
    assert key == b"cm-0107"
    assert json.loads(value) == {
        "event_id": "evt-c2",
        "type": "account.opened",
        "schema_version": 1,
        "occurred_at": "2026-02-12T10:24:31+08:00",
        "source": "core-banking",
        "data": {
            "account_id": "a-2",
            "customer_id": "c-2",
            "cm_id": "cm-0107",
            "sub_branch_id": None,
            "account_type": "basic",
            "segment": "non_credit",
            "channel": "other",
            "new_firm": True,
        },
    }


async def test_source_fills_rows_without_one_and_leaves_the_others(tmp_path: Path) -> None:
    sink = FakeSink()
    report = await load(write(tmp_path, "x.csv", CSV), Format.CSV, sink, NOW, source="branch-extract")
    assert (10, RejectReason.MISSING_FIELD) not in reported(report.rejected)
    sources = {json.loads(v)["event_id"]: json.loads(v)["source"] for _, v in sink.sent}
    assert sources == {"evt-c2": "core-banking", "evt-c9": "core-banking", "evt-c10": "branch-extract"}


async def test_a_dry_run_sends_nothing_and_reports_the_same(tmp_path: Path) -> None:
    report = await load(write(tmp_path, "x.jsonl", JSONL), Format.JSONL, None, NOW)
    assert reported(report.rejected) == JSONL_REJECTED
    assert report.accepted == 2
    assert report.lines()[0] == "read 8, accepted 2, rejected 6 (dry run: nothing produced)"


async def test_a_broker_failure_stops_the_load(tmp_path: Path) -> None:
    with pytest.raises(BrokerError):
        await load(write(tmp_path, "x.jsonl", JSONL), Format.JSONL, FakeSink(fail_after=1), NOW)


def test_check_is_a_pure_step_over_numbered_rows() -> None:
    rows: list[tuple[int, bytes | dict[str, Any]]] = [
        (7, line(opened("evt-1")).encode()),
        (9, {**opened("evt-2"), "event_id": ""}),
    ]
    first, second = check(rows, NOW)
    assert isinstance(first, Accepted) and (first.line, first.key) == (7, b"cm-0107")
    assert isinstance(second, Rejected) and (second.line, second.reason) == (9, RejectReason.INVALID_VALUE)


def test_a_csv_row_too_big_for_the_wire_is_refused_as_oversized() -> None:
    (outcome,) = check([(2, opened("evt-1", source="x" * 64))], NOW, limits=Limits(max_bytes=200))
    assert isinstance(outcome, Rejected) and outcome.reason is RejectReason.OVERSIZED


# --- main: arguments, output, exit codes ----------------------------------------------------


def test_main_exits_0_when_every_row_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "x.jsonl", line(opened("evt-1")) + "\n")
    assert main([str(path), "--dry-run"], clock=lambda: NOW) == 0
    assert capsys.readouterr().out == "read 1, accepted 1, rejected 0 (dry run: nothing produced)\n"


def test_main_exits_1_and_lists_rejected_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "extract.txt", CSV)
    assert main([str(path), "--format", "csv", "--dry-run"], clock=lambda: NOW) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "read 7, accepted 2, rejected 5 (dry run: nothing produced)"
    assert out[1] == "line 3: missing_field: field 'data.cm_id' is required"
    assert [o.split(":")[0] for o in out[1:]] == [f"line {n}" for n, _ in CSV_REJECTED]


def test_main_produces_through_kafka_sink_and_closes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sink = FakeSink()
    opened_with: list[tuple[str, str]] = []

    async def connect(bootstrap: str, topic: str, dead_letter_topic: str) -> FakeSink:
        opened_with.append((bootstrap, topic, dead_letter_topic))
        return sink

    monkeypatch.setattr(KafkaSink, "connect", connect)
    path = write(tmp_path, "x.jsonl", JSONL)
    args = ["--bootstrap", "kafka:9092", "--topic", "t.raw", "--dead-letter-topic", "t.dlq"]
    assert main([str(path), *args], clock=lambda: NOW) == 1
    assert opened_with == [("kafka:9092", "t.raw", "t.dlq")]
    assert len(sink.sent) == 2 and len(sink.letters) == 6 and sink.closed
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "read 8, accepted 2, rejected 6"
    assert [o.split(":")[0] for o in out[1:]] == [f"line {n}" for n, _ in JSONL_REJECTED]


def test_main_uses_the_shared_topic_names_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened_with: list[tuple[str, str]] = []

    async def connect(bootstrap: str, topic: str, dead_letter_topic: str) -> FakeSink:
        opened_with.append((topic, dead_letter_topic))
        return FakeSink()

    monkeypatch.setattr(KafkaSink, "connect", connect)
    assert main([str(write(tmp_path, "x.jsonl", JSONL))], clock=lambda: NOW) == 1
    assert opened_with == [(Topics().raw, Topics().dead_letters)]


def test_a_dry_run_connects_to_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def connect(bootstrap: str, topic: str, dead_letter_topic: str) -> FakeSink:
        raise AssertionError("a dry run must not connect")

    monkeypatch.setattr(KafkaSink, "connect", connect)
    assert main([str(write(tmp_path, "x.jsonl", JSONL)), "--dry-run"], clock=lambda: NOW) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "no such file"),
        (["extract.txt"], "pass --format"),
        (["gbk.csv", "--dry-run"], "line 2 is not UTF-8"),
        (["ok.jsonl", "--bootstrap", "127.0.0.1:1"], "cannot reach Kafka at 127.0.0.1:1"),
    ],
)
def test_main_exits_2_with_one_line_and_no_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    write(tmp_path, "extract.txt", CSV)
    write(tmp_path, "ok.jsonl", line(opened("evt-1")))
    (tmp_path / "gbk.csv").write_bytes("event_id,source\nevt-1,核心系统\n".encode("gbk"))
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err
    assert captured.err.startswith("campaigns-load: ")


@pytest.mark.parametrize("args", [[], ["a.csv", "--format", "xml"], ["a.csv", "--nope"]])
def test_main_exits_2_on_bad_usage(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert "usage: campaigns-load" in capsys.readouterr().err


def test_main_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"], clock=lambda: NOW) == 0
    assert "--dry-run" in capsys.readouterr().out


# --- the Kafka adapter, against a fake producer ---------------------------------------------


Headers = list[tuple[str, bytes]] | None


class FakeProducer:
    def __init__(self, fail: bool = False) -> None:
        self.records: list[tuple[str, bytes, bytes | None, Headers]] = []
        self.stopped = False
        self._fail = fail

    async def send(
        self, topic: str, value: bytes, key: bytes | None, headers: Headers = None
    ) -> asyncio.Future[object]:
        self.records.append((topic, value, key, headers))
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if self._fail:
            future.set_exception(KafkaTimeoutError())
        else:
            future.set_result(None)
        return future

    async def stop(self) -> None:
        self.stopped = True


async def test_kafka_sink_sends_to_its_topic_and_confirms_in_windows() -> None:
    producer = FakeProducer()
    sink = KafkaSink(producer, "events.raw", "events.deadletter", window=2)
    for n in range(5):
        await sink.send(b"cm-0107", f"{n}".encode())
    assert sink.delivered == 4  # two full windows confirmed, one record pending
    await sink.close()
    assert sink.delivered == 5 and producer.stopped
    assert producer.records[0] == ("events.raw", b"0", b"cm-0107", None)


async def test_kafka_sink_sends_dead_letters_with_the_same_producer_and_their_headers() -> None:
    producer = FakeProducer()
    sink = KafkaSink(producer, "events.raw", "events.deadletter")
    letter = DeadLetter("malformed_json", "expecting value", b"{not json", "cli:x.jsonl", -1, 4)
    await sink.send(b"cm-0107", b"{}")
    await sink.dead_letter(letter)
    await sink.close()
    assert producer.records[1] == ("events.deadletter", b"{not json", None, letter.headers())
    headers = dict(letter.headers())
    assert (headers[REASON], headers[SOURCE_OFFSET]) == (b"malformed_json", b"4")
    assert (sink.delivered, sink.dead_lettered) == (1, 1)


async def test_kafka_sink_turns_a_failed_delivery_into_a_broker_error_and_still_stops() -> None:
    producer = FakeProducer(fail=True)
    sink = KafkaSink(producer, "events.raw", "events.deadletter")
    await sink.send(b"cm-0107", b"{}")
    with pytest.raises(BrokerError, match="idempotency key"):
        await sink.close()
    assert producer.stopped


async def test_kafka_sink_names_the_dead_letter_topic_when_a_dead_letter_fails() -> None:
    sink = KafkaSink(FakeProducer(fail=True), "events.raw", "events.deadletter")
    await sink.dead_letter(DeadLetter("empty", "no bytes", b"", "cli:x.jsonl", -1, 1))
    with pytest.raises(BrokerError, match=r"write to events\.deadletter"):
        await sink.close()


# --- hostile files ---------------------------------------------------------------------------


async def test_an_oversized_jsonl_line_is_refused_by_number_and_dead_lettered_cut(tmp_path: Path) -> None:
    huge = "[" * 3_000_000
    path = write(tmp_path, "x.jsonl", "\n".join([line(opened("evt-1")), huge, line(opened("evt-3"))]) + "\n")
    sink = FakeSink()
    report = await load(path, Format.JSONL, sink, NOW)

    assert [(r.line, r.reason, r.detail) for r in report.rejected] == [
        (2, RejectReason.OVERSIZED, "row has 3000000 bytes, limit is 65536")
    ]
    assert [json.loads(value)["event_id"] for _, value in sink.sent] == ["evt-1", "evt-3"]
    (letter,) = sink.letters
    assert (len(letter.value), letter.original_size, letter.truncated) == (65_536, 3_000_000, True)
    assert letter.original_sha256 == hashlib.sha256(huge.encode()).hexdigest()


async def test_hostile_jsonl_lines_are_each_refused_with_their_reason(tmp_path: Path) -> None:
    balance = line(opened("evt-2")).replace('"basic"', "9" * 5000)
    lines = [
        line(opened("evt-1")),
        "[" * 60_000,
        balance,
        line(opened("evt-4"))[:-1] + ', "event_id": "evt-x"}',
        line(opened("evt-5")).replace('"non_credit"', "NaN"),
    ]
    report = await load(write(tmp_path, "x.jsonl", "\n".join(lines)), Format.JSONL, FakeSink(), NOW)
    assert reported(report.rejected) == [
        (2, RejectReason.TOO_DEEP),
        (3, RejectReason.NUMBER_TOO_LONG),
        (4, RejectReason.DUPLICATE_KEY),
        (5, RejectReason.MALFORMED_JSON),
    ]
    assert report.accepted == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + "\n" + "x" * 70_000 + "\n", "x.csv line 2 is longer than 65536 bytes"),
        (HEADER + '\nevt-1,"' + "\n".join(["y" * 999] * 150) + '"\n', "field larger than field limit"),
    ],
    ids=["long-line", "csv-field-limit"],
)
def test_a_csv_the_parser_cannot_read_safely_exits_2_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = write(tmp_path, "x.csv", text)
    assert main([str(path), "--dry-run"], clock=lambda: NOW) == 2
    last = capsys.readouterr().err.splitlines()[-1]  # after the progress bar, if it started
    assert last.startswith("campaigns-load: ") and message in last
