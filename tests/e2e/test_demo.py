"""Smoke test of `python -m services.demo` beside a real worker: its events get scored."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from schemas.dead_letters import REASON
from schemas.topics import Topics
from services.demo.competitions import LAST_MONTH_ID
from services.store import Store
from services.store.competition_records import CompetitionRecords
from tests.support.kafka import Record, wait_for
from tests.support.processes import Process, isolated_env

CID = "feb-account-opening"


def _scored_managers(records: list[Record], cid: str = CID) -> set[str]:
    latest = {r.key: json.loads(r.value) for r in records if r.key and r.value}
    return {
        s["cm_id"] for k, s in latest.items() if k.startswith(f"{cid}|".encode()) and s["points"] != "0.00"
    }


async def test_demo_feeds_the_scoring_stream(
    running_worker: Process, prefix: str, topics: Topics, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    env = isolated_env(
        prefix, CAMPAIGNS_DEMO_RATE="10", CAMPAIGNS_DEMO_BAD_EVERY="5", CAMPAIGNS_DATABASE_URL=database
    )
    demo = Process([sys.executable, "-m", "services.demo"], env, tmp_path / "demo.log", "demo: feeding")
    demo.start()
    try:
        standings = await wait_for(topics.standings, lambda rs: len(_scored_managers(rs)) >= 3, timeout=60)
        assert len(_scored_managers(standings)) >= 3
        # Last month's award contest scores the events the demo backfilled at start.
        past = await wait_for(
            topics.standings, lambda rs: len(_scored_managers(rs, LAST_MONTH_ID)) >= 10, timeout=60
        )
        assert len(_scored_managers(past, LAST_MONTH_ID)) >= 10
        # Every fifth record is broken on purpose here: the dead-letter path shows in the demo.
        letters = await wait_for(topics.dead_letters, lambda rs: len(rs) >= 1, timeout=30)
        assert letters[0].headers[REASON] in {b"malformed_json", b"invalid_value", b"missing_field"}
    finally:
        demo.stop()
    assert demo.proc is not None and demo.proc.returncode == 0, demo.tail()
    assert "demo: stopping" in demo.output()
    # The console reads competitions from SQL: the demo's are recorded there, by "demo".
    with Store.from_url(database) as store:
        recorded = CompetitionRecords(store).versions(CID)
        awarded = CompetitionRecords(store).versions(LAST_MONTH_ID)
    assert [(v["status"], v["published_by"]) for v in recorded] == [("published", "demo")]
    assert [(v["status"], v["published_by"]) for v in awarded] == [("published", "demo")]
