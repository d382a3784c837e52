"""One competition's ledger in memory, cut at checkpoints: plain data, no I/O.

A checkpoint is an instant on the step grid (each Shanghai midnight and every `step` after it); it
holds, per key (manager, sub-branch, team), the points of the entries before it and the event time
of the latest of them. A span holds the entries from its checkpoint to the next one, in event-time
order. The totals at T are the checkpoint at or before T plus the span's entries up to T: at most
a step's worth of entries, whatever the length of the history.

Spans are contiguous and made only where entries are: the last span is cut at the grid point of
the first entry a whole step past its start, so a quiet week costs no checkpoint, and a middle span
that a back-dated entry reaches into a gap simply holds one more entry.

An entry that arrives after its span was built (late, back-dated, a re-score's correction dated at
its item) is inserted into its span in order and added into every later checkpoint: checkpoints
are patched, never stale, and never rebuilt for one entry.

Memory: machine-int arrays, no Python object per key or entry (so the garbage collector never
walks them): 16 bytes per key per checkpoint and 20 bytes per entry. At most `keep` spans are held;
the oldest go first, after which instants before the first held span are `None` here (the caller
answers them from the database).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable

Key = tuple[str, str | None, str | None]  # (cm_id, sub_branch_id, team_id)
ABSENT = -(1 << 62)  # `reached` of a key with no entry yet (event times are micros since 1970)
# The grid's origin: 1970-01-01 00:00 in Shanghai (UTC+8 all year, no daylight saving).
ORIGIN_US = -8 * 3600 * 1_000_000


class Keys:
    """Each (manager, sub-branch, team) seen, numbered in order of arrival, and its manager."""

    def __init__(self) -> None:
        self.keys: list[Key] = []
        self.index: dict[Key, int] = {}
        self.cms: list[str] = []
        self.cm_index: dict[str, int] = {}
        self.cm_of: array[int] = array("i")
        self.of_cm: list[list[int]] = []
        self._by_id: tuple[array[int], array[int]] | None = None

    def add(self, key: Key) -> int:
        found = self.index.get(key)
        if found is not None:
            return found
        k = self.index[key] = len(self.keys)
        self.keys.append(key)
        cm = self.cm_index.get(key[0])
        if cm is None:
            cm = self.cm_index[key[0]] = len(self.cms)
            self.cms.append(key[0])
            self.of_cm.append([])
            self._by_id = None
        self.cm_of.append(cm)
        self.of_cm[cm].append(k)
        return k

    @property
    def one_per_cm(self) -> bool:
        """Every manager earned in one unit only: key k is manager k (both numbered as they came)."""
        return len(self.keys) == len(self.cms)

    def id_order(self) -> tuple[array[int], array[int]]:
        """(place of each manager in id order, the manager at each place): the ranking's last key."""
        if self._by_id is None:
            order = sorted(range(len(self.cms)), key=self.cms.__getitem__)
            place = array("q", bytes(8 * len(order)))
            for i, cm in enumerate(order):
                place[cm] = i
            self._by_id = (place, array("i", order))
        return self._by_id


class Span:
    __slots__ = ("keys", "order", "points", "reached", "start", "sums", "times")

    def __init__(self, start: int, sums: array[int], reached: array[int]) -> None:
        self.start = start
        self.sums, self.reached = sums, reached  # the checkpoint: entries before `start`
        # The manager board at the checkpoint, best first (manager numbers), made when first asked
        # and dropped when the checkpoint changes; never changed in place (questions share it).
        self.order: array[int] | None = None
        self.times: array[int] = array("q")  # entries from `start` on, by event time
        self.keys: array[int] = array("i")
        self.points: array[int] = array("q")

    def add_before(self, k: int, points: int, at: int) -> None:
        """An entry earlier than this checkpoint: into its figures."""
        if k >= len(self.sums):
            _pad(self.sums, self.reached, k + 1)
        self.order = None
        self.sums[k] += points
        if at > self.reached[k]:
            self.reached[k] = at

    def past(self, count: int) -> tuple[array[int], array[int]]:
        """The figures after this span's first `count` entries (its checkpoint plus them), per key
        of the `count`-long key numbering."""
        sums, reached = array("q", self.sums), array("q", self.reached)
        _pad(sums, reached, count)
        if self.times:
            # In time order, so each entry's time is its key's latest so far.
            for k, p, at in zip(self.keys, self.points, self.times, strict=True):
                sums[k] += p
                reached[k] = at
        return sums, reached


