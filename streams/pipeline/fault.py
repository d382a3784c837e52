"""Deliberate crashes, for the kill tests only: `CAMPAIGNS_FAULT="<point>:<n>"` makes the worker
SIGKILL itself the n-th time it reaches that point, so a test can land a kill inside a window a
few milliseconds wide (after the outputs were sent, midway through the state writes, before the
commit, during a re-score) instead of hoping a timer does. Unset, a point costs one comparison.

Points: "<stage>.sent", "<stage>.before_commit" (stage: validate, dedup, score),
"score.states_midway", "score.rescore".
"""

from __future__ import annotations

import os
import signal

_armed: tuple[str, int] | None = None
_seen: dict[str, int] = {}


def arm(spec: str) -> None:
    """`spec` is the worker setting `fault` ("" = never)."""
    global _armed
    if not spec:
        _armed = None
        return
    name, _, nth = spec.partition(":")
    _armed = (name, int(nth or "1"))


def point(name: str) -> None:
    if _armed is None or _armed[0] != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] == _armed[1]:
        print(f"fault: SIGKILL at {name} #{_seen[name]}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
