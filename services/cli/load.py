"""campaigns-load: put a CSV or JSONL extract onto the raw event topic, row by row.

Every row goes through `schemas.validate`, the same validator as the Kafka and HTTP doors. Good rows
are produced as canonical JSON keyed by data.cm_id; bad rows are reported by line and reason, and
dead-lettered as the other doors do, while the rest still load. Exit code 0: all accepted; 1: some
rejected; 2: nothing could be done (usage, file, or broker), said in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

from schemas.dead_letters import DeadLetter
from schemas.envelope import SHANGHAI
from schemas.topics import Topics
from schemas.validate import Limits
from services.cli.check import DEFAULT_LIMITS, Rejected, check_row
from services.cli.errors import CliError, InputError
from services.cli.rows import Format, Record, format_of, read_rows, survey
from services.cli.sink import KafkaSink, Sink

PROG = "campaigns-load"
CLI_SOURCE = "cli"  # dead letters name their file as cli:<file name>
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_TOPIC = Topics().raw
DEFAULT_DEAD_LETTER_TOPIC = Topics().dead_letters


@dataclass
class Report:
    dry_run: bool = False
    read: int = 0
    accepted: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    # (line, event id, the line that carried it first): sent once, as the other doors do.
    duplicates: list[tuple[int, str, int]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def lines(self) -> list[str]:
        head = f"read {self.read}, accepted {self.accepted}, rejected {len(self.rejected)}"
        if self.duplicates:
            head += f", duplicate {len(self.duplicates)}"
        if self.dry_run:
            head += " (dry run: nothing produced)"
        return [
            head,
            *(f"line {r.line}: {r.reason}: {r.detail}" for r in self.rejected),
            *(
                f"line {line}: duplicate: {eid} (first on line {first})"
                for line, eid, first in self.duplicates
            ),
        ]


async def load(
    path: Path,
    fmt: Format,
    sink: Sink | None,
    now: datetime,
    *,
    source: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: bool = False,
) -> Report:
    """Validate every row of the file; send the accepted ones to `sink` and dead-letter the rejected
    ones there (None: a dry run, nothing sent). A row whose event id an earlier row of the file
    carried is a duplicate: reported, not sent again (the stream would drop it).

    A dead letter carries the row's raw bytes (see `rows`; at most the message limit of them, with
    the whole row's size and SHA-256 in its headers, and the row's event id when it has one),
    source topic ``cli:<file name>``,
    partition -1 and the row's first line number as its offset, as the HTTP door does for a body.
    The caller owns the sink: close it afterwards, which waits for the broker's confirmations.
    Raises InputError if the file cannot be read as a whole; a bad row is a Rejected in the report.
    """
    is_csv = fmt is Format.CSV
    total = survey(path, require_utf8=is_csv, max_line_bytes=limits.max_bytes if is_csv else None)
    report = Report(dry_run=sink is None)
    first_line: dict[str, int] = {}  # event id -> the line that carried it first
    seen = 0
    with tqdm(total=total, unit="line", file=sys.stderr, disable=not progress, desc=path.name) as bar:
        for record in read_rows(path, fmt, limits.max_bytes):
            line = record.line
            outcome = check_row(line, record.row, now, source=source, limits=limits)
            bar.update(line - seen)
            seen = line
            report.read += 1
            if isinstance(outcome, Rejected):
                report.rejected.append(outcome)
                if sink is not None:
                    await sink.dead_letter(_letter(outcome, record, path, limits))
                continue
            event_id = outcome.event.event_id
            if event_id in first_line:
                report.duplicates.append((line, event_id, first_line[event_id]))
                continue
            first_line[event_id] = line
            report.accepted += 1
            if sink is not None:
                await sink.send(outcome.key, outcome.value)
        bar.update(total - seen)
    return report


def _letter(rejected: Rejected, record: Record, path: Path, limits: Limits) -> DeadLetter:
    return DeadLetter(
        reason=str(rejected.reason),
        detail=rejected.detail,
        raw=record.raw,
        source_topic=f"{CLI_SOURCE}:{path.name}",
        source_partition=-1,
        source_offset=rejected.line,
        size=record.size,
        sha256=record.sha256,
        keep=limits.max_bytes,
        event_id=rejected.event_id,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Validate a CSV or JSONL extract of events and produce the valid ones to Kafka.",
        epilog="Exit code: 0 all rows accepted, 1 some rows rejected (the rest loaded), "
        "2 usage, file or broker error.",
    )
    parser.add_argument(
        "file", type=Path, help="the extract: .csv (header row) or .jsonl (one event per line)"
    )
    parser.add_argument(
        "--format", choices=[f.value for f in Format], help="default: from the file extension"
    )
    parser.add_argument(
        "--bootstrap",
        default=DEFAULT_BOOTSTRAP,
        help=f"Kafka bootstrap servers (default {DEFAULT_BOOTSTRAP})",
    )
    parser.add_argument(
        "--topic", default=DEFAULT_TOPIC, help=f"topic to produce to (default {DEFAULT_TOPIC})"
    )
    parser.add_argument(
        "--dead-letter-topic",
        default=DEFAULT_DEAD_LETTER_TOPIC,
        help=f"topic for rejected rows, as the other doors use (default {DEFAULT_DEAD_LETTER_TOPIC})",
    )
    parser.add_argument("--source", metavar="NAME", help="envelope source for rows that carry none")
    parser.add_argument("--dry-run", action="store_true", help="validate and report only; connect to nothing")
    return parser


async def _run(args: argparse.Namespace, fmt: Format, now: datetime) -> Report:
    if args.dry_run:
        return await load(args.file, fmt, None, now, source=args.source, progress=True)
    sink = await KafkaSink.connect(args.bootstrap, args.topic, args.dead_letter_topic)
    try:
        return await load(args.file, fmt, sink, now, source=args.source, progress=True)
    finally:
        await sink.close()


def main(argv: Sequence[str] | None = None, clock: Callable[[], datetime] | None = None) -> int:
    """The command; `clock` gives "now" for the future-time check (tests pass a fixed one)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already printed by argparse
        return stop.code if isinstance(stop.code, int) else 2
    # Broker trouble is reported once, below; aiokafka's own log lines would only repeat it.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    path: Path = args.file
    try:
        fmt = Format(args.format) if args.format else format_of(path)
        if not path.is_file():
            raise InputError(f"no such file: {path}")
        now = clock() if clock is not None else datetime.now(SHANGHAI)
        report = asyncio.run(_run(args, fmt, now))
    except CliError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{PROG}: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"{PROG}: interrupted; loading the file again is safe (event_id is the idempotency key)",
            file=sys.stderr,
        )
        return 130
    print("\n".join(report.lines()))
    return report.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
