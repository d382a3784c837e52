"""The robot's rate limit as a sliding window over the times of our POSTs. No I/O, no clock of
its own: every call takes `now` (seconds), so tests step time by hand.

Counted are attempts, not successes: a POST that timed out may still have reached the robot. A
restarted notifier seeds the window with the attempts its outbox recorded in the last minute.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable


class SlidingWindow:
    def __init__(self, limit: int = 20, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def seed(self, times: Iterable[float]) -> None:
        for at in sorted(times):
            self._times.append(at)

    def _expire(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()

    def wait(self, now: float) -> float:
        """Seconds until one more POST keeps every window of `window` seconds within `limit`."""
        self._expire(now)
        if len(self._times) < self.limit:
            return 0.0
        return self._times[len(self._times) - self.limit] + self.window - now

    def take(self, now: float) -> None:
        """Count a POST made at `now` (call only when wait(now) is 0)."""
        if self.wait(now) > 0:
            raise RuntimeError("rate limit: no POST may be made now")
        self._times.append(now)
