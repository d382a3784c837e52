"""Server-Sent Events for one client of one competition's board (docs/boards.md).

The stream, in order: `retry`, the `scored` messages missed since `Last-Event-ID` (when the
hub still holds them all), then a `snapshot` of the board; after that each new `scored` message
as it comes, a fresh snapshot when the board has moved (at most every `snapshot_seconds`), and
a `: ping` comment when nothing was sent for `ping_seconds`.

A snapshot carries the id of the last message published when it was taken, and is only sent once
this client's queue is empty: every message up to that id that concerns the client has been sent
before it, so resuming from a snapshot's id loses nothing.

Snapshots are built once per board revision and query, and shared by every client that asks for
the same one (a wall of screens costs one build, not one per screen).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass

from services.api import views
from services.readmodel import ReadModel
from services.readmodel.push import Message, sse_frame
from streams.core.rules import RankingKind


@dataclass(frozen=True)
class Scope:
    competition_id: str
    ranking: RankingKind
    sub_branch: str | None
    limit: int
    privacy: bool


class Snapshots:
    """The latest encoded snapshots, by scope and board state (a small LRU)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._held: OrderedDict[tuple[object, ...], bytes] = OrderedDict()

    @staticmethod
    def state(read_model: ReadModel, scope: Scope) -> tuple[object, ...]:
        """What a snapshot of this scope depends on (cheap: nothing is built)."""
        board = read_model.board
        return (scope, board.changed(scope.competition_id), board.today)

    def body(self, read_model: ReadModel, state: tuple[object, ...]) -> bytes:
        found = self._held.get(state)
        if found is not None:
            self._held.move_to_end(state)
            return found
        scope = state[0]
        assert isinstance(scope, Scope)
        page = read_model.board.page(
            scope.competition_id, scope.ranking, limit=scope.limit, sub_branch=scope.sub_branch
        )
        found = json.dumps(
            views.page(page, scope.privacy), ensure_ascii=False, separators=(",", ":")
        ).encode()
        self._held[state] = found
        while len(self._held) > self._size:
            self._held.popitem(last=False)
        return found


def scored_frame(m: Message, privacy: bool) -> bytes:
    return m.private_frame if privacy else m.frame


PING = b": ping\n\n"


async def events(
    read_model: ReadModel,
    snapshots: Snapshots,
    scope: Scope,
    last_event_id: int | None,
    *,
    ping_seconds: float,
    snapshot_seconds: float,
    retry_ms: int = 3000,
) -> AsyncIterator[bytes]:
    hub = read_model.hub
    sub, missed = hub.subscribe(scope.competition_id, scope.sub_branch, last_event_id)
    loop = asyncio.get_running_loop()
    try:
        yield b"retry: %d\n\n" % retry_ms
        if missed:
            yield b"".join(scored_frame(m, scope.privacy) for m in missed)
        sent_state: tuple[object, ...] | None = None
        last_snapshot = -1e9
        # Screens of one board are woken by the same change: each waits its own fraction of the
        # interval first, so a wall of them is served over time instead of in one burst.
        offset = random.uniform(0, snapshot_seconds / 2)
        noticed: float | None = None  # when this client first saw the board move since its last snapshot
        last_sent = loop.time()
        while True:
            sub.wake.clear()
            while sub.queue:
                # Everything queued in one write: a client that fell behind catches up in one go.
                frames = [scored_frame(sub.queue.popleft(), scope.privacy) for _ in range(len(sub.queue))]
                yield b"".join(frames)
                last_sent = loop.time()
            now = loop.time()
            state = snapshots.state(read_model, scope)
            if state != sent_state and noticed is None:
                noticed = now
            due = max(last_snapshot + snapshot_seconds, (noticed if noticed is not None else now) + offset)
            if sub.resync or sent_state is None or (state != sent_state and now >= due):
                # The queue is empty here and nothing runs in between: every message up to
                # hub.last_id that concerns this client has been sent before this snapshot.
                sub.resync = False
                sent_state, last_snapshot, noticed = state, now, None
                yield sse_frame("snapshot", snapshots.body(read_model, state), hub.last_id)
                last_sent = loop.time()
                continue
            if loop.time() - last_sent >= ping_seconds:
                yield PING
                last_sent = loop.time()
                continue
            wait = last_sent + ping_seconds - loop.time()
            # A snapshot already due later needs no wake-up when the board moves again meanwhile.
            sub.board_wakes = state == sent_state
            if not sub.board_wakes:
                wait = min(wait, due - loop.time())
            if sub.queue or sub.resync:
                continue
            with suppress(TimeoutError):
                await asyncio.wait_for(sub.wake.wait(), max(0.0, wait))
    finally:
        hub.unsubscribe(sub)
