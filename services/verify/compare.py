"""What the ledger should hold against what SQL holds: every difference, per entry and per total.

Pure: rows in, a report out. An SQL row is matched to the expected entry by `entry_id`; a row
whose fields no longer hash to its own id was edited in place, and shows as different. A missing
and an extra entry for the same event, component and unit (only the rule version differs) are
paired into one difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from services.verify.replay import Expected, Failure, TotalKey
from streams.core.ledger import LedgerEntry, entry_id

ZERO = Decimal("0.00")
# `late` too: it decides which month pays an entry, and the stream and the replay judge it from
# the same arrival header and freeze records (streams/core/lateness.py).
COMPARED = (
    "event_id",
    "competition_id",
    "rule_version",
    "cm_id",
    "sub_branch_id",
    "team_id",
    "component",
    "late",
)


@dataclass(frozen=True)
class EntryDifference:
    kind: str  # missing_in_sql | extra_in_sql | different
    entry_id: str
    competition_id: str
    event_id: str
    cm_id: str
    component: str
    sub_branch_id: str | None
    team_id: str | None
    expected_points: Decimal | None
    sql_points: Decimal | None
    expected_rule_version: int | None
    sql_rule_version: int | None
    fields: tuple[str, ...] = ()  # for "different": which fields differ
    sql_entry_id: str | None = None  # the SQL row's id (another than entry_id when paired by event)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["fields"] = list(self.fields)
        for name in ("expected_points", "sql_points"):
            out[name] = None if out[name] is None else str(out[name])
        return out


@dataclass(frozen=True)
class TotalDifference:
    competition_id: str
    cm_id: str
    component: str
    sub_branch_id: str | None
    team_id: str | None
    expected: Decimal
    sql: Decimal

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["expected"], out["sql"] = str(self.expected), str(self.sql)
        return out


@dataclass
class Report:
    competition_ids: list[str]
    period: str | None
    events: int = 0
    controls: int = 0
    expected_entries: int = 0
    sql_entries: int = 0
    totals_compared: int = 0
    entries: list[EntryDifference] = field(default_factory=list)
    totals: list[TotalDifference] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    waiting: list[Failure] = field(default_factory=list)  # partitions stopped at an unknown version
    seconds: float = 0.0
    cut: dict[int, int] = field(default_factory=dict)  # validated partition -> offset replayed up to
    after_cut: int = 0  # SQL entries left out: caused by records after the cut (services/verify/cut.py)

    @property
    def ok(self) -> bool:
        return not self.entries and not self.totals

    def to_dict(self) -> dict[str, Any]:
        return {
            "competition_ids": self.competition_ids,
            "period": self.period,
            "ok": self.ok,
            "events": self.events,
            "controls": self.controls,
            "expected_entries": self.expected_entries,
            "sql_entries": self.sql_entries,
            "totals_compared": self.totals_compared,
            "entry_differences": [d.to_dict() for d in self.entries],
            "total_differences": [d.to_dict() for d in self.totals],
            "scoring_failures": [asdict(f) for f in self.failures],
            "waiting": [asdict(f) for f in self.waiting],
            "cut": {str(p): offset for p, offset in sorted(self.cut.items())},
            "after_cut": self.after_cut,
            "seconds": round(self.seconds, 3),
        }


def _own_id(row: Mapping[str, Any]) -> str:
    return entry_id(
        row["competition_id"],
        int(row["rule_version"]),
        row["event_id"],
        row["component"],
        row["cm_id"],
        row["sub_branch_id"],
        row["team_id"],
        row.get("correction"),
    )


def _difference(kind: str, expected: LedgerEntry | None, row: Mapping[str, Any] | None) -> EntryDifference:
    base: Any = expected if expected is not None else None
    src: Mapping[str, Any] = asdict(base) if base is not None else dict(row or {})
    fields: tuple[str, ...] = ()
    if expected is not None and row is not None:
        fields = tuple(n for n in COMPARED if getattr(expected, n) != _field(row, n))
        fields += ("points",) if expected.points != row["points"] else ()
    return EntryDifference(
        kind=kind,
        entry_id=str(src["entry_id"]),
        competition_id=str(src["competition_id"]),
        event_id=str(src["event_id"]),
        cm_id=str(src["cm_id"]),
        component=str(src["component"]),
        sub_branch_id=src["sub_branch_id"],
        team_id=src["team_id"],
        expected_points=expected.points if expected is not None else None,
        sql_points=row["points"] if row is not None else None,
        expected_rule_version=expected.rule_version if expected is not None else None,
        sql_rule_version=int(row["rule_version"]) if row is not None else None,
        fields=fields,
        sql_entry_id=str(row["entry_id"]) if row is not None else None,
    )


def _field(row: Mapping[str, Any], name: str) -> Any:
    return bool(row.get(name)) if name == "late" else row[name]


def _slot(kind_of: Any) -> tuple[str, str, str, str, str | None, str | None]:
    return (
        kind_of["competition_id"],
        kind_of["event_id"],
        kind_of["cm_id"],
        kind_of["component"],
        kind_of["sub_branch_id"],
        kind_of["team_id"],
    )


def caused_after_cut(
    row: Mapping[str, Any], revisions: Mapping[tuple[str, str], int], later_events: set[str]
) -> bool:
    """Did a record after verify's cut cause this SQL entry (services/verify/cut.py)? A re-score's
    entry: its book's re-score revision is higher than at the cut (or the book is younger); an
    event's entry: its event is one of those after the cut."""
    correction = row.get("correction")
    if correction:
        _, _, revision = str(correction).rpartition(":")[0].rpartition(":")
        at_cut = revisions.get((row["competition_id"], row["cm_id"]))
        return revision.isdigit() and (at_cut is None or int(revision) > at_cut)
    return row["event_id"] in later_events


