"""`python -m services.verify --competition X [--period YYYY-MM] [--wait SECONDS] [--json]`.

Runs with the pipeline running or stopped: the history is taken up to a cut at the start, and
the ledger up to what the records before it caused, once the score stage and the sink have
passed it (waited for up to --wait seconds; services/verify/cut.py).

Exit status 0: the ledger in SQL is what the history scores to; 1: differences (listed);
2: the verification could not run (unknown competition, broker or database away, the pipeline
not at the cut in time).
Broker, topic prefix and database come from the usual settings (CAMPAIGNS_*).
"""

from __future__ import annotations

import argparse
import json
import sys

from services.awards.positions import Groups
from services.settings import ServiceSettings
from services.store import Store, StoreError
from services.verify.compare import Report
from services.verify.cut import PipelineBehind
from services.verify.service import VerifyError, verify_blocking
from streams.admin import BrokerUnavailable

SHOWN = 50  # differences printed per kind in the table; --json lists them all


def _table(report: Report) -> str:
    lines = [
        f"competitions: {', '.join(report.competition_ids)}"
        + (f"   period: {report.period}" if report.period else ""),
        f"events re-scored: {report.events:,}   control records: {report.controls:,}",
        f"entries expected: {report.expected_entries:,}   in SQL: {report.sql_entries:,}   "
        f"totals compared: {report.totals_compared:,}   ({report.seconds:.1f} s)",
        f"cut (validated topic offsets): {_cut(report.cut)}   "
        f"SQL entries after the cut, left out: {report.after_cut:,}",
    ]
    if report.failures:
        lines.append(
            f"records the core cannot score (dead-lettered by the stream too): {len(report.failures)}"
        )
    for w in report.waiting:
        lines.append(f"partition {w.partition} stops at offset {w.offset}, {w.reason} (so does the stream)")
    if report.ok:
        lines.append("no differences: the SQL ledger is what the history scores to")
        return "\n".join(lines)
    lines.append(f"{len(report.entries)} entry differences, {len(report.totals)} total differences")
    for d in report.entries[:SHOWN]:
        lines.append(
            f"  {d.kind:15} {d.competition_id} {d.cm_id} {d.event_id} {d.component} "
            f"[{d.sub_branch_id or '-'}/{d.team_id or '-'}] "
            f"expected {d.expected_points} v{d.expected_rule_version}"
            f"  sql {d.sql_points} v{d.sql_rule_version}" + (f"  ({', '.join(d.fields)})" if d.fields else "")
        )
    for t in report.totals[:SHOWN]:
        lines.append(
            f"  total           {t.competition_id} {t.cm_id} {t.component} "
            f"[{t.sub_branch_id or '-'}/{t.team_id or '-'}] expected {t.expected}  sql {t.sql}"
        )
    return "\n".join(lines)


def _cut(cut: dict[int, int]) -> str:
    return ", ".join(f"{p}:{offset}" for p, offset in sorted(cut.items())) or "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.verify", description=__doc__.splitlines()[0])
    parser.add_argument("--competition", action="append", help="competition id (repeatable; default: all)")
    parser.add_argument("--period", help="a Shanghai month, YYYY-MM (default: the whole competition)")
    parser.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for the pipeline to reach the cut"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    settings = ServiceSettings()
    store = Store.from_url(settings.database_url)
    try:
        report = verify_blocking(
            settings.kafka_bootstrap,
            settings.topics,
            store,
            args.competition,
            args.period,
            groups=Groups.of(settings.app_id, settings.sink_name),
            wait=args.wait,
        )
    except (VerifyError, StoreError, BrokerUnavailable, PipelineBehind) as exc:
        print(f"verify: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json else _table(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
