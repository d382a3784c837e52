"""Verify mode through the real pipeline: events through Kafka and a running worker, the ledger
sink into PostgreSQL, a rule change mid-stream; verify finds nothing, then exactly what is
injected into the SQL ledger (one entry's points changed, one deleted, one forged), from the
service, the CLI and the API. Explain answers for the deleted entry's event from the API."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select

from schemas.topics import Topics
from services.store import Store
from services.store.tables import LedgerEntry as LedgerTable
from services.verify import Report, verify
from streams.core.rules import Competition
from tests.support.auth import api_auth
from tests.support.events import joined
from tests.support.kafka import BOOTSTRAP, read_all
from tests.support.ports import free_port
from tests.support.processes import ROOT, Process, api, isolated_env, sink
from tests.support.random_events import seeded
from tests.support.scoring import converge, expected_standings, publish, published_templates, send_events
from tests.support.tampering import tamper

CID = "feb-account-opening"
TAG = "vf"
CMS = 4


def _second_version(first: Competition) -> Competition:
    """Basic accounts worth 12 from Feb 15: published mid-stream, so the worker re-scores."""
    rule = first.rules[0].model_copy(update={"points": {**first.rules[0].points, "basic": Decimal(12)}})
    return first.model_copy(
        update={"version": 2, "effective_from": first.effective_from.replace(day=15), "rules": [rule]}
    )


def _wait(condition: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError("timed out")


def _differences(report: Report) -> set[tuple[str, str]]:
    return {(d.kind, d.entry_id) for d in report.entries}


async def test_verify_lists_exactly_the_discrepancies_injected_into_the_sql_ledger(
    running_worker: Process, prefix: str, topics: Topics, pg_url: str, tmp_path: Path
) -> None:
    first = published_templates()
    second = _second_version(next(c for c in first if c.id == CID))
    events = [joined(f"{TAG}-cm{i}", f"sb-{i % 2}") for i in range(CMS)] + seeded(5, 300, CMS, TAG)
    half = len(events) // 2
    await publish(topics, first)
    await send_events(topics, events[:half])
    await converge(topics, expected_standings(events[:half], first), timeout=120)
    await publish(topics, [second])  # control records land between the two halves
    await send_events(topics, events[half:])
    await converge(topics, expected_standings(events, [*first, second]), timeout=120)

    ledger = await read_all(topics.ledger)
    store = Store.from_url(pg_url)
    store.create_schema()
    writer = sink(prefix, tmp_path, pg_url).start()
    try:
        _wait(lambda: sum(1 for _ in store.ledger_scan()) >= len(ledger))
    finally:
        writer.stop()

    clean = await verify(BOOTSTRAP, topics, store, [CID])
    assert clean.ok, clean.to_dict()
    assert clean.controls > 0 and clean.events > 0
    assert clean.expected_entries == clean.sql_entries > 0
    rescored = [r for r in store.ledger_scan([CID]) if r["event_id"].startswith("rescore:")]
    assert rescored, "the mid-stream publish must have re-scored something"
    everything = await verify(BOOTSTRAP, topics, store)
    assert everything.ok and set(everything.competition_ids) == {c.id for c in first}

    # -- the discrepancies ------------------------------------------------------------------------
    rows = (r for r in store.ledger_scan([CID]) if not r["event_id"].startswith("rescore:"))
    engine = create_engine(pg_url)
    spoilt = tamper(engine, CID, rows)
    changed, deleted, template, forged = spoilt.changed, spoilt.deleted, spoilt.template, spoilt.forged
    with engine.connect() as conn:
        table = LedgerTable.__table__
        assert conn.execute(select(table.c.points).where(table.c.entry_id == forged.entry_id)).scalar_one()
    engine.dispose()

    report = await verify(BOOTSTRAP, topics, store, [CID])
    assert _differences(report) == spoilt.differences()
    (different,) = [d for d in report.entries if d.kind == "different"]
    assert different.fields == ("points",)
    assert different.sql_points == changed["points"] + 1 and different.expected_points == changed["points"]
    totals = {(t.cm_id, t.component, t.sub_branch_id, t.team_id): t.sql - t.expected for t in report.totals}
    assert totals == {
        (changed["cm_id"], changed["component"], changed["sub_branch_id"], changed["team_id"]): Decimal(
            "1.00"
        ),
        (deleted["cm_id"], deleted["component"], deleted["sub_branch_id"], deleted["team_id"]): -deleted[
            "points"
        ],
        (template["cm_id"], template["component"], template["sub_branch_id"], template["team_id"]): Decimal(
            "5.00"
        ),
    }

    # -- the same from the CLI and the API ----------------------------------------------------------
    env = isolated_env(prefix, CAMPAIGNS_DATABASE_URL=pg_url)
    done = subprocess.run(
        [sys.executable, "-m", "services.verify", "--competition", CID, "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    printed = json.loads(done.stdout)
    assert {(d["kind"], d["entry_id"]) for d in printed["entry_differences"]} == _differences(report)

    port = free_port()
    server = api(prefix, tmp_path, port, CAMPAIGNS_DATABASE_URL=pg_url).start()
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=300, auth=api_auth(f"http://127.0.0.1:{port}")
        ) as client:
            answer = await client.get(f"/api/competitions/{CID}/verify")
            assert answer.status_code == 200
            assert {(d["kind"], d["entry_id"]) for d in answer.json()["entry_differences"]} == _differences(
                report
            )
            assert (await client.get("/api/competitions/no-such/verify")).status_code == 404

            mine = await client.get(f"/api/competitions/{CID}/explain/{changed['cm_id']}")
            assert mine.status_code == 200
            body = mine.json()
            listed = {e["entry_id"]: e for e in body["entries"]}
            assert changed["entry_id"] in listed and deleted["entry_id"] not in listed
            assert all(e["label"] and e["reason"] and "rule_version" in e for e in body["entries"])
            assert Decimal(body["totals"]["points"]) == sum(Decimal(e["points"]) for e in body["entries"])

            why = await client.get(f"/api/events/{deleted['event_id']}/explain")
            assert why.status_code == 200
            verdict = next(c for c in why.json()["competitions"] if c["competition_id"] == CID)
            assert verdict["findings"] and why.json()["event"]["cm_id"] == deleted["cm_id"]
            assert (await client.get("/api/events/never-sent/explain")).status_code == 404
    finally:
        server.stop()
    store.close()
