"""What the HTTP door does with a body: validate each record with the shared contract code,
publish the good ones, dead-letter the bad ones, and say per record what happened."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from schemas import Limits, Rejection, RejectReason, parse_event
from schemas.dead_letters import DeadLetter, event_id_of
from schemas.routing import participant_of
from services.publisher import Publisher

HTTP_SOURCE = "http"
# Types only the console sends (audited there, by an organiser): a source key must not forge them.
CONSOLE_ONLY = {
    "points.adjusted": "points.adjusted is made in the console (POST /api/console/adjustments), not sent",
}


@dataclass(frozen=True)
class RecordResult:
    line: int
    status: str  # accepted | rejected | duplicate
    event_id: str | None = None
    reason: str | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None}


async def take(lines: list[tuple[int, bytes]], publisher: Publisher, limits: Limits) -> list[RecordResult]:
    now = datetime.now(UTC)
    results: list[RecordResult] = []
    good: list[tuple[str, bytes]] = []
    letters: list[DeadLetter] = []
    taken: set[str] = set()
    for line_no, raw in lines:
        try:
            event = parse_event(raw, now=now, limits=limits)
            if event.type in CONSOLE_ONLY:
                raise Rejection(RejectReason.INVALID_VALUE, CONSOLE_ONLY[event.type])
        except Rejection as rejection:
            reason = str(rejection.reason)
            event_id = event_id_of(raw)  # explain finds the dead letter by it
            # A bounded copy travels (at most the message limit), with the original's size and digest.
            letters.append(
                DeadLetter(
                    reason,
                    rejection.detail,
                    raw,
                    HTTP_SOURCE,
                    -1,
                    line_no,
                    keep=limits.max_bytes,
                    event_id=event_id,
                )
            )
            results.append(
                RecordResult(line_no, "rejected", event_id=event_id, reason=reason, detail=rejection.detail)
            )
            continue
        if event.event_id in taken:
            # The stream would drop the copy anyway (events.duplicates): say so now, send it once.
            results.append(RecordResult(line_no, "duplicate", event_id=event.event_id))
            continue
        taken.add(event.event_id)
        # The raw bytes go on, not our re-serialisation: the stream validates what the client sent.
        good.append((participant_of(event), raw))
        results.append(RecordResult(line_no, "accepted", event_id=event.event_id))
    await publisher.dead_letters(letters)
    await publisher.raw(good)
    return results


def split_ndjson(body: bytes) -> list[tuple[int, bytes]]:
    """Numbered non-blank lines of an NDJSON body (1-based, counting blank lines too)."""
    return [(n, line) for n, line in enumerate(body.split(b"\n"), start=1) if line.strip()]
