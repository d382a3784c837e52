"""Access control through a real API process (issue 9): who may read, write and ingest, and what a
sub-branch's viewer or wall screen may see. Credentials are made in the API's database the way
`python -m services.admin` makes them; nothing here bypasses the HTTP door."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from streams.core.templates import load_template
from tests.support.auth import ADMIN_PASSWORD, ADMIN_USER, api_auth, credentials_for, make_key, make_user
from tests.support.events import joined, opened, wire
from tests.support.http import poll
from tests.support.problems import first_field, problem
from tests.support.processes import Process

CID = "feb-account-opening"
VIEWER, VIEWER_PASSWORD = "east-viewer", "east-viewer-password"


def _draft() -> dict[str, object]:
    return load_template("feb_account_opening").model_dump(mode="json") | {"id": "access-draft"}


async def test_a_request_without_credentials_is_refused(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as anonymous:
        for method, path in [
            ("GET", "/api/competitions"),
            ("GET", f"/api/competitions/{CID}/leaderboard"),
            ("GET", "/api/console/competitions"),
            ("GET", "/api/console/org"),
            ("GET", "/api/audit"),
            ("GET", "/api/auth/me"),
            ("POST", "/api/competitions"),
            ("POST", "/api/console/competitions"),
            ("POST", "/ingest/events"),
            ("POST", "/ingest/batch"),
        ]:
            response = await anonymous.request(method, path, content=b"{}")
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
        bogus = await anonymous.get(
            "/api/competitions", headers={"Authorization": "Bearer cmp.000000000000.nope-nope-nope-nope-nope"}
        )
        assert bogus.status_code == 401
    async with httpx.AsyncClient(base_url=api_url, cookies={"campaigns_session": "made-up.sig"}) as forged:
        assert (await forged.get("/api/auth/me")).status_code == 401
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as anonymous:
        # Liveness stays open for scripts and load balancers; the pages are shells without data.
        assert (await anonymous.get("/healthz")).status_code == 200


async def test_a_wrong_password_and_an_unknown_user_get_the_same_refusal(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        wrong_password = await client.post(
            "/api/auth/login", json={"username": ADMIN_USER, "password": "not-the-password"}
        )
        unknown_user = await client.post(
            "/api/auth/login", json={"username": "nobody-here", "password": "not-the-password"}
        )
        assert wrong_password.status_code == unknown_user.status_code == 401
        assert wrong_password.content == unknown_user.content
        assert "set-cookie" not in wrong_password.headers and "set-cookie" not in unknown_user.headers

        good = await client.post("/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
        assert good.status_code == 200, good.text
        cookie = good.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        session = good.cookies["campaigns_session"]
    async with httpx.AsyncClient(
        base_url=api_url, timeout=30, cookies={"campaigns_session": session}
    ) as client:
        me = await client.get("/api/auth/me")
        assert me.json() == {
            "kind": "user",
            "name": ADMIN_USER,
            "role": "admin",
            "sub_branch": None,
            "label": None,
        }

        out = await client.post("/api/auth/logout")
        assert out.status_code == 204
    async with httpx.AsyncClient(
        base_url=api_url, timeout=30, cookies={"campaigns_session": session}
    ) as client:
        assert (await client.get("/api/auth/me")).status_code == 401  # the session is gone server side


async def test_a_viewer_cannot_write(api_url: str) -> None:
    make_user(api_url, VIEWER, VIEWER_PASSWORD, "viewer", sub_branch="sb-east")
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        login = await client.post("/api/auth/login", json={"username": VIEWER, "password": VIEWER_PASSWORD})
        assert login.status_code == 200, login.text
    cookies = {"campaigns_session": login.cookies["campaigns_session"]}
    async with httpx.AsyncClient(base_url=api_url, timeout=30, cookies=cookies) as client:
        assert (await client.get("/api/console/competitions")).status_code == 200
        for method, path, body in [
            ("POST", "/api/competitions", _draft()),
            ("POST", "/api/console/competitions", _draft()),
            (
                "POST",
                "/api/console/templates/feb_account_opening",
                {"id": "x", "window": {"start": "2026-03-01", "end": "2026-03-31"}},
            ),
            ("POST", "/api/console/users", {"username": "u", "password": "p" * 12, "role": "admin"}),
        ]:
            response = await client.request(method, path, json=body)
            assert response.status_code == 403, (path, response.text)
        org = await client.post("/api/console/org/import", content=b"cm_id,sub_branch_id\ncm-x,sb-east\n")
        assert org.status_code == 403
        # The same request with an organiser's key is taken: the refusal was the viewer's role.
        organiser = credentials_for(api_url).headers("organiser")
        made = await client.post("/api/console/competitions", json=_draft(), headers=organiser)
        assert made.status_code == 201, made.text
        # The viewer cannot read the audit log either (it names people and every definition).
        assert (await client.get("/api/audit")).status_code == 403
        # An admin's refused value names its field, for the console to mark it.
        short = await client.post(
            "/api/console/users",
            json={"username": "u2", "password": "short", "role": "viewer", "sub_branch": "sb-east"},
            headers=credentials_for(api_url).headers("admin"),
        )
        assert first_field(short) == ("password", "at least 10 characters")


async def test_ingest_needs_a_source_key(running_worker: Process, api_url: str) -> None:
    event = wire(opened("acc-ingest-1", cm_id="cm-a"))
    creds = credentials_for(api_url)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        assert (await client.post("/ingest/events", content=event)).status_code == 401
        as_organiser = await client.post("/ingest/events", content=event, headers=creds.headers("organiser"))
        assert as_organiser.status_code == 403
        as_source = await client.post("/ingest/events", content=event, headers=creds.headers("source"))
        assert as_source.status_code == 202, as_source.text
        # A source key sends events and does nothing else.
        assert (await client.get("/api/competitions", headers=creds.headers("source"))).status_code == 403
        # A display token cannot write, even through the query string.
        token = make_key(api_url, "display", "wall", sub_branch="sb-east")
        assert (await client.post(f"/ingest/events?token={token}", content=event)).status_code == 401


async def test_a_display_token_of_one_sub_branch_cannot_read_anothers_detail(
    running_worker: Process, api_url: str
) -> None:
    east = make_key(api_url, "display", "east wall", sub_branch="sb-east")
    definition = load_template("feb_account_opening").model_dump(mode="json") | {"status": "published"}
    events = [
        joined("cm-a", "sb-east", name="张伟"),
        joined("cm-b", "sb-west", name="李娜"),
        opened("acc-a1", cm_id="cm-a"),
        opened("acc-b1", cm_id="cm-b"),
    ]
    async with httpx.AsyncClient(base_url=api_url, timeout=30, auth=api_auth(api_url)) as admin:
        assert (await admin.post("/api/competitions", json=definition)).status_code == 202
        assert (
            await admin.post("/ingest/batch", content=b"\n".join(wire(e) for e in events))
        ).status_code == 200
        await poll(admin, f"/api/competitions/{CID}/leaderboard", lambda b: len(b["rows"]) == 2)
        tree = await poll(admin, "/api/console/org", lambda b: len(b["sub_branches"]) == 2)
        assert [u["id"] for u in tree["sub_branches"]] == ["sb-east", "sb-west"]

    async with httpx.AsyncClient(base_url=api_url, timeout=30) as screen:

        def get(path: str) -> object:
            return screen.get(path + ("&" if "?" in path else "?") + f"token={east}")

        # Its own sub-branch, and the whole-branch league table: yes.
        assert (await get(f"/api/competitions/{CID}/leaderboard")).status_code == 200
        own = await get(f"/api/competitions/{CID}/leaderboard?ranking=sub_branch_total&sub_branch=sb-east")
        assert own.status_code == 200, own.text
        assert (await get(f"/api/competitions/{CID}/standings/cm-a")).status_code == 200
        # Another sub-branch's detail: no.
        other = await get(f"/api/competitions/{CID}/leaderboard?sub_branch=sb-west")
        assert other.status_code == 403, other.text
        assert (await get(f"/api/competitions/{CID}/standings/cm-b")).status_code == 403
        org = (await get("/api/console/org")).json()
        assert [u["id"] for u in org["sub_branches"]] == ["sb-east"]
        # A display token is read-only: no console writes, no audit log.
        assert (await screen.get("/api/audit", params={"token": east})).status_code == 403


async def test_a_viewer_asks_why_an_event_of_their_sub_branch_did_not_count_and_no_other(
    running_worker: Process, api_url: str
) -> None:
    definition = load_template("feb_account_opening").model_dump(mode="json") | {"status": "published"}
    late = opened("why-a2", cm_id="cm-a") | {"occurred_at": "2026-04-02T10:00:00+08:00"}  # after the window
    events = [
        joined("cm-a", "sb-east", name="张伟"),
        joined("cm-c", "sb-east", name="王芳"),
        joined("cm-b", "sb-west", name="李娜"),
        late,
        opened("why-a1", cm_id="cm-a"),
        opened("why-c1", cm_id="cm-c"),
        opened("why-b1", cm_id="cm-b"),
    ]
    async with httpx.AsyncClient(base_url=api_url, timeout=30, auth=api_auth(api_url)) as admin:
        assert (await admin.post("/api/competitions", json=definition)).status_code == 202
        sent = await admin.post("/ingest/batch", content=b"\n".join(wire(e) for e in events))
        assert sent.json()["accepted"] == 7, sent.text
        await poll(admin, f"/api/competitions/{CID}/leaderboard", lambda b: len(b["rows"]) == 3)
    make_user(api_url, "why-viewer", VIEWER_PASSWORD, "viewer", sub_branch="sb-east")
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
        login = await client.post(
            "/api/auth/login", json={"username": "why-viewer", "password": VIEWER_PASSWORD}
        )
        assert login.status_code == 200, login.text
        why = "/api/managers/{cm}/events/{event}/explain"

        counted = await client.get(why.format(cm="cm-a", event="why-a1"))
        assert counted.status_code == 200, counted.text
        assert (counted.json()["status"], counted.json()["event"]["cm_id"]) == ("counted", "cm-a")
        not_counted = await client.get(why.format(cm="cm-a", event="why-a2"))
        assert not_counted.status_code == 200, not_counted.text
        (verdict,) = not_counted.json()["competitions"]
        assert not_counted.json()["status"] == "not_counted" and verdict["findings"], verdict
        # Another manager's event, even of the same sub-branch, is not found under cm-a.
        assert "why-c1" in problem(await client.get(why.format(cm="cm-a", event="why-c1")), 404)["detail"]
        # Another sub-branch's manager: refused, as for their page; any event: organisers only.
        problem(await client.get(why.format(cm="cm-b", event="why-b1")), 403)
        problem(await client.get("/api/events/why-a1/explain"), 403)


def test_secrets_are_stored_as_argon2_hashes(api_url: str, tmp_path: Path) -> None:
    creds = credentials_for(api_url)
    database = creds.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        users = db.execute("SELECT username, password_hash FROM users").fetchall()
        keys = db.execute("SELECT key_id, secret_hash FROM api_keys").fetchall()
    assert users and keys
    assert all(h.startswith("$argon2id$") for _, h in users + keys)
    raw = Path(database).read_bytes() + (
        Path(database + "-wal").read_bytes() if Path(database + "-wal").exists() else b""
    )
    for secret in (creds.admin_password, creds.admin_key, creds.source_key, creds.organiser_key):
        assert secret.encode() not in raw
        assert secret.split(".")[-1].encode() not in raw
