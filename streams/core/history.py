"""A manager's history read back for scoring: one reading for the stream and its replays.

The scoring stage (streams/pipeline/scoring.py), the month-end verification
(services/verify/replay.py) and the what-if preview read the validated topic again to rebuild a
manager's books. They must read it the same way and give up on an event for the same reasons, or
a replay would mint other entries than the stream did. Pure: the callers bring the bytes.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.envelope import Envelope
from schemas.errors import Rejection
from schemas.validate import read_canonical
from streams.core.errors import CoreError

# What scoring one event may raise for a bad event or rule: the stream parks that event as
# scoring_failed instead of crash-looping, and a replay records it as a failure the same way.
SCORING_FAILURES: tuple[type[Exception], ...] = (
    Rejection,
    CoreError,
    ValueError,
    ArithmeticError,
    RecursionError,
)


def readable_events(raw: Iterable[bytes]) -> list[Envelope]:
    """The events among a manager's validated records, in order.

    A record that does not read was parked when it was first scored, so a rebuild passes over it.
    """
    events = []
    for value in raw:
        try:
            events.append(read_canonical(value))
        except (Rejection, ValueError):
            continue
    return events
