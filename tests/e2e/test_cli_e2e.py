"""campaigns-load as an operator runs it: the installed command, the real broker, a real worker.
Good rows come out validated and deduplicated; bad rows are reported and dead-lettered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from schemas.dead_letters import REASON, DeadLetter
from schemas.topics import Topics
from tests.support.events import opened, wire
from tests.support.kafka import BOOTSTRAP, Record, wait_for
from tests.support.processes import Process

CLI = Path(sys.executable).parent / "campaigns-load"
AT = "2026-02-03T10:00:00+08:00"

HEADER = (
    "event_id,type,schema_version,occurred_at,source,"
    "data.account_id,data.customer_id,data.cm_id,data.account_type,data.segment,data.new_firm"
)
CSV_LINES = [
    HEADER,  # 1
    f"evt-csv-2,account.opened,1,{AT},branch,a-2,c-2,cm-e2e-1,basic,non_credit,true",  # 2 good
    f"evt-csv-3,account.opened,1,{AT},branch,a-3,c-3,,basic,non_credit,",  # 3 no cm_id
    f"evt-csv-4,account.opened,1,{AT},branch,a-4,c-4,cm-e2e-1,basic,non_credit,perhaps",  # 4
    f"evt-csv-5,loan.granted,1,{AT},branch,a-5,c-5,cm-e2e-1,basic,non_credit,",  # 5
    f"evt-csv-6,account.opened,1,{AT},branch,a-6,c-6,cm-e2e-2,general,credit_online,",  # 6 good
    f'evt-csv-7,account.opened,1,{AT},"branch\nnorth",a-7,c-7,cm-e2e-2,vip,non_credit,',  # 7-8
]
CSV_REJECTED = {3: "missing_field", 4: "wrong_type", 5: "unknown_type", 7: "invalid_value"}

JSONL_LINES = [
    wire(opened("evt-jl-1", cm_id="cm-e2e-1")),  # 1 good
    b'{"event_id": "evt-jl-2", "type": ',  # 2
    wire(dict(opened("evt-jl-3"), schema_version=7)),  # 3
    wire(opened("evt-jl-4", cm_id="cm-e2e-3")),  # 4 good
    wire(dict(opened("evt-jl-5"), occurred_at="2099-01-01T00:00:00+08:00")),  # 5
]
JSONL_REJECTED = {2: "malformed_json", 3: "unknown_version", 5: "future_time"}

ACCEPTED = {"evt-csv-2": "cm-e2e-1", "evt-csv-6": "cm-e2e-2", "evt-jl-1": "cm-e2e-1", "evt-jl-4": "cm-e2e-3"}


def write_files(tmp_path: Path) -> tuple[Path, Path]:
    csv_path = tmp_path / "branch-extract.csv"
    csv_path.write_text("\n".join(CSV_LINES) + "\n", encoding="utf-8", newline="")
    jsonl_path = tmp_path / "core-extract.jsonl"
    jsonl_path.write_bytes(b"\n".join(JSONL_LINES) + b"\n")
    return csv_path, jsonl_path


def campaigns_load(path: Path, topics: Topics) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CLI),
            str(path),
            "--bootstrap",
            BOOTSTRAP,
            "--topic",
            topics.raw,
            "--dead-letter-topic",
            topics.dead_letters,
        ],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def rejected_lines(stdout: str) -> dict[int, str]:
    """{line number: reason} from the report's `line N: reason: detail` lines."""
    out: dict[int, str] = {}
    for text in stdout.splitlines()[1:]:
        where, reason, _detail = text.split(": ", 2)
        out[int(where.removeprefix("line "))] = reason
    return out


def event_ids(records: list[Record]) -> list[str]:
    return [json.loads(r.value or b"")["event_id"] for r in records]


async def test_good_rows_arrive_validated_and_bad_rows_as_dead_letters(
    running_worker: Process, topics: Topics, tmp_path: Path
) -> None:
    csv_path, jsonl_path = write_files(tmp_path)

    csv_run = campaigns_load(csv_path, topics)
    jsonl_run = campaigns_load(jsonl_path, topics)

    assert (csv_run.returncode, jsonl_run.returncode) == (1, 1), csv_run.stderr + jsonl_run.stderr
    assert csv_run.stdout.splitlines()[0] == "read 6, accepted 2, rejected 4"
    assert rejected_lines(csv_run.stdout) == CSV_REJECTED
    assert jsonl_run.stdout.splitlines()[0] == "read 5, accepted 2, rejected 3"
    assert rejected_lines(jsonl_run.stdout) == JSONL_REJECTED

    validated = await wait_for(topics.validated, lambda rs: len(rs) >= len(ACCEPTED), settle=2.0)
    assert sorted(event_ids(validated)) == sorted(ACCEPTED)
    assert {json.loads(r.value or b"")["event_id"]: (r.key or b"").decode() for r in validated} == ACCEPTED

    expected_letters = len(CSV_REJECTED) + len(JSONL_REJECTED)
    records = await wait_for(topics.dead_letters, lambda rs: len(rs) >= expected_letters, settle=1.0)
    letters = {
        (letter.source_topic, letter.source_offset): letter
        for letter in (DeadLetter.from_record(r.value, r.headers) for r in records)
    }
    assert len(records) == len(letters) == expected_letters
    assert {key: letter.reason for key, letter in letters.items()} == {
        **{("cli:branch-extract.csv", n): reason for n, reason in CSV_REJECTED.items()},
        **{("cli:core-extract.jsonl", n): reason for n, reason in JSONL_REJECTED.items()},
    }
    assert sorted(r.headers[REASON].decode() for r in records) == sorted(
        [*CSV_REJECTED.values(), *JSONL_REJECTED.values()]
    )
    for (source, line), letter in letters.items():
        # CSV_LINES[6] is one record on two physical lines: its dead letter holds both.
        original = CSV_LINES[line - 1].encode() if source.endswith(".csv") else JSONL_LINES[line - 1]
        assert letter.raw == original, f"{source} line {line}: the row's bytes must travel as in the file"
        assert letter.source_partition == -1
        assert letter.detail


async def test_loading_the_same_file_twice_yields_each_event_once(
    running_worker: Process, topics: Topics, tmp_path: Path
) -> None:
    path = tmp_path / "twice.jsonl"
    path.write_bytes(b"\n".join(wire(opened(f"evt-twice-{n}", cm_id=f"cm-twice-{n % 2}")) for n in range(4)))

    first, second = campaigns_load(path, topics), campaigns_load(path, topics)

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert first.stdout == second.stdout == "read 4, accepted 4, rejected 0\n"
    # The second copies reached dedup (and were dropped) before we look for stragglers.
    duplicates = await wait_for(topics.duplicates, lambda rs: len(rs) >= 4)
    validated = await wait_for(topics.validated, lambda rs: len(rs) >= 4, settle=2.0)
    assert sorted(event_ids(validated)) == [f"evt-twice-{n}" for n in range(4)]
    assert sorted(event_ids(duplicates)) == [f"evt-twice-{n}" for n in range(4)]
