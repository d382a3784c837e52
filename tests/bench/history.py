"""`python -m tests.bench.history`: board_as_of_p99_ms, the board at a past moment from the SQL
ledger (goal <= 100 ms), on PostgreSQL.

10,000 managers in 100 sub-branches of 10 teams, a month (February's 28 days) of ledger:
1,000,000 entries (100 per manager, about five a working day; BENCH_AS_OF_ENTRIES changes it),
loaded with COPY into a schema of its own (dropped at the end; loading is not timed). The figure
is one question as the API's `GET /leaderboard?as_of=` answers it, without HTTP: the totals at
the instant (services/history/moments.py: the day-close snapshot plus the day's tail), the whole
board ranked (services/history/places.py), its top 50 picked. 500 instants drawn at random over
the month, asked one at a time in that order, from a history that has built nothing yet; the
first question (it builds the snapshots from the month's start) is also shown on its own.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from datetime import timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.history.moments import LedgerHistory
from services.history.places import rank_totals
from services.store import Store
from tests.bench.awards import COLUMNS, FEB, URL, ledger_lines
from tests.support.processes import ROOT

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
GOALS = {"board_as_of_p99_ms": "<= 100"}
QUESTIONS = 500


def n(count: int) -> int:
    return max(1, int(count * SCALE))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    managers = n(10_000)
    entries = n(int(os.environ.get("BENCH_AS_OF_ENTRIES", "1000000")))
    print(f"bench history: scale {SCALE}: {managers:,} managers, {entries:,} ledger entries")
    admin = create_engine(URL, isolation_level="AUTOCOMMIT")
    schema = f"bench_history_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    results: dict[str, float] = {}
    try:
        url = make_url(URL).update_query_dict({"options": f"-csearch_path={schema}"})
        store = Store.from_url(url.render_as_string(hide_password=False))
        store.create_schema()
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
        with admin.connect() as conn:  # index-only scans need the visibility map: what autovacuum does
            conn.execute(text(f'VACUUM ANALYZE "{schema}".ledger_entries'))
        print(f"  loaded {entries:,} entries with COPY in {time.perf_counter() - t:.1f} s (not timed)")

        history = LedgerHistory(store)
        rng = random.Random(18)
        month = 28 * 86400
        timings: list[float] = []
        for _ in range(QUESTIONS):
            at = FEB + timedelta(seconds=rng.randrange(month))
            t = time.perf_counter()
            board = rank_totals(
                history.totals_at("bench-awards", at), "customer_manager", ("points_desc", "first_reached")
            )
            top = board[:50]
            timings.append((time.perf_counter() - t) * 1000)
            assert top and len(board) <= managers
        results["board_as_of_p99_ms"] = percentile(timings, 99)
        results["board_as_of_p50_ms"] = percentile(timings, 50)
        results["board_as_of_first_ms"] = timings[0]
        store.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    print(f"  {'figure':22} {'measured':>10}   goal")
    for key in ("board_as_of_p50_ms", "board_as_of_p99_ms", "board_as_of_first_ms"):
        print(f"  {key:22} {results[key]:>10,.1f}   {GOALS.get(key, '')}")
    path = ROOT / "bench-results.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update({k: round(v, 1) for k, v in results.items()})
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    print(
        "bench history: merged board_as_of_p50_ms, board_as_of_p99_ms, board_as_of_first_ms "
        "into bench-results.json"
    )


if __name__ == "__main__":
    main()
