"""Fan-out of live messages to the API's push clients (SSE), in memory, without I/O.

Every message gets an id, one more than the last (`Last-Event-ID` resumes from it). Ids start
at the process's start time in microseconds, so a replica that restarts never reuses an id an
old client still holds: that client's id is not held here and it gets a fresh snapshot.

A publisher never waits for a client. Each subscriber has a bounded queue: when it is full (the
client reads too slowly, or not at all), the queue is emptied and the subscriber is marked
`resync`: instead of an ever-growing backlog it gets one fresh snapshot when it reads again.
The last `keep` messages stay in a ring so that a client that reconnects with `Last-Event-ID`
gets what it missed; a client further behind gets a fresh snapshot only.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from itertools import islice


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    event: str
    competition_id: str
    sub_branch_id: str | None
    data: bytes  # JSON
    private: bytes  # JSON for privacy mode: nothing a customer in the room must not read
    # The SSE frames of `data` and `private`, made once here rather than once per client.
    frame: bytes
    private_frame: bytes


def sse_frame(event: str, data: bytes, message_id: int) -> bytes:
    """One Server-Sent Event (`data` is one line of JSON)."""
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (message_id, event.encode(), data)


class Subscriber:
    def __init__(self, competition_id: str, sub_branch: str | None, capacity: int) -> None:
        self.competition_id = competition_id
        self.sub_branch = sub_branch
        self.capacity = capacity
        self.queue: deque[Message] = deque()
        self.wake = asyncio.Event()
        self.resync = False  # its queue overflowed: send a fresh snapshot
        self.board_wakes = True  # wake on a board change (False while a snapshot is already due)
        self.overflows = 0

    def wants(self, m: Message) -> bool:
        return m.competition_id == self.competition_id and (
            self.sub_branch is None or m.sub_branch_id == self.sub_branch
        )

    def offer(self, m: Message) -> bool:
        """Queue the message; False if the queue was full and was emptied instead."""
        if len(self.queue) >= self.capacity:
            self.queue.clear()
            self.resync = True
            self.overflows += 1
            self.wake.set()
            return False
        else:
            self.queue.append(m)
        self.wake.set()
        return True


class Hub:
    def __init__(self, capacity: int = 1024, keep: int = 10_000, first_id: int | None = None) -> None:
        self.capacity = capacity
        start = first_id if first_id is not None else time.time_ns() // 1000
        self.last_id = start - 1
        self._ring: deque[Message] = deque(maxlen=keep)
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._seen: dict[str, int] = {}  # competition id -> board revision its subscribers were woken for
        self.overflows = 0  # queues emptied for a fresh snapshot, since start-up

    def publish(
        self, event: str, competition_id: str, sub_branch_id: str | None, data: bytes, private: bytes
    ) -> Message:
        self.last_id += 1
        m = Message(
            self.last_id,
            event,
            competition_id,
            sub_branch_id,
            data,
            private,
            sse_frame(event, data, self.last_id),
            sse_frame(event, private, self.last_id),
        )
        self._ring.append(m)
        for sub in self._subscribers.get(competition_id, ()):
            if sub.wants(m) and not sub.offer(m):
                self.overflows += 1
        return m

    def holds(self, after: int) -> bool:
        """Whether every message with an id above `after` is still here (or there is none)."""
        first = self._ring[0].id if self._ring else self.last_id + 1
        return first - 1 <= after <= self.last_id

    def subscribe(
        self, competition_id: str, sub_branch: str | None, last_event_id: int | None = None
    ) -> tuple[Subscriber, list[Message]]:
        """A new subscriber, and the messages it missed after `last_event_id` (if all are held)."""
        sub = Subscriber(competition_id, sub_branch, self.capacity)
        self._subscribers.setdefault(competition_id, set()).add(sub)
        missed: list[Message] = []
        if last_event_id is not None and self._ring and self.holds(last_event_id):
            start = max(0, last_event_id + 1 - self._ring[0].id)  # ids in the ring are consecutive
            missed = [m for m in islice(self._ring, start, None) if sub.wants(m)]
        return sub, missed

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self._subscribers.get(sub.competition_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.competition_id]

    def board_changed(self, revision_of: dict[str, int] | None = None) -> None:
        """Wake the subscribers of competitions whose boards moved (all of them if not told)."""
        for cid, subs in self._subscribers.items():
            if revision_of is not None:
                revision = revision_of.get(cid, 0)
                if self._seen.get(cid) == revision:
                    continue
                self._seen[cid] = revision
            for sub in subs:
                if sub.board_wakes:
                    sub.wake.set()

    def competitions(self) -> list[str]:
        return list(self._subscribers)

    def __len__(self) -> int:
        return sum(len(s) for s in self._subscribers.values())
