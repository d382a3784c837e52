"""`python -m tests.bench.awards`: award_run_s, an award run for 10,000 managers over 5,000,000
ledger entries on PostgreSQL (goal <= 60 s).

The ledger is loaded with COPY into a schema of its own (dropped at the end); loading is not timed.
One February contest with monthly awards (rank tiers, a threshold, a 小小银行家-style honour, the
best sub-branch per head) and eligibility (in post all month, at least 3 events): 10,000 managers
in 100 sub-branches of 10 teams, every entry in February, 1 in 101 flagged late. The figure is one
`services.awards.runs.run` from nothing frozen: the period's freeze (GROUP BY in SQL over every
entry), eligibility over the org's days, the award table, and storing the run and its lines.
Also shown: the same run again (fingerprint hit) and both reports. BENCH_SCALE shrinks managers
and entries alike; the goal assumes the full run.
"""

from __future__ import annotations

import io
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from schemas.events import OrgChanged
from services.awards import runs
from services.awards.gate import Gate
from services.awards.reports import csv_report, xlsx_report
from services.readmodel.org import OrgDirectory
from services.store import Store
from streams.core.rules import Competition, parse_competition
from tests.support.processes import ROOT

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
UNCHECKED = Gate.positions_unchecked()  # the month-end layer alone: no pipeline here
URL = os.environ.get("CAMPAIGNS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/campaigns")
GOALS = {"award_run_s": "<= 60"}
SUB_BRANCHES, TEAMS_PER_SUB_BRANCH = 100, 10
FEB = datetime(2025, 2, 1, tzinfo=UTC) - timedelta(hours=8)  # Feb 1 00:00 in Shanghai


def n(count: int) -> int:
    return max(1, int(count * SCALE))


def competition() -> Competition:
    return parse_competition(
        {
            "id": "bench-awards",
            "name": "2月「多开户、多开基本户」竞赛（基准）",
            "version": 1,
            "status": "published",
            "effective_from": "2025-02-01T00:00:00+08:00",
            "window": {"start": "2025-02-01", "end": "2025-02-28"},
            "grace_days": 3,
            "rules": [{"kind": "account_opening", "points": {"basic": 10, "general": 4}}],
            "rankings": ["customer_manager", "sub_branch_per_head"],
            "awards": {
                "period": "month",
                "ties": "split",
                "eligibility": {"in_post": True, "min_events": 3},
                "prizes": [
                    {
                        "kind": "rank",
                        "name": "月度开户奖",
                        "tiers": [
                            {"count": 1, "title": "一等奖", "amount": 3000},
                            {"count": 3, "title": "二等奖", "amount": 1500},
                            {"count": 10, "title": "三等奖", "amount": 800},
                        ],
                    },
                    {
                        "kind": "threshold",
                        "name": "达标奖",
                        "min_points": 4000,
                        "title": "达标",
                        "amount": 100,
                    },
                    {"kind": "honour", "name": "开户之星", "title": "开户之星", "top": 50},
                    {
                        "kind": "team",
                        "name": "最佳支行（人均）",
                        "tiers": [{"title": "最佳支行", "amount": 5000}],
                    },
                ],
            },
        }
    )


def org(managers: int) -> OrgDirectory:
    directory = OrgDirectory()
    for i in range(managers):
        sb = f"sb-{i % SUB_BRANCHES:03d}"
        team = f"{sb}-t{(i // SUB_BRANCHES) % TEAMS_PER_SUB_BRANCH}"
        # Every 50th manager joins mid-month: not in post for the whole period.
        effective = "2025-02-10" if i % 50 == 49 else "2024-12-01"
        for kind, unit in (("sub_branch", sb), ("team", team)):
            directory.add(
                OrgChanged.model_validate(
                    {
                        "event_id": f"org-{i}-{kind}",
                        "type": "org.changed",
                        "schema_version": 1,
                        "occurred_at": "2024-11-30T09:00:00+08:00",
                        "source": "bench",
                        "data": {
                            "cm_id": f"cm-{i:05d}",
                            "cm_name": f"经理{i:05d}",
                            "action": "join",
                            "unit_kind": kind,
                            "unit_id": unit,
                            "unit_name": unit,
                            "effective_from": effective,
                        },
                    }
                )
            )
    return directory


