"""Month-end awards over HTTP: the real API process (its read model on the real broker, its
SQLite ledger), a published contest with awards, org records on the org topic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.routing import org_key
from schemas.topics import Topics
from services.sink.records import parked_row
from services.store import Store
from services.store.audit import entries as audit_entries
from tests.integration.awards.builders import add, competition, entry
from tests.support.auth import api_auth
from tests.support.http import poll
from tests.support.kafka import produce
from tests.support.ports import free_port
from tests.support.problems import first_field, problem
from tests.support.processes import api
from tests.support.scoring import publish


@pytest.fixture
def api_url(prefix: str, tmp_path: Path) -> Iterator[str]:
    """The month-end layer alone: ledger rows go straight into the API's database and no stream
    runs, so the freeze gate's position check is off (parked records are still checked). The gate
    itself is tested through the pipeline (tests/integration/awards/test_freeze_gate.py)."""
    port = free_port()
    database = f"sqlite:///{tmp_path / 'api.db'}"
    proc = api(prefix, tmp_path, port, CAMPAIGNS_DATABASE_URL=database, CAMPAIGNS_FREEZE_GATE="false").start()
    yield f"http://127.0.0.1:{port}"
    proc.stop()


def curl_d(body: dict[str, Any]) -> dict[str, Any]:
    """What `curl -d '<json>'` sends: the JSON with a form Content-Type (the README's examples)."""
    return {
        "content": json.dumps(body).encode(),
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }


def _org_event(cm_id: str, sub_branch: str) -> dict[str, Any]:
    return {
        "event_id": f"org-{cm_id}",
        "type": "org.changed",
        "schema_version": 1,
        "occurred_at": "2024-12-31T09:00:00+08:00",
        "source": "test",
        "data": {
            "cm_id": cm_id,
            "cm_name": {"cm-1": "张三", "cm-2": "李四", "cm-3": "王五"}[cm_id],
            "action": "join",
            "unit_kind": "sub_branch",
            "unit_id": sub_branch,
            "unit_name": {"SB1": "河西支行", "SB2": "城东支行"}[sub_branch],
            "effective_from": "2025-01-01",
        },
    }


async def test_run_approve_and_report_over_http(api_url: str, topics: Topics, tmp_path: Path) -> None:
    comp = competition()
    await publish(topics, [comp])
    org = [_org_event("cm-1", "SB1"), _org_event("cm-2", "SB2"), _org_event("cm-3", "SB1")]
    await produce(
        topics.org, [(str(org_key(e)).encode(), json.dumps(e, ensure_ascii=False).encode()) for e in org]
    )
    with Store.from_url(f"sqlite:///{tmp_path / 'api.db'}") as store:
        store.create_schema()
        add(
            store,
            entry("a1", "cm-1", "2025-02-10 09:00", "20.00", recorded="2025-02-10 09:01"),
            entry("b1", "cm-2", "2025-02-12 09:00", "14.00", recorded="2025-02-12 09:01", sub_branch="SB2"),
            entry("c1", "cm-3", "2025-02-13 09:00", "14.00", recorded="2025-02-13 09:01"),
        )

    async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url), timeout=60) as client:
        await poll(client, "/api/competitions", lambda b: any(c["id"] == comp.id for c in b["competitions"]))
        await poll(client, "/api/managers/cm-3", lambda b: b.get("name") == "王五")

        period = await client.get(f"/api/awards/periods/{comp.id}/2025-02")
        assert period.status_code == 200, period.text
        assert (period.json()["frozen"], period.json()["adjustment_label"]) == (False, "调整（上期迟到数据）")

        created = await client.post("/api/awards/runs", json={"competition_id": comp.id, "period": "2025-02"})
        assert created.status_code == 201, created.text
        run = created.json()
        again = await client.post(
            "/api/awards/runs", **curl_d({"competition_id": comp.id, "period": "2025-02"})
        )
        assert again.status_code == 200
        assert (again.json()["id"], again.json()["checksum"]) == (run["id"], run["checksum"])
        counted = (await client.get("/metrics")).text.splitlines()
        assert 'campaigns_award_runs_total{outcome="created"} 1.0' in counted
        assert 'campaigns_award_runs_total{outcome="reused"} 1.0' in counted
        # By hand: cm-1 一等奖 500; cm-2, cm-3 tie at 14, both 二等奖 300; per head SB1 (20 + 14) / 2
        # = 17.00 beats SB2 14 / 1 = 14.00: 最佳支行 1000. 500 + 300 + 300 + 1000 = 2100.
        assert (run["status"], run["amount"]) == ("draft", "2100.00")
        frozen = (await client.get(f"/api/awards/periods/{comp.id}/2025-02")).json()
        assert frozen["frozen"] and frozen["entries"] == 3
        assert [(r["cm_id"], r["total"]) for r in frozen["rows"]] == [
            ("cm-1", "20.00"),
            ("cm-2", "14.00"),
            ("cm-3", "14.00"),
        ]

        listed = (await client.get("/api/awards/runs", params={"competition_id": comp.id})).json()["runs"]
        assert [r["id"] for r in listed] == [run["id"]]
        lines = (await client.get(f"/api/awards/runs/{run['id']}/lines", params={"sub_branch": "SB1"})).json()
        assert [(x["rank"], x["unit_id"], x["name"], x["points"], x["total"]) for x in lines["lines"]] == [
            (1, "cm-1", "张三", "20.00", "20.00"),
            (2, "cm-3", "王五", "14.00", "14.00"),
            (1, "SB1", "河西支行", "17.00", "34.00"),  # per head: the value ranked, then the total
        ]

        first_csv = await client.get(f"/api/awards/runs/{run['id']}/report.csv")
        second_csv = await client.get(f"/api/awards/runs/{run['id']}/report.csv")
        assert first_csv.status_code == 200 and first_csv.content == second_csv.content
        assert first_csv.content.startswith(b"\xef\xbb\xbf")
        text = first_csv.content.decode("utf-8-sig")
        assert "2,cm-2,李四,城东支行,,14.00,0.00,14.00,月度开户奖·二等奖,300.00," in text
        sb2 = (
            await client.get(f"/api/awards/runs/{run['id']}/report.csv", params={"sub_branch": "SB2"})
        ).text
        assert "李四" in sb2 and "张三" not in sb2
        xlsx = await client.get(f"/api/awards/runs/{run['id']}/report.xlsx")
        assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert xlsx.content[:2] == b"PK"
        assert xlsx.content == (await client.get(f"/api/awards/runs/{run['id']}/report.xlsx")).content

        approved = await client.post(f"/api/awards/runs/{run['id']}/approve", **curl_d({"note": "月末审批"}))
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
        approver = approved.json()["approved_by"]
        assert approver.startswith("key:")  # the caller's own name, from its credentials
        twice = await client.post(
            f"/api/awards/runs/{run['id']}/approve", content=b"{}", headers={"Content-Type": "text/plain"}
        )
        assert "approved" in problem(twice, 409)["detail"]
        assert "已审批" in (await client.get(f"/api/awards/runs/{run['id']}/report.csv")).content.decode(
            "utf-8-sig"
        )

        assert (await client.get("/api/awards/runs/999")).status_code == 404
        # A manager nothing is known of: 404 from explain as from standings, in the same shape.
        unknown_standing = problem(await client.get(f"/api/competitions/{comp.id}/standings/cm-999"), 404)
        unknown_explain = problem(await client.get(f"/api/competitions/{comp.id}/explain/cm-999"), 404)
        assert (
            unknown_explain["detail"] == unknown_standing["detail"] == f"cm-999 has no standing in {comp.id}"
        )
        known = await client.get(f"/api/competitions/{comp.id}/explain/cm-1")
        assert known.status_code == 200 and known.json()["totals"]["points"] == "20.00"
        # Times in Shanghai's offset, as the docs promise (the database keeps UTC).
        (line,) = known.json()["entries"]
        assert line["occurred_at"].endswith("+08:00") and line["recorded_at"].endswith("+08:00"), line
        bad = await client.post("/api/awards/runs", json={"competition_id": comp.id, "period": "2025-1"})
        assert bad.status_code == 422
        early = await client.post(
            "/api/awards/freezes", **curl_d({"competition_id": comp.id, "period": "2099-01"})
        )
        assert "closes at" in problem(early, 409)["detail"]
        not_json = await client.post("/api/awards/freezes", **curl_d({}) | {"content": b"competition_id=x"})
        field, reason = first_field(not_json)
        assert field == "(body)" and reason.startswith("the body is not JSON")
        missing = await client.post("/api/awards/freezes", **curl_d({"competition_id": comp.id}))
        assert first_field(missing) == ("period", "Field required")
        unknown = await client.post("/api/awards/runs", json={"competition_id": "nope", "period": "2025-02"})
        assert unknown.status_code == 404

    with Store.from_url(f"sqlite:///{tmp_path / 'api.db'}") as store:
        (audit,) = audit_entries(store, object_id=f"award_run/{run['id']}")
        assert (audit["actor"], audit["action"]) == (approver, "award_run.approve")
        assert audit["diff"]["note"] == "月末审批"


