"""One partition of the validated topic scored: the decision the score stage and verify share.

The score stage (streams/pipeline/scoring.py) and the month-end verification
(services/verify/replay.py) must mint the same ledger, record for record. Both hand their records
to a `PartitionScorer`, which holds the partition's states, the rule versions it scores with
(pinned) and their catalog. It reads the two things it does not hold through small ports: a
manager's earlier records (`History`: Kafka in the stream, memory in verify) and a competition
version's definition (`Definitions`: the rules feed, or the versions verify read). Time comes in
as an argument too (`Clock`): both pass `arrival_time`, when the record reached the platform, so
the stream and verify judge `late` by the same rule (streams/core/lateness.py).

Per record:
- an event goes through `apply`; on NeedsRebuild the manager is scored again from their history,
  this event included (`rebuild` with it as cause);
- a closing that the event completes for an account's opener (streams/core/handovers.py) comes
  out as `passed`: the stream writes it to the opener's history in the same transaction; verify
  finds it there already;
- a run of re-score control records (several competitions published together) pins the versions
  it names at its position and rebuilds the changed competitions' books from the history before
  it, one manager at a time (a partition's history need not fit in memory). The grouping does not
  change the result: each competition's books are rebuilt from the same events either way.
- a freeze control record adds an award period to the partition's freezes (kept with the pinned
  rules): from there on, an entry of that period whose event reached the platform at or after the
  freeze is late.
A control record naming a version the definitions cannot give yet stops the partition there:
nothing at or after the run is taken, and the outcome says what it waits for. It is never skipped,
or a partition would score on with old rules for good.

A rebuild is long pure work (a year of one manager's events). It goes through `Offload`: verify
runs it in place; the stream runs it off its event loop, where the consumer groups' heartbeats
must go on meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from schemas.control import FREEZE, FreezeNotice, Rescore, kind_of
from schemas.envelope import Envelope
from schemas.events import AccountClosed
from schemas.records import ARRIVED_HEADER, arrived_at_ms
from schemas.validate import read_canonical
from streams.core.catalog import Catalog
from streams.core.engine import apply, handovers, rebuild, standings
from streams.core.errors import NeedsRebuild
from streams.core.history import SCORING_FAILURES, readable_events
from streams.core.lateness import Arrival, Freezes, FrozenPeriod
from streams.core.ledger import LedgerEntry
from streams.core.rules import Competition
from streams.core.state import ParticipantState

Pinned = dict[str, str]  # "competition_id:version" -> status, as stored with the states ("@rules")


@dataclass(frozen=True, slots=True)
class Record:
    """One record of the validated topic, as much of it as scoring reads."""

    partition: int
    offset: int
    key: bytes | None  # the manager (cm_id); None on control records
    value: bytes | None
    control: bool  # a control record (schemas/control.py), not an event
    timestamp: datetime | None = None  # when the broker took it
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def freeze(self) -> bool:
        return self.control and kind_of(self.headers) == FREEZE


Clock = Callable[[Record], datetime | None]  # when a record reached the platform (judges `late`)


def arrival_time(record: Record) -> datetime | None:
    """The clock of the stream and of verify alike: an event's arrived_at header (the raw topic's
    append time, schemas/records.py); for a control record, its own timestamp (a re-score's
    corrections reach the platform with the rule change). None: unknown, never late."""
    if record.control:
        return record.timestamp
    ms = arrived_at_ms(record.headers)
    return datetime.fromtimestamp(ms / 1000, UTC) if ms is not None and ms > 0 else None


class History(Protocol):
    """The partition's event records before an offset (control records left out), as bytes,
    one manager at a time: a re-score walks the managers and never asks for the whole partition."""

    async def manager(self, cm_id: str, before: int) -> list[bytes]:
        """One manager's, in offset order."""
        ...

    async def managers(self, before: int) -> list[str]:
        """Every manager with an event record before the offset."""
        ...


_T = TypeVar("_T")


class Offload(Protocol):
    """Runs a piece of pure work and gives its result: in place, or in a thread."""

    def __call__(self, work: Callable[[], _T], /) -> Awaitable[_T]: ...


async def in_place(work: Callable[[], _T], /) -> _T:
    return work()


class Definitions(Protocol):
    def definition(self, competition_id: str, version: int, status: str) -> Competition | None:
        """The version's definition in that status, or None while it is not known (yet)."""
        ...


@dataclass(frozen=True)
class Waiting:
    """The partition stopped at `offset`: it needs this version before it can go on."""

    offset: int
    competition_id: str
    version: int
    status: str

    def __str__(self) -> str:
        return f"waiting for competition {self.competition_id} version {self.version} ({self.status})"


