"""Control records on the validated topic: "re-score this partition now that rules changed".

A rule change must reach every participant, including those with no new events. The publisher
writes the new version to the competitions topic, then one control record to each partition of
the validated topic; the scoring agent that owns the partition re-scores its participants once it
has read that version. Control records carry a header so no event parser ever sees them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

HEADER = "campaigns.control"


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


def competition_key(competition_id: str, version: int, status: str) -> bytes:
    """Every version in every status keeps its own key, so compaction keeps the whole history of
    a competition: a partition still scoring with a version's published definition can find it
    after the version was closed."""
    return f"{competition_id}:{version}:{status}".encode()
