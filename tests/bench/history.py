"""`python -m tests.bench.history`: board_as_of_p99_ms, the board at a past moment from the SQL
ledger (goal <= 100 ms), on PostgreSQL.

10,000 managers in 100 sub-branches of 10 teams, a month (February's 28 days) of ledger:
1,000,000 entries (100 per manager, about five a working day; BENCH_AS_OF_ENTRIES changes it),
loaded with COPY into a schema of its own (dropped at the end; loading is not timed).

What is built before the questions, as the platform builds it: the API reads each competition's
ledger into memory when it starts (`LedgerHistory.prepare`, services/history/moments.py: per
competition the checkpoints every 3 hours of event time and the entries between them). The bench
calls that same `prepare` once and reports its time as `board_as_of_build_ms`.

Then each question is answered as the API's `GET /leaderboard?as_of=` answers it, without HTTP:
`services.history.boards.past_board` (the history's look for entries recorded since, the totals at
the instant from the checkpoint before it and its step's tail, the whole board ranked), its top 50
made into the route's JSON page with the org's names and units. 500 instants drawn at random over
the month, asked one at a time in that order: `board_as_of_p50_ms`, `board_as_of_p99_ms`, and
`board_as_of_first_ms` (the first of them alone). `board_as_of_cold_first_ms` is a question to a
second history that has prepared nothing, as in an API process that just started and had not
finished preparing: it pays the whole build. Then 500 more instants, each with `sub_branch=` (one
of the 100, in turn), as a sub-branch's screen and 晨会 ask: `board_as_of_sub_branch_p50_ms` and
`board_as_of_sub_branch_p99_ms`.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.history import boards as past_boards
from services.history.moments import LedgerHistory
from services.readmodel.board import Board
from services.store import Store
from tests.bench.awards import COLUMNS, FEB, URL, competition, ledger_lines, org
from tests.support.processes import ROOT

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
GOALS = {"board_as_of_p99_ms": "<= 100"}
QUESTIONS = 500
KEYS = (
    "board_as_of_build_ms",
    "board_as_of_p50_ms",
    "board_as_of_p99_ms",
    "board_as_of_first_ms",
    "board_as_of_cold_first_ms",
    "board_as_of_sub_branch_p50_ms",
    "board_as_of_sub_branch_p99_ms",
)


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

        board = Board()
        board.set_competitions([competition()])
        board.org = org(managers)

        def question(history: LedgerHistory, at: datetime, sub_branch: str | None = None) -> float:
            t = time.perf_counter()
            past = past_boards.past_board(history, board, "bench-awards", "customer_manager", at)
            rows = past_boards.picked(past, sub_branch, None)
            body = past_boards.page(board, past, rows[:50], len(rows))
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            elapsed = (time.perf_counter() - t) * 1000
            assert body["rows"] and body["count"] <= managers
            return elapsed

        history = LedgerHistory(store)
        t = time.perf_counter()
        history.prepare("bench-awards")
        results["board_as_of_build_ms"] = (time.perf_counter() - t) * 1000
        rng = random.Random(18)
        month = 28 * 86400
        timings = [question(history, FEB + timedelta(seconds=rng.randrange(month))) for _ in range(QUESTIONS)]
        results["board_as_of_p99_ms"] = percentile(timings, 99)
        results["board_as_of_p50_ms"] = percentile(timings, 50)
        results["board_as_of_first_ms"] = timings[0]
        results["board_as_of_cold_first_ms"] = question(LedgerHistory(store), FEB + timedelta(days=14))
        scoped = [
            question(history, FEB + timedelta(seconds=rng.randrange(month)), f"sb-{i % 100:03d}")
            for i in range(QUESTIONS)
        ]
        results["board_as_of_sub_branch_p50_ms"] = percentile(scoped, 50)
        results["board_as_of_sub_branch_p99_ms"] = percentile(scoped, 99)
        store.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    print(f"  {'figure':26} {'measured':>10}   goal")
    for key in KEYS:
        print(f"  {key:26} {results[key]:>10,.1f}   {GOALS.get(key, '')}")
    path = ROOT / "bench-results.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update({k: round(v, 1) for k, v in results.items()})
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    print(f"bench history: merged {', '.join(KEYS)} into bench-results.json")


if __name__ == "__main__":
    main()
