"""Control records on the validated topic: "re-score this partition now that rules changed", and
"this award period is frozen".

A rule change must reach every participant, including those with no new events. The publisher
writes the new version to the competitions topic, then one control record to each partition of
the validated topic; the scoring agent that owns the partition re-scores its participants once it
has read that version. Control records carry a header so no event parser ever sees them; its
value says which kind: b"rescore" or b"freeze".

A freeze notice (FreezeNotice) tells each partition, at a position, that a competition's period
was frozen at `frozen_at`: from there on an event of that period that reached the platform at or
after `frozen_at` scores as late (streams/core/lateness.py). A replay meets the same notice at the
same offset, so it judges lateness the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

HEADER = "campaigns.control"
RESCORE = b"rescore"
FREEZE = b"freeze"


@dataclass(frozen=True)
class Rescore:
    competition_id: str
    version: int
    status: str

    def encode(self) -> bytes:
        body = {"competition_id": self.competition_id, "version": self.version, "status": self.status}
        return json.dumps(body).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Rescore:
        obj = json.loads(raw)
        return cls(str(obj["competition_id"]), int(obj["version"]), str(obj["status"]))


@dataclass(frozen=True)
class FreezeNotice:
    competition_id: str
    period: str
    owns_from: str | None  # ISO instants: the occurred_at range the period owns
    owns_until: str | None
    frozen_at: str

    def encode(self) -> bytes:
        body = {
            "competition_id": self.competition_id,
            "period": self.period,
            "owns_from": self.owns_from,
            "owns_until": self.owns_until,
            "frozen_at": self.frozen_at,
        }
        return json.dumps(body).encode()

    @classmethod
    def decode(cls, raw: bytes) -> FreezeNotice:
        obj = json.loads(raw)

        def text(name: str) -> str | None:
            value = obj.get(name)
            return None if value is None else str(value)

        return cls(
            str(obj["competition_id"]),
            str(obj["period"]),
            text("owns_from"),
            text("owns_until"),
            str(obj["frozen_at"]),
        )


def kind_of(headers: Iterable[tuple[str, bytes]] | None) -> bytes | None:
    """A record's control kind (RESCORE, FREEZE), or None for an event. A control header with an
    empty value is a re-score, as every control record was before freezes had their own."""
    for key, value in headers or ():
        if key == HEADER:
            return FREEZE if value == FREEZE else RESCORE
    return None


def competition_key(competition_id: str, version: int, status: str) -> bytes:
    """Every version in every status keeps its own key, so compaction keeps the whole history of
    a competition: a partition still scoring with a version's published definition can find it
    after the version was closed."""
    return f"{competition_id}:{version}:{status}".encode()
