"""The pages and their files over HTTP: the wall screen and the manager page are static documents
(no credential needed to load them; their data needs one), their scripts and stylesheets are
served by exact name with their types, and nothing they load comes from another host."""

from __future__ import annotations

import re

import httpx


async def test_the_pages_and_their_files_are_served(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        screen = await client.get("/screen?sub_branch=sb-east&privacy=1")
        me = await client.get("/me/cm-101")
        for page in (screen, me):
            assert page.status_code == 200, page.text
            assert page.headers["content-type"].startswith("text/html")
            assert page.headers["cache-control"] == "no-cache"
        assert "普惠金融竞赛实时排行榜" in screen.text
        assert "最近得分" in me.text

        loaded = re.findall(r'(?:src|href)="([^"]+)"', screen.text + me.text)
        assert {
            "/pages/live.js",
            "/pages/screen.js",
            "/pages/screen.css",
            "/pages/me.js",
            "/pages/me.css",
        } <= set(loaded)
        assert all(u.startswith(("/", "data:")) for u in loaded), f"a page loads from elsewhere: {loaded}"
        for url in loaded:
            if not url.startswith("/pages/"):
                continue
            answer = await client.get(url)
            assert answer.status_code == 200, url
            kind = "text/javascript" if url.endswith(".js") else "text/css"
            assert answer.headers["content-type"].startswith(kind), (url, answer.headers["content-type"])

        for name in ("nothing.js", "leaderboard.html", "..%2Fapp.py", "console.html"):
            assert (await client.get(f"/pages/{name}")).status_code == 404, name

        # The data behind the pages is not public: without a credential the API refuses it.
        assert (await client.get("/api/managers/cm-101")).status_code == 401
        assert (await client.get("/api/competitions/x/stream")).status_code == 401
