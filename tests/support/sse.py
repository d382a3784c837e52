"""A Server-Sent Events client for tests and benchmarks, reading the stream as a browser's
EventSource does (fields `id`, `event`, `data`; a blank line ends a message; `:` a comment),
noting when each message arrived."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class SseMessage:
    event: str  # "message" when the server named none; "comment" for a `:` line
    data: str
    id: str | None
    at: float = field(default_factory=time.perf_counter)

    def json(self) -> Any:
        return json.loads(self.data)


class SseClient:
    """Reads one stream in a task; `messages` grows as they arrive."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.messages: list[SseMessage] = []
        self.status: int | None = None
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read(client, path, params or {}, headers or {}))

    async def _read(
        self, client: httpx.AsyncClient, path: str, params: dict[str, Any], headers: dict[str, str]
    ) -> None:
        async with client.stream("GET", path, params=params, headers=headers, timeout=None) as response:
            self.status = response.status_code
            event, data, last_id = "message", [], None
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    self._add(SseMessage("comment", line[1:].strip(), None))
                elif line == "":
                    if data:
                        self._add(SseMessage(event, "\n".join(data), last_id))
                    event, data = "message", []
                else:
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "event":
                        event = value
                    elif name == "data":
                        data.append(value)
                    elif name == "id":
                        last_id = value

    def _add(self, message: SseMessage) -> None:
        self.messages.append(message)
        self._changed.set()

    def of(self, event: str) -> list[SseMessage]:
        return [m for m in self.messages if m.event == event]

    async def wait_for(
        self, done: Callable[[list[SseMessage]], bool], timeout: float = 60.0
    ) -> list[SseMessage]:
        deadline = time.monotonic() + timeout
        while not done(self.messages):
            if self._task.done():
                self._task.result()  # the stream's own error, if any
                raise AssertionError(f"the stream ended (status {self.status}); got {self.messages[-5:]}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"timed out; last messages {[(m.event, m.data[:80]) for m in self.messages[-5:]]}"
                )
            self._changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
        return self.messages

    async def close(self) -> None:
        self._task.cancel()
        with suppress(asyncio.CancelledError, httpx.HTTPError):
            await self._task
