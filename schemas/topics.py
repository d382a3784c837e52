"""Topic names: part of the wire contract shared by every door, the workers and the API."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    prefix: str = ""

    def _name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def raw(self) -> str:
        """JSON events from any Kafka client, HTTP ingest or the CLI; unvalidated."""
        return self._name("events.raw")

    @property
    def accepted(self) -> str:
        """Valid events keyed by manager: copies of an event (same manager) meet in one partition,
        and a manager's events keep their order."""
        return self._name("events.accepted")

    @property
    def validated(self) -> str:
        """Canonical, deduplicated events keyed by customer manager. A transfer is there under
        both of its managers, and the score stage adds the closings it passes back to an
        account's opener (streams/core/handovers.py)."""
        return self._name("events.validated")

    @property
    def dead_letters(self) -> str:
        """Original bytes of rejected messages; the reason travels in headers."""
        return self._name("events.deadletter")

    @property
    def duplicates(self) -> str:
        """One record per dropped duplicate: the count of duplicates, with where each came from."""
        return self._name("events.duplicates")

    @property
    def dedup_seen(self) -> str:
        """Dedup's changelog: the event ids each committed batch saw first, one record per batch
        and partition of events.accepted (same partition number), kept for the dedup window."""
        return self._name("dedup.seen")

    @property
    def competitions(self) -> str:
        return self._name("competitions")

    @property
    def org(self) -> str:
        """Who is in which unit from when: each deduplicated org.changed event, keyed
        "cm_id|unit_kind|effective_from|unit_id" so compaction keeps the whole history."""
        return self._name("org.members")

    @property
    def ledger(self) -> str:
        return self._name("score.ledger")

    @property
    def standings(self) -> str:
        return self._name("score.standings")

    @property
    def scoring_state(self) -> str:
        """Each manager's scoring state, newest per key; partition = the manager's partition."""
        return self._name("score.state")

    @property
    def layout(self) -> str:
        """Each topic's partition count as recorded on the first start, keyed by topic name; one
        partition. A worker refuses to start when a topic no longer matches (streams/layout/guard.py)."""
        return self._name("topics.layout")

    def compacted(self) -> tuple[str, ...]:
        """Topics where only the newest value per key matters (rules, org, standings, state,
        the recorded layout)."""
        return (self.competitions, self.org, self.standings, self.scoring_state, self.layout)

    def partitioned(self) -> tuple[str, ...]:
        """The topics created with the configured partition count (every one but the layout)."""
        return tuple(name for name in self.all() if name != self.layout)

    def all(self) -> tuple[str, ...]:
        return (
            self.raw,
            self.accepted,
            self.validated,
            self.dead_letters,
            self.duplicates,
            self.dedup_seen,
            self.competitions,
            self.org,
            self.ledger,
            self.standings,
            self.scoring_state,
            self.layout,
        )
