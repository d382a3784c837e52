"""campaigns-load without a broker: the right rows reported, the right records sent, exit codes."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError

from schemas import SHANGHAI, Limits, RejectReason
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
        self.closed = False
        self._fail_after = fail_after

    async def send(self, key: bytes, value: bytes) -> None:
        if self._fail_after is not None and len(self.sent) >= self._fail_after:
            raise BrokerError("Kafka did not confirm a write")
        self.sent.append((key, value))

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


async def test_jsonl_rejections_are_reported_by_line_and_the_rest_are_sent(tmp_path: Path) -> None:
    sink = FakeSink()
    report = await load(write(tmp_path, "x.jsonl", JSONL), Format.JSONL, sink, NOW)
    assert reported(report.rejected) == JSONL_REJECTED
    assert (report.read, report.accepted, report.exit_code) == (8, 2, 1)
    assert [key for key, _ in sink.sent] == [b"cm-0107", b"cm-0215"]
    assert [json.loads(value)["event_id"] for _, value in sink.sent] == ["evt-1", "evt-5"]
    assert not sink.closed  # the caller owns the sink


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
    assert main([str(path), "--dry-run"]) == 0
    assert capsys.readouterr().out == "read 1, accepted 1, rejected 0 (dry run: nothing produced)\n"


def test_main_exits_1_and_lists_rejected_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "extract.txt", CSV)
    assert main([str(path), "--format", "csv", "--dry-run"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "read 7, accepted 2, rejected 5 (dry run: nothing produced)"
    assert out[1] == "line 3: missing_field: field 'data.cm_id' is required"
    assert [o.split(":")[0] for o in out[1:]] == [f"line {n}" for n, _ in CSV_REJECTED]


def test_main_produces_through_kafka_sink_and_closes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sink = FakeSink()
    opened_with: list[tuple[str, str]] = []

    async def connect(bootstrap: str, topic: str) -> FakeSink:
        opened_with.append((bootstrap, topic))
        return sink

    monkeypatch.setattr(KafkaSink, "connect", connect)
    path = write(tmp_path, "x.jsonl", JSONL)
    assert main([str(path), "--bootstrap", "kafka:9092", "--topic", "t.raw"]) == 1
    assert opened_with == [("kafka:9092", "t.raw")]
    assert len(sink.sent) == 2 and sink.closed
    assert capsys.readouterr().out.startswith("read 8, accepted 2, rejected 6\n")


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
    assert main(["--help"]) == 0
    assert "--dry-run" in capsys.readouterr().out


# --- the Kafka adapter, against a fake producer ---------------------------------------------


class FakeProducer:
    def __init__(self, fail: bool = False) -> None:
        self.records: list[tuple[str, bytes, bytes]] = []
        self.stopped = False
        self._fail = fail

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[object]:
        self.records.append((topic, value, key))
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
    sink = KafkaSink(producer, "events.raw", window=2)
    for n in range(5):
        await sink.send(b"cm-0107", f"{n}".encode())
    assert sink.delivered == 4  # two full windows confirmed, one record pending
    await sink.close()
    assert sink.delivered == 5 and producer.stopped
    assert producer.records[0] == ("events.raw", b"0", b"cm-0107")


async def test_kafka_sink_turns_a_failed_delivery_into_a_broker_error_and_still_stops() -> None:
    producer = FakeProducer(fail=True)
    sink = KafkaSink(producer, "events.raw")
    await sink.send(b"cm-0107", b"{}")
    with pytest.raises(BrokerError, match="idempotency key"):
        await sink.close()
    assert producer.stopped
