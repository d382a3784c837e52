"""Which version of a competition scores what.

- An item (an opening, a sale, a visit, a paid agreement) is scored by the latest version in force
  when it occurred: the newest published version with effective_from <= occurred_at.
- Day-level settings (daily cap, multipliers) come from the version in force at the end of that day.
- Whole-window figures (deposit growth, scorecards, contest caps, minimum total) come from the
  *final* version: the one in force at the end of the window.
Drafts are ignored unless the catalog is built for a what-if preview.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable
from datetime import date, datetime

from streams.core.calendar import end_of
from streams.core.errors import CoreError
from streams.core.rules import Competition


class Catalog:
    def __init__(self, competitions: Iterable[Competition], *, preview: bool = False) -> None:
        grouped: dict[str, dict[int, Competition]] = {}
        for comp in competitions:
            if comp.status == "draft" and not preview:
                continue
            known = grouped.setdefault(comp.id, {})
            if comp.version in known and known[comp.version] != comp:
                raise CoreError(
                    f"competition {comp.id} has two different definitions of version {comp.version}"
                )
            known[comp.version] = comp
        self._versions = {cid: sorted(v.values(), key=Competition.key) for cid, v in sorted(grouped.items())}
        self._ids = tuple(self._versions)
        self._starts = {cid: [c.effective_from for c in vs] for cid, vs in self._versions.items()}
        self._final = {cid: self._final_of(cid) for cid in self._versions}
        self._spans = {
            cid: (min(c.window.start for c in vs), max(c.window.end for c in vs))
            for cid, vs in self._versions.items()
        }
        self._fingerprints = {
            cid: hashlib.sha256("\n".join(c.model_dump_json() for c in vs).encode()).hexdigest()[:16]
            for cid, vs in self._versions.items()
        }

    def _final_of(self, cid: str) -> Competition:
        newest = self._versions[cid][-1]
        return self.at(cid, end_of(newest.window.end)) or newest

    @property
    def ids(self) -> tuple[str, ...]:
        return self._ids

    def at(self, cid: str, moment: datetime) -> Competition | None:
        """The version in force at this instant, or None before the first one."""
        i = bisect_right(self._starts[cid], moment)
        return self._versions[cid][i - 1] if i else None

    def at_day_end(self, cid: str, day: date) -> Competition | None:
        return self.at(cid, end_of(day))

    def span(self, cid: str) -> tuple[date, date]:
        """The first and last day any version's window holds: no item anchored outside scores."""
        return self._spans[cid]

    def final(self, cid: str) -> Competition:
        return self._final[cid]

    def versions(self, cid: str) -> list[Competition]:
        return list(self._versions[cid])

    def fingerprint(self, cid: str) -> str:
        """Changes whenever a version of this competition is published, closed or edited."""
        return self._fingerprints[cid]


def as_catalog(competitions: Catalog | Iterable[Competition]) -> Catalog:
    return competitions if isinstance(competitions, Catalog) else Catalog(competitions)
