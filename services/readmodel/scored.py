"""What just scored, from the ledger topic: each manager's latest entries (the manager page's
"recent"), and one `scored` push message per entry, with the manager's name and a Chinese label.

The ledger is not compacted: the read model starts near its end (the last few hundred records of
each partition), so "recent" survives a restart, and pushes only what arrives after that.
Re-score entries (a rule change re-scoring everyone's history) are not news: they are left out.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import orjson
from pydantic import ValidationError

from schemas.errors import Rejection
from services.readmodel.board import Board
from services.readmodel.labels import LATE_NOTE, component_label
from services.readmodel.push import Hub
from services.record_json import read_record
from streams.core.ledger import LedgerEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scored:
    entry: LedgerEntry
    label: str


class RecentScores:
    def __init__(self, per_manager: int = 20) -> None:
        self._per_manager = per_manager
        self._by_cm: dict[str, deque[Scored]] = {}
        self.invalid = 0

    def take(self, value: bytes | None, board: Board, hub: Hub | None) -> Scored | None:
        """One ledger record; pushed to `hub` when given (live), else only remembered."""
        if value is None:
            return None
        try:
            entry = LedgerEntry.from_dict(read_record(value))
        except (Rejection, ValidationError, TypeError) as exc:
            self.invalid += 1
            log.error("readmodel: ignoring unreadable ledger entry: %s", f"{exc}"[:300])
            return None
        if entry.correction is not None or entry.event_id.startswith("rescore:"):
            return None  # a re-score's corrections are not news (older ones carry no `correction`)
        scored = Scored(entry, component_label(entry.component, entry.reason, entry.label))
        held = self._by_cm.get(entry.cm_id)
        if held is None:
            held = self._by_cm[entry.cm_id] = deque(maxlen=self._per_manager)
        held.append(scored)
        if hub is not None:
            full, private = encoded(scored, board)
            hub.publish("scored", entry.competition_id, entry.sub_branch_id, full, private)
        return scored

    def of(self, cm_id: str) -> list[Scored]:
        """The manager's latest entries, newest first."""
        return list(reversed(self._by_cm.get(cm_id, ())))


def encoded(scored: Scored, board: Board) -> tuple[bytes, bytes]:
    """The `scored` message as JSON, and its privacy-mode form (no reason: it may name accounts,
    agreements or amounts). The full form is the private one with three fields more: the
    fields they share are encoded once (this runs for every entry the ledger brings)."""
    e = scored.entry
    names = board.unit_names()
    private = orjson.dumps(
        {
            "event_id": e.event_id,
            "competition_id": e.competition_id,
            "cm_id": e.cm_id,
            "name": board.org.name(e.cm_id) or e.cm_id,
            "sub_branch_id": e.sub_branch_id,
            "sub_branch_name": names.get(e.sub_branch_id, e.sub_branch_id) if e.sub_branch_id else None,
            "team_id": e.team_id,
            "team_name": names.get(e.team_id, e.team_id) if e.team_id else None,
            "component": e.component,
            "label": scored.label,
            "points": str(e.points),
            "occurred_at": e.occurred_at.isoformat(),
        }
    )
    more = orjson.dumps({"reason": e.reason, "late": e.late, "late_note": LATE_NOTE if e.late else None})
    return private[:-1] + b"," + more[1:], private
