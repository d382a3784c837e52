"""The API replica's read model: replays the compacted standings and org topics from the
beginning, keeps following them, and reads the competitions with the workers' own `RulesFeed`;
follows the ledger from near its end for what just scored (`scored.py`), and fans changes out
to push clients (`push.Hub`).

No consumer group: every replica reads every partition itself, so replicas never share work and
each one holds the whole picture. aiokafka's errors stop here.

No record stops a follower: one that cannot be read is logged, counted (`poisoned`) and skipped,
and `health()` tells whether each follower is still running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from schemas.topics import Topics
from services.readmodel.board import Board, Clock, Leaderboard
from services.readmodel.push import Hub
from services.readmodel.scored import RecentScores
from streams.core.rules import Competition, RankingKind
from streams.core.standing import Standing
from streams.follow import Handler, follow
from streams.rules_feed import RulesFeed

log = logging.getLogger(__name__)


class ReadModel:
    def __init__(
        self,
        bootstrap: str,
        topics: Topics,
        *,
        clock: Clock | None = None,
        ledger_tail: int = 500,
        push_queue: int = 1024,
        push_keep: int = 10_000,
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self.board = Board(clock)
        self.hub = Hub(capacity=push_queue, keep=push_keep)
        self.recent = RecentScores()
        self._ledger_tail = ledger_tail
        self.ledger_ready = asyncio.Event()
        self._rules = RulesFeed(bootstrap, topics.competitions, on_change=self._rules_changed)
        self._wakeup = asyncio.Event()  # set and replaced on every change
        self._tasks: list[asyncio.Task[None]] = []
        self.standings_ready = asyncio.Event()
        self.org_ready = asyncio.Event()
        self._skipped = 0  # records a follower could not take at all (see _skip)

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        competitions = self._topics.competitions
        # The rules feed's own handler, one record at a time: a competitions record it raises on
        # must not stop the API's view of the rules (RulesFeed.run would stop there). Rules are few.
        take_rules = self._one_by_one(competitions, self._rules._take)
        rules = follow(self._bootstrap, competitions, take_rules, self._rules.ready)
        self._tasks = [
            asyncio.create_task(rules, name="readmodel-rules"),
            asyncio.create_task(self._follow_standings(), name="readmodel-standings"),
            asyncio.create_task(
                self._follow(self._topics.org, self.board.put_org, self.org_ready), name="readmodel-org"
            ),
            asyncio.create_task(self._follow_ledger(), name="readmodel-ledger"),
        ]
        for task in self._tasks:
            task.add_done_callback(_report_death)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    @property
    def ready(self) -> bool:
        """Caught up with the competitions, standings and org topics as they were at start-up."""
        return self._rules.ready.is_set() and self.standings_ready.is_set() and self.org_ready.is_set()

    @property
    def poisoned(self) -> int:
        """Records skipped because they could not be read, since start-up."""
        return self._skipped + self.board.invalid + self._rules.invalid + self.recent.invalid

    def stopped(self) -> dict[str, str]:
        """Followers that are no longer running, with why (none while all is well)."""
        out: dict[str, str] = {}
        for task in self._tasks:
            if task.done():
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    out[task.get_name()] = f"{type(error).__name__}: {error}"
                else:
                    out[task.get_name()] = "cancelled" if task.cancelled() else "finished"
        return out

    def health(self) -> dict[str, Any]:
        """Caught up with what each topic held at start-up, every follower running, poison seen."""
        stopped = self.stopped() if self._tasks else {"readmodel": "not started"}
        caught_up = {
            "competitions": self._rules.ready.is_set(),
            "standings": self.standings_ready.is_set(),
            "org": self.org_ready.is_set(),
        }
        return {
            "ok": all(caught_up.values()) and not stopped,
            "caught_up": caught_up,
            "stopped": stopped,
            "poisoned": self.poisoned,
            "revision": self.revision,
            "push": {"clients": len(self.hub), "overflows": self.hub.overflows, "last_id": self.hub.last_id},
        }

    @property
    def revision(self) -> int:
        return self.board.revision

    async def wait_for_change(self, after: int, timeout: float) -> int:
        """The revision once it is past `after`, or the current one after `timeout` s (for push)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.revision <= after and (left := deadline - loop.time()) > 0:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), left)
        return self.revision

    # -- the questions the API asks ---------------------------------------------------------

    def competitions(self) -> list[Competition]:
        return self.board.competitions()

    def competition(self, competition_id: str) -> Competition:
        return self.board.competition(competition_id)

    def version(self, competition_id: str, version: int) -> Competition | None:
        return self.board.version(competition_id, version)

    def leaderboard(self, competition_id: str, ranking: RankingKind) -> Leaderboard:
        return self.board.leaderboard(competition_id, ranking)

    def standing(self, competition_id: str, cm_id: str) -> Standing | None:
        return self.board.standing(competition_id, cm_id)

    # -- feeding ----------------------------------------------------------------------------

    def _rules_changed(self) -> None:
        if self.board.set_competitions(self._rules.versions()):
            self._notify()

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()
        self.hub.board_changed({cid: self.board.changed(cid) for cid in self.hub.competitions()})

    async def _follow_standings(self) -> None:
        """Standings with their Kafka timestamps: those written before today began are also how
        the day's boards started (rank_change). A batch is put at once (`Board.put_latest`: each
        key's last standing); a record that raises is skipped alone."""
        topic = self._topics.standings

        def take(records: Sequence[Any]) -> None:
            def skip(place: int, exc: Exception) -> None:
                self._skip(topic, records[place], exc)

            if self.board.put_latest([(m.key, m.value, _stamp(m)) for m in records], skip):
                self._notify()

        await follow(self._bootstrap, topic, take, self.standings_ready)

    async def _follow_ledger(self) -> None:
        """The last `ledger_tail` records of each partition (remembered), then on (also pushed)."""
        ready = self.ledger_ready

        def take(records: Sequence[Any]) -> None:
            hub = self.hub if ready.is_set() else None
            for m in records:
                try:
                    self.recent.take(m.value, self.board, hub)
                except Exception as exc:
                    self._skip(self._topics.ledger, m, exc)

        await follow(self._bootstrap, self._topics.ledger, take, ready, tail=self._ledger_tail)

    async def _follow(
        self, topic: str, put: Callable[[bytes | None, bytes | None], bool], ready: asyncio.Event
    ) -> None:
        """Every partition of a compacted topic from offset 0, then on; `ready` once caught up."""

        await self._follow_records(topic, lambda m: put(m.key, m.value), ready)

    async def _follow_records(self, topic: str, put: Callable[[Any], bool], ready: asyncio.Event) -> None:
        def take(records: Sequence[Any]) -> None:
            changed = False
            for m in records:
                try:
                    changed = put(m) or changed
                except Exception as exc:
                    self._skip(topic, m, exc)
            if changed:
                self._notify()

        await follow(self._bootstrap, topic, take, ready)

    def _one_by_one(self, topic: str, handle: Handler) -> Handler:
        """A batch handler of someone else's, fed one record at a time, so a record it raises on
        is skipped alone (and nothing it counts itself is counted twice)."""

        def take(records: Sequence[Any]) -> None:
            for m in records:
                try:
                    handle([m])
                except Exception as exc:
                    self._skip(topic, m, exc)

        return take

    def _skip(self, topic: str, m: Any, exc: Exception) -> None:
        self._skipped += 1
        log.error(
            "readmodel: skipping record %s/%s@%s that cannot be read: %s",
            topic,
            getattr(m, "partition", "?"),
            getattr(m, "offset", "?"),
            f"{type(exc).__name__}: {exc}"[:300],
        )


def _stamp(m: Any) -> datetime | None:
    return datetime.fromtimestamp(m.timestamp / 1000, UTC) if m.timestamp and m.timestamp > 0 else None


def _report_death(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("readmodel: %s stopped: %r", task.get_name(), task.exception())
