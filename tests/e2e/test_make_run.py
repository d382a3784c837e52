"""`make run` as a new user meets it: deploy/local/run.sh starts the platform (worker, sink, API,
demo, dev credentials) on a run directory and ports of its own (tests/support/platform.py).

- A second `make run` under an open wall screen (real headless Chromium) locks nobody out: the
  same credentials, the screen still shows the board, its stream is never refused.
- The URLs it prints carry no key that can write; the API's log holds no token.
- Every ```sh example of README.md and docs/*.md runs against it (the few it cannot, in SKIPPED).
- `make stop` leaves no process of the platform, what-if workers and multiprocessing's resource
  tracker included (the last test of the module).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Response

from schemas import SHANGHAI
from services.demo.competitions import LAST_MONTH_ID, last_month
from tests.e2e.pages_world import until
from tests.support.doc_examples import all_blocks
from tests.support.kafka import drop_topics
from tests.support.live_browser import WALL, live_browser, live_page, page_errors, save_screenshot, text_of
from tests.support.platform import Platform
from tests.support.processes import ROOT

DENIED = "无权查看"
LIVE = "window.screenState.current !== null && window.screenState.connection === 'live'"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = Platform(tmp_path_factory.mktemp("make-run"))
    running.start()
    try:
        yield running
    finally:
        running.stop()  # a second stop (after the last test's) is a no-op
        running.kill_leftovers()  # only if a test failed: none of this run may outlive it
        with contextlib.suppress(Exception):  # the broker gone by now: nothing left to tidy
            asyncio.run(drop_topics(running.prefix))


def _secrets(platform: Platform) -> dict[str, str]:
    found = platform.credentials()
    return {
        k: found[k]
        for k in ("CAMPAIGNS_DEV_ORGANISER_KEY", "CAMPAIGNS_DEV_SOURCE_KEY", "CAMPAIGNS_DEV_DISPLAY_TOKEN")
    }


def test_the_printed_page_urls_carry_the_display_token_only(platform: Platform) -> None:
    printed = platform.start()  # what a second `make run` prints: everything is already running
    found = platform.credentials()
    # The console's password is printed on purpose (a person types it); keys that write are not.
    for name in ("CAMPAIGNS_DEV_ORGANISER_KEY", "CAMPAIGNS_DEV_SOURCE_KEY"):
        assert found[name] not in printed, name
    urls = [w for w in printed.split() if w.startswith("http") and "token=" in w]
    assert len(urls) == 3, printed
    for url in urls:
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"]
        assert token == [found["CAMPAIGNS_DEV_DISPLAY_TOKEN"]], url
    # The manager's page reads with that token (cm-101 is in the display token's sub-branch).
    manager = httpx.get(
        f"{platform.url}/api/managers/cm-101",
        params={"token": found["CAMPAIGNS_DEV_DISPLAY_TOKEN"]},
        timeout=30,
    )
    assert manager.status_code == 200, manager.text


async def test_a_second_make_run_leaves_an_open_wall_screen_working(
    platform: Platform, tmp_path: Path
) -> None:
    before = _secrets(platform)
    refused: list[str] = []
    answered: list[str] = []

    def on_response(response: Response) -> None:
        path = urllib.parse.urlsplit(response.url).path
        if response.status in (401, 403):
            refused.append(f"{response.status} {path}")
        elif response.status == 200 and path.startswith("/api/"):
            answered.append(path)

    url = platform.credentials()["CAMPAIGNS_DEV_SCREEN_URL"]
    async with live_browser() as browser, live_page(browser, url, size=WALL) as page:
        page.on("response", on_response)
        await until(page, LIVE, what="the demo's board, live")
        await until(page, "document.querySelectorAll('#rows .row').length > 0", what="rows on the board")

        second = await asyncio.to_thread(platform.start)
        assert "already running" in second
        assert _secrets(platform) == before, "a second make run changed the dev credentials"

        # An open stream was let in when it opened and goes on; what a revoked token breaks is
        # the screen's next request: it reloads the list of competitions every minute.
        answered.clear()
        await _until_answered(answered, refused, "/api/competitions", timeout=90)
        await until(page, LIVE, what="still live")
        await until(page, "document.querySelectorAll('#rows .row').length > 0", what="rows after the reload")
        assert DENIED not in await text_of(page, "body")
        await save_screenshot(
            page, tmp_path / "screen-after-second-run.png", artefact="screen-after-second-run.png"
        )
        assert refused == []
        assert not page_errors(
            page, ignore=("ERR_INTERNET_DISCONNECTED", "Failed to load resource", "EventSource")
        )


async def _until_answered(answered: list[str], refused: list[str], path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while path not in answered:
        assert not refused, refused
        assert time.monotonic() < deadline, f"no 200 for {path} in {timeout}s; answered: {answered}"
        await asyncio.sleep(0.5)


def test_the_api_log_holds_no_token(platform: Platform) -> None:
    found = _secrets(platform)
    # A request with the token in its query, as the wall screen makes them, and one with a header.
    token = found["CAMPAIGNS_DEV_DISPLAY_TOKEN"]
    assert (
        httpx.get(f"{platform.url}/api/competitions", params={"token": token}, timeout=30).status_code == 200
    )
    organiser = {"Authorization": f"Bearer {found['CAMPAIGNS_DEV_ORGANISER_KEY']}"}
    assert (
        httpx.get(f"{platform.url}/api/console/competitions", headers=organiser, timeout=30).status_code
        == 200
    )
    log = platform.logs()["api"].read_text(errors="replace")
    assert "token=cmp." in log  # the requests are logged, with their key ids
    for name, secret in found.items():
        assert secret.split(".")[-1] not in log, f"{name} is in the API's log"


def test_the_openapi_document_lets_docs_send_a_key(platform: Platform) -> None:
    document = httpx.get(f"{platform.url}/openapi.json", timeout=30).json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["paths"]["/api/competitions"]["get"]["security"] == [{"bearer": []}]


# Examples the test cannot run, each with the reason (matched by a piece of the command; an entry
# that matches nothing fails the test, so the list cannot outlive its examples).
SKIPPED = {
    "make run": "the platform under test is what `make run` starts (run.sh start, this module's fixture)",
    "make test": "the suite this test is part of",
}


def _standins(folder: Path) -> None:
    """The reader's own files the examples name (event.json, events.ndjson, events.jsonl,
    extract.csv): valid events of the demo's managers, occurring now."""
    example = json.loads((ROOT / "schemas/examples/account.opened.v1.json").read_text())
    now = datetime.now(SHANGHAI).replace(microsecond=0).isoformat()

    def event(n: int, cm_id: str) -> dict[str, object]:
        data = dict(example["data"], cm_id=cm_id, account_id=f"docs-acct-{uuid.uuid4().hex[:8]}")
        data.pop("sub_branch_id", None)
        return dict(example, event_id=f"docs-{uuid.uuid4().hex}", occurred_at=now, data=data)

    (folder / "event.json").write_text(json.dumps(event(0, "cm-101"), ensure_ascii=False, indent=2))
    for name in ("events.ndjson", "events.jsonl"):
        lines = [json.dumps(event(n, cm), ensure_ascii=False) for n, cm in enumerate(("cm-101", "cm-102"))]
        (folder / name).write_text("\n".join(lines) + "\n")
    columns = ["event_id", "type", "schema_version", "occurred_at", "source"]
    fields = ["account_id", "customer_id", "cm_id", "account_type", "segment", "channel", "new_firm"]
    rows = [",".join(columns + [f"data.{f}" for f in fields])]
    for cm in ("cm-103", "cm-104"):
        e = event(0, cm)
        data = e["data"]
        assert isinstance(data, dict)
        rows.append(",".join([str(e[c]) for c in columns] + [str(data[f]).lower() for f in fields]))
    (folder / "extract.csv").write_text("\n".join(rows) + "\n")


