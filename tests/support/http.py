"""Polling the API while the read model converges on what the worker scored."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx


async def poll(
    client: httpx.AsyncClient, url: str, want: Callable[[Any], bool], timeout: float = 60.0
) -> dict[str, Any]:
    """GET url until `want(body)` holds; return that body."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = await client.get(url)
        if response.status_code == 200:
            body = response.json()
            if want(body):
                return body
        await asyncio.sleep(0.5)
    raise AssertionError(f"{url} never matched; last answer {body}")