COLUMNS = (
    "entry_id, event_id, competition_id, rule_version, cm_id, sub_branch_id, team_id, occurred_at, "
    "points, component, reason, late, recorded_at"
)


def ledger_lines(managers: int, entries: int, chunk: int = 200_000) -> object:
    """COPY text for `entries` rows: per manager an equal share, over February's 28 days."""
    seconds = 28 * 86400
    buf = io.StringIO()
    for i in range(entries):
        cm = i % managers
        sb = f"sb-{cm % SUB_BRANCHES:03d}"
        team = f"{sb}-t{(cm // SUB_BRANCHES) % TEAMS_PER_SUB_BRANCH}"
        occurred = FEB + timedelta(seconds=(i * 7919) % seconds)
        recorded = occurred + timedelta(minutes=1)
        points = "10.00" if i % 3 else "4.00"
        late = "t" if i % 101 == 0 else "f"
        event = i // 2 if i % 10 == 0 else i  # some events carry two entries
        buf.write(
            f"{i:032x}\tev-{event}\tbench-awards\t1\tcm-{cm:05d}\t{sb}\t{team}\t{occurred.isoformat()}\t"
            f"{points}\topening\t开立基本户 +{points}\t{late}\t{recorded.isoformat()}\n"
        )
        if (i + 1) % chunk == 0:
            yield buf.getvalue()
            buf = io.StringIO()
    if buf.tell():
        yield buf.getvalue()


def main() -> None:
    managers, entries = n(10_000), n(5_000_000)
    print(f"bench awards: scale {SCALE}: {managers:,} managers, {entries:,} ledger entries")
    admin = create_engine(URL, isolation_level="AUTOCOMMIT")
    schema = f"bench_awards_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    results: dict[str, float] = {}
    try:
        url = make_url(URL).update_query_dict({"options": f"-csearch_path={schema}"})
        store = Store.from_url(url.render_as_string(hide_password=False))
        runs.ensure_schema(store)
        t = time.perf_counter()
        raw = store._engine.raw_connection()
        try:
            cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY ledger_entries ({COLUMNS}) FROM STDIN") as copy:
                for block in ledger_lines(managers, entries):  # type: ignore[attr-defined]
                    copy.write(block)
            raw.commit()
            cursor.execute("ANALYZE ledger_entries")
            raw.commit()
        finally:
            raw.close()
        print(f"  loaded {entries:,} entries with COPY in {time.perf_counter() - t:.1f} s (not timed)")
        directory = org(managers)
        comp = competition()
        now = datetime(2025, 3, 10, tzinfo=UTC)

        t = time.perf_counter()
        outcome = runs.run(
            store, [comp], comp.id, "2025-02", directory, gate=Gate.positions_unchecked(), now=now
        )
        results["award_run_s"] = time.perf_counter() - t
        assert outcome.created
        run = outcome.run
        freeze = run["inputs"]["freeze"]
        assert freeze["entries"] == entries - len(range(0, entries, 101)), freeze
        winners = sum(1 for p in run["result"]["people"] if p["awards"])
        print(
            f"  run {run['id']}: {len(run['result']['people']):,} managers, {winners:,} with prizes, "
            f"{run['result']['amount']} 元, froze {freeze['entries']:,} entries; "
            f"checksum {run['checksum'][:16]}…"
        )

        t = time.perf_counter()
        again = runs.run(
            store, [comp], comp.id, "2025-02", directory, gate=Gate.positions_unchecked(), now=now
        )
        results["award_rerun_s"] = time.perf_counter() - t
        assert not again.created and again.run["checksum"] == run["checksum"]

        t = time.perf_counter()
        csv_bytes, xlsx_bytes = csv_report(run, comp.name), xlsx_report(run, comp.name)
        results["award_reports_s"] = time.perf_counter() - t
        print(f"  reports: CSV {len(csv_bytes):,} bytes, XLSX {len(xlsx_bytes):,} bytes")
        store.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    print(f"  {'figure':20} {'measured':>10}   goal")
    for key in ("award_run_s", "award_rerun_s", "award_reports_s"):
        print(f"  {key:20} {results[key]:>10,.1f}   {GOALS.get(key, '')}")
    path = ROOT / "bench-results.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update({k: round(v, 2) for k, v in results.items()})
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    print("bench awards: merged award_run_s, award_rerun_s, award_reports_s into bench-results.json")


if __name__ == "__main__":
    main()
