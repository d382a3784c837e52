"""Raw messages in; canonical events keyed by event id, or dead letters with their reason."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from schemas import Limits, Rejection, parse_event
from schemas.dead_letters import DeadLetter, event_id_of
from schemas.records import CM_HEADER, EVENT_ID_HEADER, TYPE_HEADER, arrived_header
from schemas.routing import participant_of
from schemas.topics import Topics
from streams.pipeline.stage import Hold, Out, StoredWithItsBatch

log = logging.getLogger(__name__)


class ValidateStage(StoredWithItsBatch):
    name = "validate"

    def __init__(self, topics: Topics, limits: Limits) -> None:
        self.topic = topics.raw
        self._topics = topics
        self._limits = limits
        self.parked = 0
        self.holds: dict[int, Hold] = {}  # never set: every record is taken

    async def process(self, partition: int, records: list[Any]) -> list[Out]:
        now = datetime.now(UTC)
        out: list[Out] = []
        for m in records:
            raw: bytes = m.value or b""
            try:
                event = parse_event(raw, now=now, limits=self._limits)
                cm_id = participant_of(event)
            except Exception as exc:
                # A Rejection is the validator's answer; anything else (a recursion or number
                # limit of the JSON parser, say) is parked the same way, with its own reason.
                rejection = exc if isinstance(exc, Rejection) else None
                reason = str(rejection.reason) if rejection else "unprocessable"
                detail = rejection.detail if rejection else f"{type(exc).__name__}: {exc}"[:500]
                self.parked += 1
                log.warning("dead letter %s@%s/%s: %s %s", m.topic, partition, m.offset, reason, detail)
                letter = DeadLetter(
                    reason, detail, raw, m.topic, partition, m.offset, event_id=event_id_of(raw)
                )
                out.append(Out(self._topics.dead_letters, m.key, letter.value, headers=letter.headers()))
                continue
            cm = cm_id.encode()
            out.append(
                Out(
                    self._topics.accepted,
                    # Keyed by manager, like every topic after it: a manager's events keep their
                    # order end to end (the core folds balances in as_of order), and copies of
                    # one event, which name the same manager, still meet in one dedup partition.
                    cm,
                    # The canonical JSON as bytes straight from pydantic's serializer (what
                    # model_dump_json returns decoded to str).
                    event.__pydantic_serializer__.to_json(event),
                    headers=[
                        (EVENT_ID_HEADER, event.event_id.encode()),
                        (CM_HEADER, cm),
                        (TYPE_HEADER, event.type.encode()),
                        # When it reached the platform (events.raw is LogAppendTime): the only
                        # clock that decides whether an entry is late (streams/core/lateness.py).
                        *arrived_header(m.timestamp),
                    ],
                )
            )
        return out

    def committed(self, partitions: set[int]) -> None:
        """Nothing kept between batches."""

    def forget(self, partitions: set[int]) -> None:
        """Nothing kept between batches."""
