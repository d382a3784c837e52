"""What every scorer shares: the context it reads rules and org units from, and its output."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from schemas.envelope import Envelope
from streams.core.catalog import Catalog
from streams.core.org import NOWHERE, OrgTimeline, Unit
from streams.core.rules import Competition

Key = tuple[str, str | None, str | None]  # (component, sub_branch_id, team_id)


class Context:
    """Rules and org units for one competition of one participant. Built once per book and
    catalog (not per event): the org timeline it holds is the state's own, updated in place."""

    __slots__ = ("_day_ends", "_first_day", "_last_day", "catalog", "cid", "cm_id", "final", "minimum", "org")

    def __init__(self, catalog: Catalog, cid: str, org: OrgTimeline, cm_id: str = "") -> None:
        self.catalog = catalog
        self.cid = cid
        self.org = org
        self.cm_id = cm_id  # whose book: a transfer is read as leaving or arriving
        self.final: Competition = catalog.final(cid)
        self.minimum = self.final.minimum_total()
        self._day_ends: dict[date, Competition | None] = {}  # the catalog never changes under a context
        first, last = catalog.span(cid)
        self._first_day, self._last_day = first.isoformat(), last.isoformat()

    def may_score(self, iso_day: str) -> bool:
        """False when no version's window holds the day (YYYY-MM-DD): nothing anchored on it
        scores. ISO dates compare as strings, so a day bucket's name needs no parsing."""
        return self._first_day <= iso_day <= self._last_day

    def at(self, moment: datetime) -> Competition | None:
        return self.catalog.at(self.cid, moment)

    def at_day_end(self, day: date) -> Competition | None:
        ends = self._day_ends
        if day in ends:
            return ends[day]
        version = ends[day] = self.catalog.at_day_end(self.cid, day)
        return version

    def unit(self, day: date, hint: str | None = None) -> Unit:
        """The org unit on that day; the event's own sub_branch_id only if the org timeline is silent."""
        unit = self.org.unit_on(day)
        if unit.sub_branch_id is None and hint is not None:
            return Unit(hint, unit.team_id)
        return unit


@dataclass(slots=True)
class BucketValue:
    """A bucket's contribution: points per (component, unit), plus what standings need for tie-breaks."""

    values: dict[Key, Decimal] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, int] = field(default_factory=dict)
    reached_at: datetime | None = None
    extra: dict[str, Any] | None = None

    def add(self, component: str, unit: Unit, amount: Decimal, label: str) -> None:
        if not amount:
            return
        key = (component, unit.sub_branch_id, unit.team_id)
        self.values[key] = self.values.get(key, Decimal(0)) + amount
        self.labels.setdefault(component, label)

    def count(self, metric: str, n: int = 1) -> None:
        self.metrics[metric] = self.metrics.get(metric, 0) + n


@dataclass(frozen=True, slots=True)
class Touch:
    buckets: frozenset[str]
    note: tuple[str, str] | None = None  # (component, reason) describing the event's own item
    detail: tuple[str, dict[str, str]] | None = None  # (component, what the item counted: labels.py)


NO_TOUCH = Touch(frozenset())


class Scorer(ABC):
    """Keeps a compact index of what its rule needs (never whole events) and computes buckets."""

    kind: ClassVar[str]
    types: ClassVar[frozenset[str]]  # the event types it indexes

    def __init__(self, final: Competition | None = None) -> None:  # noqa: B027 - nothing shared to set
        """Built for the final version's rule (None: to load an index into)."""

    def check(self, event: Envelope, ctx: Context) -> None:  # noqa: B027 - most scorers take anything
        """Raise NeedsRebuild if the event cannot be indexed exactly; must not change anything."""

    @abstractmethod
    def observe(self, event: Envelope, ctx: Context, explain: bool = True) -> Touch:
        """Index the event; say which buckets may have changed (and, if explain, why)."""

    @abstractmethod
    def buckets(self) -> set[str]:
        """Every bucket this scorer currently has items for."""

    @abstractmethod
    def compute(self, bucket: str, ctx: Context) -> BucketValue:
        """The bucket's value from the items in it (a pure function of that set)."""

    @abstractmethod
    def dump(self) -> Any:
        """The index as compact JSON (tuples of primitives)."""

    @abstractmethod
    def load(self, raw: Any) -> None:
        """Restore the index written by dump (into a scorer built for the same rules)."""


__all__ = ["NOWHERE", "BucketValue", "Context", "Key", "Scorer", "Touch", "Unit"]
