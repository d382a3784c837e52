"""The console's API through a real API process and worker: a draft from a template, edited,
refused with the field named, published (Kafka and the SQL record), frozen, changed as a new
version, closed, every step in the audit log with its diff; a roster import and the org tree."""

from __future__ import annotations

import json

import httpx

from tests.support.auth import api_auth, credentials_for
from tests.support.http import poll
from tests.support.problems import first_field
from tests.support.processes import Process

CID = "mar-opening"


async def test_a_competition_from_template_to_closed_with_its_audit(
    running_worker: Process, api_url: str
) -> None:
    organiser = credentials_for(api_url).headers("organiser")
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=organiser) as client:
        templates = (await client.get("/api/console/templates")).json()["templates"]
        assert [t["title"] for t in templates][:3] == ["多开户、多开基本户", "存款旺季营销", "开门红"]

        made = await client.post(
            "/api/console/templates/feb_account_opening",
            json={"id": CID, "name": "3月开户竞赛", "window": {"start": "2026-03-01", "end": "2026-03-31"}},
        )
        assert made.status_code == 201, made.text
        draft = made.json()
        assert (draft["version"], draft["status"], draft["created_by"]) == (1, "draft", draft["updated_by"])
        assert draft["created_by"].startswith("key:")
        again = await client.post(
            "/api/console/templates/feb_account_opening",
            json={"id": CID, "window": {"start": "2026-03-01", "end": "2026-03-31"}},
        )
        assert again.status_code == 409

        definition = draft["definition"]
        definition["rules"][0]["points"]["basic"] = "lots"
        bad = await client.put(f"/api/console/competitions/{CID}/versions/1", json=definition)
        assert bad.status_code == 422
        assert first_field(bad)[0] == "rules[0].points.basic"
        definition["rules"][0]["points"]["basic"] = 12
        edited = await client.put(f"/api/console/competitions/{CID}/versions/1", json=definition)
        assert edited.status_code == 200, edited.text

        published = await client.post(f"/api/console/competitions/{CID}/versions/1/publish")
        assert published.status_code == 200, published.text
        assert (published.json()["status"], published.json()["published_by"]) == (
            "published",
            draft["created_by"],
        )
        # The workers' view (Kafka) has it too: the public list comes from the read model.
        await poll(client, "/api/competitions", lambda b: [c["id"] for c in b["competitions"]] == [CID])
        # Frozen: editing or re-publishing something else under version 1 is refused.
        frozen = await client.put(f"/api/console/competitions/{CID}/versions/1", json=definition)
        assert frozen.status_code == 409
        changed = {**published.json()["definition"], "name": "改名", "status": "published"}
        assert (await client.post("/api/competitions", json=changed)).status_code == 409

        second = await client.post(f"/api/console/competitions/{CID}/drafts")
        assert second.status_code == 201, second.text
        assert second.json()["version"] == 2
        listing = (await client.get("/api/console/competitions")).json()["competitions"]
        (entry,) = [c for c in listing if c["id"] == CID]
        assert (entry["latest_version"], entry["live_version"]) == (2, 1)
        assert [v["status"] for v in entry["versions"]] == ["published", "draft"]

        closed = await client.post(f"/api/console/competitions/{CID}/versions/1/close")
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        assert (await client.post(f"/api/console/competitions/{CID}/versions/2/close")).status_code == 409

    async with httpx.AsyncClient(base_url=api_url, timeout=30, auth=api_auth(api_url)) as admin:
        log = (await admin.get("/api/audit", params={"object": f"competition/{CID}"})).json()["entries"]
        assert [e["action"] for e in log] == [
            "competition.close",
            "competition.create",
            "competition.publish",
            "competition.edit",
            "competition.create",
        ]
        edit = log[3]
        assert edit["actor"] == draft["created_by"]
        assert edit["diff"]["changes"] == [
            {"path": "rules[0].points.basic", "op": "changed", "from": "10", "to": "12"}
        ]
        versions = (await admin.get(f"/api/console/competitions/{CID}/versions")).json()["versions"]
        assert [v["status"] for v in versions] == ["closed", "draft"]