Outside = Callable[[Mapping[str, Any]], bool]


def _total_key(row: Mapping[str, Any]) -> TotalKey:
    return (row["competition_id"], row["cm_id"], row["component"], row["sub_branch_id"], row["team_id"])


def compare(
    expected: Mapping[str, LedgerEntry],
    expected_totals: Mapping[TotalKey, Decimal],
    rows: Iterable[Mapping[str, Any]],
    report: Report,
    outside: Callable[[], Outside] | None = None,
) -> Report:
    """Fill `report` with every difference between the expected entries/totals and the SQL rows.

    `outside`: called once every row has been read, it answers which of the rows not expected
    are outside the comparison (caused after verify's cut); those count nowhere."""
    seen: set[str] = set()
    sql_totals: dict[TotalKey, Decimal] = {}
    unexpected: list[Mapping[str, Any]] = []
    count = 0
    for row in rows:
        eid = row["entry_id"]
        want = expected.get(eid)
        if want is None:
            unexpected.append(row)
            continue
        count += 1
        key = _total_key(row)
        sql_totals[key] = sql_totals.get(key, ZERO) + row["points"]
        seen.add(eid)
        if (
            want.points != row["points"]
            or want.rule_version != row["rule_version"]
            or want.event_id != row["event_id"]
            or want.cm_id != row["cm_id"]
            or want.component != row["component"]
            or want.sub_branch_id != row["sub_branch_id"]
            or want.team_id != row["team_id"]
            or want.late != bool(row["late"])
            or _own_id(row) != eid
        ):
            report.entries.append(_difference("different", want, row))
    rule = outside() if outside is not None and unexpected else None
    extra = [row for row in unexpected if rule is None or not rule(row)]
    report.after_cut = len(unexpected) - len(extra)
    for row in extra:
        count += 1
        key = _total_key(row)
        sql_totals[key] = sql_totals.get(key, ZERO) + row["points"]
    missing = [e for eid, e in expected.items() if eid not in seen]
    # A missing and an extra entry for one event, component and unit: one entry, another version.
    by_slot = {_slot(asdict(e)): e for e in missing}
    paired: set[str] = set()
    for row in extra:
        twin = by_slot.pop(_slot(row), None)
        if twin is not None:
            paired.add(twin.entry_id)
            report.entries.append(_difference("different", twin, row))
        else:
            report.entries.append(_difference("extra_in_sql", None, row))
    for e in missing:
        if e.entry_id not in paired:
            report.entries.append(_difference("missing_in_sql", e, None))
    report.entries.sort(key=lambda d: (d.competition_id, d.cm_id, d.event_id, d.component, d.kind))

    for key in sorted(expected_totals.keys() | sql_totals.keys(), key=_total_order):
        want_total, got = expected_totals.get(key, ZERO), sql_totals.get(key, ZERO)
        if want_total != got:
            report.totals.append(TotalDifference(*key, expected=want_total, sql=got))
    report.totals_compared = len(expected_totals.keys() | sql_totals.keys())
    report.sql_entries = count
    report.expected_entries = len(expected)
    return report


def _total_order(key: TotalKey) -> tuple[str, str, str, str, str]:
    cid, cm, component, sub_branch, team = key
    return (cid, cm, component, sub_branch or "", team or "")


def period_totals(entries: Iterable[LedgerEntry]) -> dict[TotalKey, Decimal]:
    """Totals per (competition, manager, component, unit) of some entries (a period's)."""
    out: dict[TotalKey, Decimal] = {}
    for e in entries:
        key = (e.competition_id, e.cm_id, e.component, e.sub_branch_id, e.team_id)
        out[key] = out.get(key, ZERO) + e.points
    return {k: v for k, v in out.items() if v}


__all__ = [
    "EntryDifference",
    "Expected",
    "Report",
    "TotalDifference",
    "caused_after_cut",
    "compare",
    "period_totals",
]