@dataclass(frozen=True)
class Failure:
    """A record that cannot be scored: the stream parks it (scoring_failed), verify lists it."""

    record: Record
    reason: str


@dataclass(frozen=True)
class Rescored:
    competitions: frozenset[str]
    events: int  # history events read back


@dataclass(frozen=True)
class Passed:
    """A closing owed to the opener's history (streams/core/handovers.py), with the arrival header
    of the record that completed it: the copy reached the platform with it."""

    event: AccountClosed
    headers: tuple[tuple[str, bytes], ...]


@dataclass
class Outcome:
    consumed: int = 0  # records taken from the front of those fed; fewer than all when waiting
    entries: list[LedgerEntry] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    dirty: set[str] = field(default_factory=set)  # managers whose state changed
    rules_changed: bool = False  # `pinned` or `freezes` changed: store them with the states
    rescored: list[Rescored] = field(default_factory=list)
    waiting: Waiting | None = None
    passed: list[Passed] = field(default_factory=list)


@dataclass
class Snapshot:
    """What changed managers look like now: each standing that differs from the last one
    reported (as its wire dict), and their states."""

    standings: list[dict[str, Any]]
    states: list[ParticipantState]


class PartitionScorer:
    def __init__(
        self,
        history: History,
        definitions: Definitions,
        *,
        states: dict[str, ParticipantState] | None = None,
        pinned: Pinned | None = None,
        freezes: Freezes | None = None,
        only: set[str] | None = None,
        offload: Offload = in_place,
    ) -> None:
        """`states`/`pinned`: as stored after the last committed record. `only`: score these
        competitions alone (verify of some); books are independent per competition, so the
        others' rules need not be loaded. `offload`: where rebuilds run (the module's docstring)."""
        self.states = states if states is not None else {}
        self.pinned = pinned if pinned is not None else {}
        self.freezes = freezes if freezes is not None else Freezes()
        self._history = history
        self._definitions = definitions
        self._only = only
        self._offload = offload
        self._catalog: Catalog | None = None  # built from `pinned` when first needed
        self._reported: dict[tuple[str, str], dict[str, Any]] = {}  # (competition, cm) -> standing

    async def feed(self, records: Sequence[Record], clock: Clock) -> Outcome:
        """The next records, in offset order. Stops at a control run it must wait on."""
        out = Outcome()
        if not records:
            return out
        if self._catalog is None:
            missing = self._missing(self.pinned)
            if missing is not None:
                out.waiting = _waiting(records[0].offset, missing)
                return out
            self._catalog = self._build_catalog()
        i, n = 0, len(records)
        while i < n:
            record = records[i]
            if not record.control:
                if record.value is not None:  # nothing to score in an empty record
                    await self._event(record, clock(record), out)
                i += 1
                continue
            if record.freeze:
                self._freeze(record, out)
                i += 1
                continue
            j = i + 1
            while j < n and records[j].control and not records[j].freeze:
                j += 1
            if not await self._controls(records[i:j], clock(records[j - 1]), out):
                break
            i = j
        out.consumed = i
        return out

    def snapshot(self, dirty: set[str]) -> Snapshot:
        """The changed managers' standings (only those that changed since last reported) and states."""
        changed: list[dict[str, Any]] = []
        states: list[ParticipantState] = []
        for cm_id in sorted(dirty):
            state = self.states[cm_id]
            for standing in standings(state):
                value = standing.to_dict()
                key = (standing.competition_id, cm_id)
                if self._reported.get(key) != value:
                    self._reported[key] = value
                    changed.append(value)
            states.append(state)
        return Snapshot(changed, states)

    # -- one event ------------------------------------------------------------------------------

    async def _event(self, record: Record, now: datetime | None, out: Outcome) -> None:
        assert record.value is not None and self._catalog is not None
        cm_id = (record.key or b"").decode()
        state = self.states.get(cm_id)
        if state is None:
            state = self.states[cm_id] = ParticipantState(cm_id)
        try:
            event = read_canonical(record.value)
            try:
                arrival = Arrival(now, self.freezes)
                entries = apply(state, event, self._catalog, arrival=arrival)
            except NeedsRebuild:
                # A correction older than what the state keeps in detail: score the manager again
                # from their history, this event included (apply changed nothing). Errors reading
                # the history are not scoring failures: they reach the caller.
                raw = await self._history.manager(cm_id, record.offset)
                work = partial(_rebuilt, cm_id, raw, self._catalog, state, cause=event, arrival=arrival)
                rebuilt: Rebuilt = await self._offload(work)
                state = self.states[cm_id] = rebuilt[0]
                entries = rebuilt[1]
        except SCORING_FAILURES as exc:
            # Cannot happen for an event the validator passed; if it does, park it, don't stop.
            out.failures.append(Failure(record, str(exc)))
            return
        out.dirty.add(cm_id)
        out.entries += entries
        arrived = tuple((k, v) for k, v in record.headers if k == ARRIVED_HEADER)
        out.passed += [Passed(copy, arrived) for copy in handovers(state, event)]

    # -- a rule change --------------------------------------------------------------------------

    async def _controls(self, run: Sequence[Record], now: datetime | None, out: Outcome) -> bool:
        """Pin what the run names and re-score; False (nothing changed) when it must wait."""
        orders: list[Rescore] = []
        bad: list[Failure] = []
        for record in run:
            try:
                orders.append(Rescore.decode(record.value or b""))
            except (ValueError, KeyError, TypeError) as exc:
                bad.append(Failure(record, f"control: {exc}"))
        new = [o for o in orders if self.pinned.get(_name(o.competition_id, o.version)) != o.status]
        pinned = {**self.pinned, **{_name(o.competition_id, o.version): o.status for o in new}}
        missing = self._missing(pinned)
        if missing is not None:
            # The whole run waits, so it is taken whole once the version is readable.
            out.waiting = _waiting(run[0].offset, missing)
            return False
        out.failures += bad
        changed = {o.competition_id for o in new if self._only is None or o.competition_id in self._only}
        if new:
            self.pinned = pinned
            out.rules_changed = True
        if not changed:
            return True
        self._catalog = catalog = self._build_catalog()
        # One manager at a time: the peak is one manager's history, not the partition's.
        before = run[0].offset
        arrival = Arrival(now, self.freezes)
        count = 0
        for cm_id in sorted(set(await self._history.managers(before)) | self.states.keys()):
            raw = await self._history.manager(cm_id, before)
            previous = self.states.get(cm_id)
            work = partial(_rebuilt, cm_id, raw, catalog, previous, only=changed, arrival=arrival)
            rebuilt: Rebuilt = await self._offload(work)
            self.states[cm_id], entries, read = rebuilt
            out.dirty.add(cm_id)
            out.entries += entries
            count += read
        out.rescored.append(Rescored(frozenset(changed), count))
        return True

    # -- a period frozen ----------------------------------------------------------------------

    def _freeze(self, record: Record, out: Outcome) -> None:
        """From here on, entries of this period whose event arrived at or after the freeze are late."""
        try:
            notice = FreezeNotice.decode(record.value or b"")
            frozen = FrozenPeriod.from_dict(asdict(notice))
        except (ValueError, KeyError, TypeError) as exc:
            out.failures.append(Failure(record, f"freeze: {exc}"))
            return
        if self.freezes.add(notice.competition_id, frozen):
            out.rules_changed = True  # a repeated notice changes nothing: the first time stands

    # -- the rules in force -----------------------------------------------------------------------

    def _chosen(self, pinned: Pinned) -> list[tuple[str, int, str]]:
        chosen = []
        for name, status in sorted(pinned.items()):
            cid, version = name.rsplit(":", 1)
            if self._only is None or cid in self._only:
                chosen.append((cid, int(version), status))
        return chosen

    def _missing(self, pinned: Pinned) -> tuple[str, int, str] | None:
        """The first version these pins name that the definitions cannot give (None: all there)."""
        for cid, version, status in self._chosen(pinned):
            if self._definitions.definition(cid, version, status) is None:
                return (cid, version, status)
        return None

    def _build_catalog(self) -> Catalog:
        comps = []
        for cid, version, status in self._chosen(self.pinned):
            comp = self._definitions.definition(cid, version, status)
            assert comp is not None  # _missing was asked just before, with no wait in between
            comps.append(comp)
        return Catalog(comps)


Rebuilt = tuple[ParticipantState, list[LedgerEntry], int]  # the state, its entries, events read


def _rebuilt(
    cm_id: str,
    raw: list[bytes],
    catalog: Catalog,
    previous: ParticipantState | None,
    *,
    only: set[str] | None = None,
    cause: Envelope | None = None,
    arrival: Arrival | None = None,
) -> Rebuilt:
    """`rebuild` from the manager's records as bytes (parsed here, so an offloaded rebuild parses
    off the loop too); also how many history events it read."""
    history = readable_events(raw)
    state, entries = rebuild(cm_id, history, catalog, previous, only=only, cause=cause, arrival=arrival)
    return state, entries, len(history)


def _name(competition_id: str, version: int) -> str:
    return f"{competition_id}:{version}"


def _waiting(offset: int, missing: tuple[str, int, str]) -> Waiting:
    return Waiting(offset, *missing)
