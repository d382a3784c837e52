"""The one reading of a manager's history that the stream, verify and what-if share: events in
order, records that do not read passed over."""

from __future__ import annotations

from schemas.errors import Rejection
from streams.core.errors import CoreError, NeedsRebuild
from streams.core.history import SCORING_FAILURES, readable_events
from tests.support.events import joined, opened, wire


def test_readable_events_keep_the_order_and_pass_over_what_does_not_read() -> None:
    raw = [
        wire(joined("cm-1", "sb-1")),
        b"{not json",
        wire(opened("e1", "cm-1")),
        wire({**opened("e2", "cm-1"), "type": "no.such.type"}),
        wire(opened("e3", "cm-1")),
    ]
    assert [e.event_id for e in readable_events(raw)] == ["org-cm-1", "e1", "e3"]
    assert readable_events([]) == []


def test_scoring_failures_cover_rejections_and_the_cores_own_errors() -> None:
    for error in (Rejection, CoreError, NeedsRebuild, ValueError, ArithmeticError, RecursionError):
        assert issubclass(error, SCORING_FAILURES)
    assert not issubclass(KeyboardInterrupt, SCORING_FAILURES)