def _localised(command: str, platform: Platform) -> str:
    """The docs name make run's defaults; the platform under test has its own port and topics."""
    topics = platform.prefix
    command = command.replace("http://127.0.0.1:8000", platform.url)
    command = command.replace("-t events.raw", f"-t {topics}events.raw")
    return command.replace(
        "campaigns-load ",
        f"campaigns-load --topic {topics}events.raw --dead-letter-topic {topics}events.deadletter ",
    )


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env=env,
        input="docs-example-password\ndocs-example-password\n",
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,  # no terminal: getpass reads the password from stdin
    )


def test_every_shell_example_of_the_docs_runs(platform: Platform, tmp_path: Path) -> None:
    """Each ```sh block of README.md and docs/*.md, as one script, from a folder laid out as the
    repository's root (.venv, schemas, .run = this platform's run dir) holding the reader's files.
    A failed HTTP call fails it (curl --fail-with-body); a password prompt reads stdin."""
    work = tmp_path / "repo"
    work.mkdir()
    for name in (".venv", "schemas"):
        (work / name).symlink_to(ROOT / name)
    (work / ".run").symlink_to(platform.run_dir)
    _standins(work)
    env = dict(
        platform.env,
        CAMPAIGNS_DATABASE_URL=platform.database_url,
        CAMPAIGNS_ENVIRONMENT="development",
        PYTHONPATH=str(ROOT),
    )
    # The demo keeps feeding all along: verify compares up to a cut taken when it starts
    # (services/verify/cut.py), so what the stream scores meanwhile is no difference.
    blocks = all_blocks()
    used: set[str] = set()
    ran: list[str] = []
    failures: list[str] = []
    for block in blocks:
        lines = ["set -euo pipefail", 'curl() { command curl --fail-with-body --silent --show-error "$@"; }']
        lines.append("trap 'echo \"failed: $BASH_COMMAND\" >&2' ERR")
        for command in block.commands:
            code = command.split(" #")[0]  # a comment may mention anything
            skip = next((piece for piece in SKIPPED if piece in code), None)
            if skip is not None:
                used.add(skip)
                continue
            lines.append(_localised(command, platform))
            ran.append(f"{block.where}: {command}")
        done = _bash("\n".join(lines), work, env)
        if done.returncode != 0:
            output = f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            failures.append(f"{block.where} exited {done.returncode}:\n{output}")
    assert not failures, "\n\n".join(failures)
    assert set(SKIPPED) == used, f"skip entries matching no example: {set(SKIPPED) - used}"
    # The examples that matter most ran, not only were found: each door, the CLI, the admin tool.
    joined = "\n".join(ran)
    for piece in (
        "kcat -P",
        "/ingest/events",
        "/ingest/batch",
        "campaigns-load",
        "services.admin",
        "services.verify",
        "/api/awards/freezes",
        "/api/awards/runs",
    ):
        assert piece in joined, f"no example with {piece} ran"


