"""Every worker's copy of the published rules, read from the compacted competitions topic.

Each process reads all partitions itself (no consumer group): rules are small, and scoring on any
partition needs all of them. Every (competition, version, status) ever read is kept: a scoring
partition may still score with a version's "published" definition after it was closed, until the
partition reaches the control record of the closing (streams/pipeline/scoring.py). A partition that
reaches a control record before this feed has its version holds there and asks again later. The topic is
keyed by competition, version and status (schemas/control.py), so compaction keeps each of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from schemas.errors import Rejection
from schemas.wire_json import load_json
from streams.core.errors import CoreError
from streams.core.rules import Competition, parse_competition
from streams.follow import follow

log = logging.getLogger(__name__)

STATUS_ORDER = {"draft": 0, "published": 1, "closed": 2}


class RulesFeed:
    def __init__(self, bootstrap: str, topic: str, on_change: Callable[[], None] | None = None) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._on_change = on_change
        self._by_key: dict[str, Competition] = {}  # topic key -> definition
        self.ready = asyncio.Event()
        self.invalid = 0

    def definition(self, competition_id: str, version: int, status: str) -> Competition | None:
        for comp in self._by_key.values():
            if comp.id == competition_id and comp.version == version and comp.status == status:
                return comp
        return None

    def versions(self) -> list[Competition]:
        """Each version in its furthest status (draft < published < closed), drafts included."""
        best: dict[tuple[str, int], Competition] = {}
        for comp in self._by_key.values():
            known = best.get((comp.id, comp.version))
            if known is None or STATUS_ORDER[comp.status] > STATUS_ORDER[known.status]:
                best[(comp.id, comp.version)] = comp
        return [best[k] for k in sorted(best)]

    def _take(self, records: Sequence[Any]) -> None:
        for m in records:
            name = (m.key or b"").decode("utf-8", "replace")
            if m.value is None:
                self._by_key.pop(name, None)  # a tombstone withdraws a version
                continue
            try:
                self._by_key[name] = parse_competition(load_json(m.value))
            except (Rejection, ValueError, CoreError, RecursionError) as exc:
                # The API validates before publishing; a hand-written bad record must not stop scoring.
                self.invalid += 1
                log.error("rules: ignoring invalid competition record %s: %s", name, exc)
        if self._on_change is not None:
            self._on_change()

    async def run(self) -> None:
        await follow(self._bootstrap, self._topic, self._take, self.ready)