def _pad(sums: array[int], reached: array[int], length: int) -> None:
    missing = length - len(sums)
    if missing > 0:
        sums.extend(array("q", bytes(8 * missing)))
        reached.extend(array("q", [ABSENT]) * missing)


class Timeline:
    def __init__(self, step_us: int, keep: int) -> None:
        if step_us <= 0 or 86_400_000_000 % step_us:
            raise ValueError("the step must divide a day")
        self.step = step_us
        self.keep = max(2, keep)
        self.keys = Keys()
        self.starts: list[int] = []
        self.spans: list[Span] = []
        self.dropped = False  # spans before the first held one were let go (memory bound)

    def grid(self, at: int) -> int:
        return ORIGIN_US + (at - ORIGIN_US) // self.step * self.step

    def entries(self) -> int:
        return sum(len(s.times) for s in self.spans)

    def add_all(self, entries: Iterable[tuple[int, str, str | None, str | None, int]]) -> None:
        """Entries (event micros, cm, sub-branch, team, cents) in event-time order, none before the
        held ones: how a timeline is built from the ledger in one read."""
        add = self.keys.add
        for at, cm, sub_branch, team, points in entries:
            self.append(at, add((cm, sub_branch, team)), points)

    def append(self, at: int, k: int, points: int) -> None:
        """An entry at or after every held entry."""
        if not self.spans:
            self._open(self.grid(at), array("q"), array("q"))
        last = self.spans[-1]
        if at >= last.start + self.step:
            sums, reached = last.past(len(self.keys.keys))
            last = self._open(self.grid(at), sums, reached)
        last.times.append(at)
        last.keys.append(k)
        last.points.append(points)

    def insert(self, at: int, key: Key, points: int) -> None:
        """An entry that arrived after the spans were built, wherever its event time falls."""
        k = self.keys.add(key)
        i = bisect_right(self.starts, at) - 1
        if i >= 0 and i == len(self.spans) - 1 and (not self.spans[i].times or at >= self.spans[i].times[-1]):
            self.append(at, k, points)
            return
        if i < 0 and not self.dropped:
            # Earlier than anything held: a new first span, empty before it.
            self.starts.insert(0, self.grid(at))
            self.spans.insert(0, Span(self.starts[0], array("q"), array("q")))
            i = 0
        if i >= 0:
            span = self.spans[i]
            j = bisect_right(span.times, at)
            span.times.insert(j, at)
            span.keys.insert(j, k)
            span.points.insert(j, points)
        for later in self.spans[i + 1 :]:
            later.add_before(k, points, at)

    def locate(self, at: int) -> tuple[Span, int] | None:
        """The span `at` falls in and how many of its entries are at or before it; None before
        the first span."""
        i = bisect_right(self.starts, at) - 1
        if i < 0:
            return None
        span = self.spans[i]
        return span, bisect_right(span.times, at)

    def totals(self, at: int) -> tuple[array[int], array[int]] | None:
        """(points, latest event time) per key from the entries at or before `at`; a key with
        none has `reached` ABSENT. None: before the first held span, once older ones were let go."""
        count = len(self.keys.keys)
        located = self.locate(at)
        if located is None:
            if self.dropped:
                return None
            return array("q", bytes(8 * count)), array("q", [ABSENT]) * count
        span, upto = located
        sums, reached = array("q", span.sums), array("q", span.reached)
        _pad(sums, reached, count)
        for k, p, t in zip(span.keys[:upto], span.points[:upto], span.times[:upto], strict=True):
            sums[k] += p
            reached[k] = t
        return sums, reached

    def _open(self, start: int, sums: array[int], reached: array[int]) -> Span:
        span = Span(start, sums, reached)
        self.starts.append(start)
        self.spans.append(span)
        if len(self.spans) > self.keep:
            del self.starts[0], self.spans[0]
            self.dropped = True
        return span