ROSTER = """工号,姓名,支行编号,支行名称,团队编号,团队名称,生效日期
cm-1,张伟,sb-east,城东支行,team-a,先锋团队,2026-01-01
cm-2,王芳,sb-east,城东支行,,,2026-01-01
cm-3,李娜,sb-west,城西支行,team-a,先锋团队,2026-01-01
"""


async def test_a_roster_import_becomes_the_org_tree(running_worker: Process, api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, auth=api_auth(api_url)) as client:
        await poll(client, "/api/console/org", lambda b: b["ready"])
        bad = await client.post("/api/console/org/import", content="工号,姓名\ncm-1,张伟\n".encode())
        assert first_field(bad)[0] == "(header).sub_branch_id"
        preview = await client.post("/api/console/org/import?dry_run=true", content=ROSTER.encode())
        assert (preview.json()["joins"], preview.json()["leaves"]) == (5, 0)
        imported = await client.post(
            "/api/console/org/import?effective_from=2026-01-01", content=ROSTER.encode("gb18030")
        )
        assert imported.status_code == 200, imported.text
        assert (imported.json()["accepted"], imported.json()["rejected"]) == (5, [])
        tree = await poll(
            client,
            "/api/console/org?as_of=2026-02-01",
            lambda b: sum(u["headcount"] for u in b["sub_branches"]) == 3,
        )
        east, west = tree["sub_branches"]
        assert (east["id"], east["name"], east["headcount"]) == ("sb-east", "城东支行", 2)
        assert east["teams"][0] == {
            "id": "team-a",
            "name": "先锋团队",
            "managers": [{"cm_id": "cm-1", "name": "张伟"}],
        }
        assert (west["name"], west["teams"][0]["managers"]) == (
            "城西支行",
            [{"cm_id": "cm-3", "name": "李娜"}],
        )
        assert (await client.get("/api/console/org?as_of=2025-12-31")).json()["sub_branches"] == []

        # 李娜 leaves from March: the tree of February still has her, March does not.
        march = await client.post(
            "/api/console/org/import?effective_from=2026-03-01",
            content="\n".join(ROSTER.splitlines()[:3]).encode(),
        )
        assert march.json()["leaves"] == 2, march.text
        await poll(
            client,
            "/api/console/org?as_of=2026-03-01",
            lambda b: [u["id"] for u in b["sub_branches"]] == ["sb-east"],
        )
        assert len((await client.get("/api/console/org?as_of=2026-02-28")).json()["sub_branches"]) == 2
        log = (await client.get("/api/audit", params={"action": "org.import"})).json()["entries"]
        assert [e["diff"]["leaves"] for e in log] == [2, 0]

        # The org names sb-east and sb-west now: a participant it does not name is refused,
        # by its path, in the console's drafts and in a publish alike; a known one is taken.
        nowhere = await client.post(
            "/api/console/templates/feb_account_opening",
            json={"id": "nov-opening", "window": {"start": "2026-11-01", "end": "2026-11-30"},
                  "participants": ["sb-east", "sb-nowhere"]},
        )  # fmt: skip
        field, reason = first_field(nowhere)
        assert field == "participants[1]" and "sb-nowhere" in reason and "sb-west" in reason
        named = await client.post(  # sent as `curl -d` sends it: read as JSON all the same
            "/api/console/templates/feb_account_opening",
            content=json.dumps({"id": "nov-opening", "window": {"start": "2026-11-01", "end": "2026-11-30"},
                                "participants": ["sb-east"]}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        assert named.status_code == 201, named.text
        assert named.json()["name"] == "2026年11月「多开户、多开基本户」"
        definition = {**named.json()["definition"], "participants": ["sb-nowhere"]}
        edited = await client.put("/api/console/competitions/nov-opening/versions/1", json=definition)
        assert first_field(edited)[0] == "participants[0]"
        published = await client.post("/api/competitions", json={**definition, "status": "published"})
        assert first_field(published)[0] == "participants[0]"