def test_the_docs_approved_last_months_awards_from_the_demos_backfill(platform: Platform) -> None:
    """After the README's month end: last month's run is approved and pays out of the demo's
    backfilled events, on time (none of them late, so no adjustment and no warning)."""
    organiser = {"Authorization": f"Bearer {platform.credentials()['CAMPAIGNS_DEV_ORGANISER_KEY']}"}
    period = f"{last_month(datetime.now(SHANGHAI).date())[0]:%Y-%m}"
    listed = httpx.get(
        f"{platform.url}/api/awards/runs",
        params={"competition_id": LAST_MONTH_ID, "period": period},
        headers=organiser,
        timeout=30,
    )
    assert listed.status_code == 200, listed.text
    assert [r["status"] for r in listed.json()["runs"]] == ["approved"], listed.text
    run_id = listed.json()["runs"][0]["id"]
    run = httpx.get(f"{platform.url}/api/awards/runs/{run_id}", headers=organiser, timeout=30).json()
    assert Decimal(str(run["amount"])) > 0 and run["people"] >= 10, run
    lines = httpx.get(f"{platform.url}/api/awards/runs/{run_id}/lines", headers=organiser, timeout=30).json()
    people = [line for line in lines["lines"] if line["kind"] == "customer_manager"]
    assert sum(Decimal(line["amount"]) > 0 for line in people) >= 6, people  # 1 + 2 + 3 rank prizes
    assert all(Decimal(line["adjustment"]) == 0 for line in people), people


def test_make_stop_leaves_no_process_behind(platform: Platform) -> None:
    """Last: a what-if preview first, so the API has its process pool (and the resource tracker)."""
    key = platform.credentials()["CAMPAIGNS_DEV_ORGANISER_KEY"]
    preview = httpx.post(
        f"{platform.url}/api/console/competitions/feb-account-opening/preview",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        content=json.dumps({"version": 1}),
        timeout=120,
    )
    assert preview.status_code == 200, preview.text
    running = platform.leftovers()
    commands = " | ".join(p.cmdline for p in running)
    assert "multiprocessing.spawn" in commands and "resource_tracker" in commands, commands
    for process in ("streams worker", "services.sink", "services.api", "services.demo"):
        assert process in commands, commands
    assert sum("multiprocessing.spawn" in p.cmdline for p in running) == 2, commands  # whatif_processes

    platform.stop()
    assert platform.leftovers() == []