async def test_parked_records_hold_the_freeze_and_warnings_hold_the_approval(
    api_url: str, topics: Topics, tmp_path: Path
) -> None:
    comp = competition()
    await publish(topics, [comp])
    database = f"sqlite:///{tmp_path / 'api.db'}"
    with Store.from_url(database) as store:
        store.create_schema()
        add(store, entry("a1", "cm-1", "2025-02-10 09:00", "20.00", recorded="2025-02-10 09:01"))
        # A February entry the sink could not store (say the database refused it): parked.
        refused = json.dumps(
            {
                **entry("p1", "cm-2", "2025-02-11 09:00", "4.00", recorded="2025-02-11 09:01"),
                "recorded_at": None,
            },
            default=str,
        ).encode()
        store.park_record(
            **parked_row(topics.ledger, 0, 7, b"cm-2", refused, "StoreDataError: refused", 4096)
        )

    async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url), timeout=60) as client:
        await poll(client, "/api/competitions", lambda b: any(c["id"] == comp.id for c in b["competitions"]))
        feb = {"competition_id": comp.id, "period": "2025-02"}
        held = await client.post("/api/awards/freezes", json=feb)
        assert held.status_code == 409, held.text
        assert "1 parked records may belong to this period (parked_records #1)" in held.json()["detail"]
        assert not (await client.get(f"/api/awards/periods/{comp.id}/2025-02")).json()["frozen"]
        frozen = await client.post("/api/awards/freezes", json={**feb, "acknowledge_parked": True})
        assert frozen.status_code == 201, frozen.text

        # A February entry recorded after February's freeze: late, waiting for March's freeze.
        with Store.from_url(database) as store:
            add(
                store,
                entry("a2", "cm-1", "2025-02-20 09:00", "10.00", recorded="2025-03-06 09:00", late=True),
            )
        run = (await client.post("/api/awards/runs", json=feb)).json()
        assert run["warnings"] == [
            "1 笔迟到条目（合计 10.00 分）属于 2025-02 或更早的期间，尚未计入任何冻结："
            "不在本期奖项中，将计入 2025-03 的调整。"
        ]
        unacknowledged = await client.post(f"/api/awards/runs/{run['id']}/approve", json={})
        assert unacknowledged.status_code == 409
        assert "acknowledge_warnings" in unacknowledged.json()["detail"]
        assert (await client.get(f"/api/awards/runs/{run['id']}")).json()["status"] == "draft"
        approved = await client.post(
            f"/api/awards/runs/{run['id']}/approve", json={"acknowledge_warnings": True}
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["warnings_acknowledged"] == run["warnings"]

        # March has no entry of its own: its run says so before approval.
        march = (await client.post("/api/awards/runs", json={**feb, "period": "2025-03"})).json()
        (warning,) = march["warnings"]
        assert warning.startswith("2025-03 没有计入本期的积分条目（0 笔）")
        assert march["amount"] == "500.00"  # ranked on the carried 10 points alone: 一等奖

    with Store.from_url(database) as store:
        (ack,) = audit_entries(store, object_id=f"award_period/{comp.id}/2025-02")
        assert ack["action"] == "award_period.acknowledge_parked"
        assert ack["diff"]["parked"] == [
            {"table": "parked_records", "id": 1, "reason": "StoreDataError: refused"}
        ]
        (approval,) = audit_entries(store, object_id=f"award_run/{run['id']}")
        assert approval["diff"]["warnings_acknowledged"] == run["warnings"]
