"""Deliberate crashes, for the kill tests only: `CAMPAIGNS_FAULT="<point>:<n>"` makes the worker
SIGKILL itself the n-th time it reaches that point, so a test can land a kill inside a window a
few milliseconds wide (after the outputs were sent, midway through the state writes, before the
commit, during a re-score) instead of hoping a timer does. `"<point>:<n>:raise"` raises an error
there instead, as a broker error would: the loop must abort the batch and read it again.
`"<point>:<n>:stop"` SIGSTOPs the worker there (a stalled process: a long GC pause, a frozen VM);
the test SIGCONTs it once its partitions have moved, and its producer must then be fenced.
Unset, a point costs one comparison.

Points: "<stage>.sent", "<stage>.before_commit" (stage: validate, dedup, score),
"score.states_midway", "score.rescore".
"""

from __future__ import annotations

import os
import signal

_armed: tuple[str, int, str] | None = None  # point, n-th time, mode ("kill", "raise", "stop")


class InjectedFault(RuntimeError):
    """Raised at an armed point in "raise" mode."""


_seen: dict[str, int] = {}


def arm(spec: str) -> None:
    """`spec` is the worker setting `fault` ("" = never)."""
    global _armed
    if not spec:
        _armed = None
        return
    name, _, rest = spec.partition(":")
    nth, _, mode = rest.partition(":")
    if mode not in ("", "kill", "raise", "stop"):
        raise ValueError(f"fault mode {mode!r}: kill, raise or stop")
    _armed = (name, int(nth or "1"), mode or "kill")


def point(name: str) -> None:
    if _armed is None or _armed[0] != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] == _armed[1]:
        if _armed[2] == "raise":
            print(f"fault: raising at {name} #{_seen[name]}", flush=True)
            raise InjectedFault(f"injected at {name}")
        if _armed[2] == "stop":
            print(f"fault: SIGSTOP at {name} #{_seen[name]}", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
            print(f"fault: continued after {name} #{_seen[name]}", flush=True)
            return
        print(f"fault: SIGKILL at {name} #{_seen[name]}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
