"""The wall page in a real headless Chromium: once the worker has scored the events, the page's
own JavaScript fetches the boards and draws them. Assertions hold whether a row shows the
customer manager's id or a display name with it: they look at ranks, points and ids."""

from __future__ import annotations

import asyncio
import re
import struct
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from streams.core.templates import load_template
from tests.support.auth import api_auth, make_key
from tests.support.browser import rendered_dom, screenshot
from tests.support.events import joined, opened, wire
from tests.support.http import poll
from tests.support.processes import Process

CID = "feb-account-opening"
NAME = "2月「多开户、多开基本户」竞赛"


class _Boards(HTMLParser):
    """Each board's <h3> title and the text of its table's body rows, cell by cell."""

    def __init__(self) -> None:
        super().__init__()
        self.boards: dict[str, list[list[str]]] = {}
        self._title: str | None = None
        self._in_title = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h3":
            self._in_title, self._title = True, ""
        elif tag == "tr":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3" and self._title is not None:
            self._in_title = False
            self.boards[self._title.strip()] = []
        elif tag == "td" and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row and self._title is not None:
            self.boards[self._title.strip()].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._in_title and self._title is not None:
            self._title += data
        elif self._cell is not None:
            self._cell.append(data)


def _boards(dom: str) -> dict[str, list[list[str]]]:
    parser = _Boards()
    parser.feed(dom)
    return parser.boards


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return width, height


def _ranking(body: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(r["rank"], r["id"], r["points"]) for r in body["rows"]]


def _assert_ranked(rows: list[list[str]], want: list[tuple[str, str, str]]) -> None:
    """Rows in order, each with its rank first, the id somewhere in the row, and its points."""
    assert len(rows) == len(want), rows
    for cells, (rank, who, points) in zip(rows, want, strict=True):
        assert cells[0] == rank, cells
        assert who in " ".join(cells[1:]), cells
        assert points in cells, cells


async def test_the_page_draws_the_scored_leaderboard(
    running_worker: Process, api_url: str, tmp_path: Path
) -> None:
    definition = load_template("feb_account_opening").model_dump(mode="json") | {"status": "published"}
    events = [
        joined("cm-a", "sb-east"),
        joined("cm-b", "sb-west"),
        # 基本户 10 + 非授信 2 + 税务师事务所 3 + 新注册企业 5 = 20 each: cm-a 40, cm-b 20.
        opened("pg-a1", cm_id="cm-a", channel="tax_agent", new_firm=True),
        opened("pg-a2", cm_id="cm-a", channel="tax_agent", new_firm=True),
        opened("pg-b1", cm_id="cm-b", channel="tax_agent", new_firm=True),
    ]
    async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url), timeout=30) as client:
        published = await client.post("/api/competitions", json=definition)
        assert published.status_code == 202, published.text
        ingested = await client.post("/ingest/batch", content=b"\n".join(wire(e) for e in events))
        assert ingested.json()["accepted"] == len(events)

        board = f"/api/competitions/{CID}/leaderboard?ranking="
        await poll(
            client,
            board + "customer_manager",
            lambda b: _ranking(b) == [(1, "cm-a", "40.00"), (2, "cm-b", "20.00")],
        )
        await poll(client, board + "sub_branch_total", lambda b: len(b["rows"]) == 2)

    # Chromium runs in a thread so the event loop stays free while the browser works.
    # The wall page as a screen opens it: with a read-only display token in its URL.
    token = make_key(api_url, "display", "wall page", sub_branch="sb-east")
    dom = await asyncio.to_thread(rendered_dom, f"{api_url}/?token={token}")

    assert NAME in dom
    status = re.search(r'id="status"[^>]*>([^<]*)<', dom)
    assert status and "更新于" in status[1], f"the page's fetches did not succeed: {status}"
    boards = _boards(dom)
    _assert_ranked(boards["客户经理排行"], [("1", "cm-a", "40.00"), ("2", "cm-b", "20.00")])
    _assert_ranked(boards["支行排行（总分）"], [("1", "sb-east", "40.00"), ("2", "sb-west", "20.00")])
    assert dom.index("cm-a") < dom.index("cm-b")

    png = await asyncio.to_thread(screenshot, f"{api_url}/?token={token}", tmp_path / "leaderboard.png")
    data = png.read_bytes()
    assert _png_size(data) == (1920, 1080)
    assert len(data) > 10_000, f"a {len(data)}-byte screenshot is too plain to show the boards"
