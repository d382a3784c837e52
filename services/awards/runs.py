"""Award runs: freeze what is due, compute the period's award table, store it once per inputs.

A run's fingerprint covers everything its result depends on: the freeze (its id, high-water
mark, entry count and checksum), the competition's rule versions, the org facts it used (names,
units, whole-period membership, headcounts) and this module's algorithm version. The same
fingerprint returns the stored run: no new row, same checksum. Different inputs make a new run
that `supersedes` the latest one; an approved run is never changed, so a correction is always
such a new run. Approval is recorded in the audit log in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Table, insert, select, update

from schemas.control import FreezeNotice
from services.awards import freezing, parked
from services.awards.errors import (
    FreezeRefused,
    PeriodOpen,
    RunConflict,
    RunNotFound,
    UnknownCompetition,
    UnknownPeriod,
)
from services.awards.gate import Gate, refusal
from services.awards.periods import Period, PeriodError, period_of, periods_until
from services.awards.table import Candidate, UnitScore, award_table, canonical, checksum, to_plain
from services.store import Store, StoreConflict
from services.store.audit import record
from services.store.award_tables import AwardRun, AwardRunLine
from streams.core.catalog import Catalog
from streams.core.points import ZERO
from streams.core.rules import Competition

ALGORITHM = "awards-v1"
DRAFT, APPROVED = "draft", "approved"

_runs: Table = AwardRun.__table__  # type: ignore[assignment]
_run_lines: Table = AwardRunLine.__table__  # type: ignore[assignment]


class OrgView(Protocol):
    """What a run needs of the org (services.readmodel.OrgDirectory provides it)."""

    def name(self, cm_id: str) -> str | None: ...
    def unit_names(self) -> dict[str, str]: ...
    def unit_of(self, cm_id: str, day: date) -> Any: ...  # Unit(sub_branch_id, team_id)
    def headcounts(self, day: date) -> dict[str, int]: ...


@dataclass
class RunOutcome:
    run: dict[str, Any]
    created: bool


def ensure_schema(store: Store) -> None:
    """The month-end tables (and the audit log) exist: created if missing."""
    store.create_schema()  # award_tables is imported above, so Base knows its tables


# -- periods --------------------------------------------------------------------------------------


def resolve(
    versions: Iterable[Competition], competition_id: str, period_id: str
) -> tuple[Competition, list[Period]]:
    """The deciding version and every period up to `period_id`; UnknownPeriod if it has none."""
    catalog = Catalog(versions)  # drafts never decide an award
    if competition_id not in catalog.ids:
        raise UnknownCompetition(f"no published competition {competition_id!r}")
    final = catalog.final(competition_id)
    try:
        period = period_of(final, period_id)
        return final, periods_until(final, period)
    except PeriodError as exc:
        raise UnknownPeriod(str(exc)) from None


def close_due(
    store: Store, comp: Competition, chain: list[Period], now: datetime, *, gate: Gate
) -> freezing.Snapshot:
    """Freeze, in order, every period of `chain` not frozen yet; PeriodOpen if one is not due,
    FreezeRefused if its data is not complete (services/awards/gate.py). Acknowledged parked
    records are recorded in the audit log before the freeze that accepted them."""
    target = chain[-1]
    if now < target.cutoff and freezing.load(store, comp.id, target.id) is None:
        # Refused before anything is frozen: asking for a far period must not freeze the ones before it.
        raise _still_open(comp, target)
    snap: freezing.Snapshot | None = None
    for i, period in enumerate(chain):
        snap = freezing.load(store, comp.id, period.id)
        if snap is not None:
            continue
        if now < period.cutoff:
            raise _still_open(comp, period)
        waiting = parked.of_period(store, comp.id, period)
        reasons = refusal(gate.lags, waiting, gate.acknowledge_parked)
        if reasons:
            raise FreezeRefused([f"{comp.id} {period.id} cannot be frozen yet: {reasons[0]}", *reasons[1:]])
        if waiting:
            record(
                store,
                gate.actor,
                "award_period.acknowledge_parked",
                f"award_period/{comp.id}/{period.id}",
                {"parked": [{"table": p.table, "id": p.id, "reason": p.reason} for p in waiting]},
                at=now,
            )
        snap = freezing.freeze(store, comp.id, chain[: i + 1], now=now)
    assert snap is not None
    return snap


def is_frozen(store: Store, competition_id: str, period_id: str) -> bool:
    return freezing.freeze_record(store, competition_id, period_id) is not None


def notices(store: Store, comp: Competition, chain: list[Period]) -> list[FreezeNotice]:
    """A freeze notice for each frozen period of `chain`, for the scoring partitions
    (schemas/control.py). Sending one again is harmless, so every freeze call sends them all:
    an API that died between the SQL freeze and the notices is made good by the next call."""
    out = []
    for period in chain:
        row = freezing.freeze_record(store, comp.id, period.id)
        if row is None:
            break
        out.append(
            FreezeNotice(
                comp.id,
                period.id,
                period.owns_from.isoformat() if period.owns_from else None,
                period.owns_until.isoformat() if period.owns_until else None,
                row["frozen_at"].isoformat(),
            )
        )
    return out


def _still_open(comp: Competition, period: Period) -> PeriodOpen:
    return PeriodOpen(
        f"{comp.id} {period.id} closes at {period.cutoff.isoformat()} "
        f"(its last day {period.end} plus {comp.grace_days} grace days)"
    )


def results(store: Store, comp: Competition, chain: list[Period]) -> tuple[freezing.Snapshot, bool]:
    """A period's figures: the frozen ones, else a preview of what it holds now (open period)."""
    frozen = freezing.load(store, comp.id, chain[-1].id)
    if frozen is not None:
        return frozen, True
    return freezing.preview(store, comp.id, chain), False


def per_manager(snap: freezing.Snapshot) -> list[dict[str, Any]]:
    """Own points, adjustment and total per manager, by id (for the period results view)."""
    rows: dict[str, dict[str, Any]] = {}
    for line in snap.lines:
        row = rows.setdefault(
            line.cm_id, {"cm_id": line.cm_id, "points": ZERO, "adjustment": ZERO, "from": set()}
        )
        if line.adjustment:
            row["adjustment"] += line.points
            row["from"].add(line.source_period)
        else:
            row["points"] += line.points
    out = []
    for cm_id in sorted(rows):
        row = rows[cm_id]
        out.append(
            {
                "cm_id": cm_id,
                "points": f"{row['points']:.2f}",
                "adjustment": f"{row['adjustment']:.2f}",
                "adjustment_from": sorted(row["from"]),
                "total": f"{row['points'] + row['adjustment']:.2f}",
            }
        )
    return out


# -- the run --------------------------------------------------------------------------------------


def _in_post(org: OrgView, comp: Competition, cm_id: str, period: Period) -> bool:
    day = period.start
    while day <= period.end:
        sub_branch = org.unit_of(cm_id, day)[0]
        if sub_branch is None or not comp.takes_part(sub_branch):
            return False
        day += timedelta(days=1)
    return True


def _inputs(
    comp: Competition,
    versions: list[Competition],
    period: Period,
    snap: freezing.Snapshot,
    table_in: dict[str, Any],
) -> dict[str, Any]:
    return {
        "competition_id": comp.id,
        "period": period.id,
        "algorithm": ALGORITHM,
        "freeze": {
            "id": snap.freeze_id,
            "high_water": snap.high_water.isoformat() if snap.high_water else None,
            "entries": snap.entries,
            "checksum": snap.checksum(),
        },
        "rules": {
            "deciding_version": comp.version,
            "versions": [
                {
                    "version": v.version,
                    "status": v.status,
                    "sha256": hashlib.sha256(v.model_dump_json().encode()).hexdigest(),
                }
                for v in sorted(versions, key=lambda v: v.version)
                if v.id == comp.id and v.status != "draft"
            ],
        },
        "org": hashlib.sha256(canonical(table_in)).hexdigest(),
    }


def compute(
    comp: Competition, versions: list[Competition], period: Period, snap: freezing.Snapshot, org: OrgView
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(inputs, result) of a frozen period: pure given the snapshot and the org."""
    people: dict[str, dict[str, Any]] = {}
    units: dict[str, dict[str, list[Decimal]]] = {
        "team": {},
        "sub_branch_total": {},
        "sub_branch_per_head": {},
    }
    for line in snap.lines:
        person = people.setdefault(line.cm_id, {"points": ZERO, "adjustment": ZERO})
        person["adjustment" if line.adjustment else "points"] += line.points
        for ranking, unit_id in (
            ("team", line.team_id),
            ("sub_branch_total", line.sub_branch_id),
            ("sub_branch_per_head", line.sub_branch_id),
        ):
            if unit_id is not None:
                acc = units[ranking].setdefault(unit_id, [ZERO, ZERO])
                acc[1 if line.adjustment else 0] += line.points
    members = {m.cm_id: m for m in snap.members}
    last_day = period.end
    needs_post = comp.awards is not None and comp.awards.eligibility.in_post
    org_used: dict[str, Any] = {"people": {}, "headcounts": {}, "units": {}}
    candidates = []
    for cm_id in sorted(people):
        unit = org.unit_of(cm_id, last_day)
        in_post = _in_post(org, comp, cm_id, period) if needs_post else True
        name = org.name(cm_id)
        org_used["people"][cm_id] = [name, unit[0], unit[1], in_post]
        member = members.get(cm_id)
        candidates.append(
            Candidate(
                cm_id=cm_id,
                points=people[cm_id]["points"],
                adjustment=people[cm_id]["adjustment"],
                events=member.events if member else 0,
                last_at=member.last_at if member else None,
                in_post=in_post,
                name=name,
                sub_branch_id=unit[0],
                team_id=unit[1],
            )
        )
    headcounts = org.headcounts(last_day)
    unit_names = org.unit_names()
    unit_scores: dict[str, list[UnitScore]] = {}
    for ranking, by_unit in units.items():
        unit_scores[ranking] = []
        for unit_id in sorted(by_unit):
            own, adjustment = by_unit[unit_id]
            heads = headcounts.get(unit_id) if ranking == "sub_branch_per_head" else None
            uname = unit_names.get(unit_id)
            org_used["units"][unit_id] = uname
            if heads is not None:
                org_used["headcounts"][unit_id] = heads
            unit_scores[ranking].append(UnitScore(unit_id, own, adjustment, heads, uname))
    table = award_table(
        comp.id, period.id, comp.awards, list(comp.tie_break), candidates, unit_scores, regular=period.regular
    )
    result = to_plain(table)
    result["unit_names"] = dict(sorted(org_used["units"].items()))
    return _inputs(comp, versions, period, snap, org_used), result


def run(
    store: Store,
    versions: list[Competition],
    competition_id: str,
    period_id: str,
    org: OrgView,
    *,
    gate: Gate,
    now: datetime | None = None,
) -> RunOutcome:
    """Freeze what is due (through the gate), compute, and store the run unless the same inputs
    already have one."""
    now = now or datetime.now(UTC)
    comp, chain = resolve(versions, competition_id, period_id)
    snap = close_due(store, comp, chain, now, gate=gate)
    inputs, result = compute(comp, versions, chain[-1], snap, org)
    fingerprint = hashlib.sha256(canonical(inputs)).hexdigest()
    existing = _find(store, competition_id, period_id, fingerprint)
    if existing is not None:
        return RunOutcome(existing, False)
    try:
        return RunOutcome(_insert(store, comp.id, period_id, snap, fingerprint, inputs, result, now), True)
    except StoreConflict:
        raced = _find(store, competition_id, period_id, fingerprint)
        if raced is None:
            raise
        return RunOutcome(raced, False)


def _find(store: Store, competition_id: str, period: str, fingerprint: str) -> dict[str, Any] | None:
    R = _runs.c
    with store._reading() as conn:
        row = conn.execute(
            select(_runs).where(
                R.competition_id == competition_id, R.period == period, R.fingerprint == fingerprint
            )
        ).first()
    return None if row is None else _public(dict(row._mapping))


def _line_rows(run_id: int, result: dict[str, Any]) -> list[dict[str, Any]]:
    def figures(line: dict[str, Any]) -> dict[str, Any]:
        return {
            "points": Decimal(line["points"]),
            "adjustment": Decimal(line["adjustment"]),
            "total": Decimal(line["total"]),
            "awards": json.dumps(line["awards"], ensure_ascii=False, sort_keys=True),
            "amount": Decimal(line["amount"]),
            "remarks": "；".join(line["remarks"]),
        }

    rows = [
        {
            "kind": "customer_manager",
            "rank": p["rank"],
            "unit_id": p["cm_id"],
            "name": p["name"],
            "sub_branch_id": p["sub_branch_id"],
            "team_id": p["team_id"],
            **figures(p),
        }
        for p in result["people"]
    ]
    rows += [
        {
            "kind": u["ranking"],
            "rank": u["rank"],
            "unit_id": u["unit_id"],
            "name": u["name"],
            "sub_branch_id": u["unit_id"] if u["ranking"] != "team" else None,
            "team_id": u["unit_id"] if u["ranking"] == "team" else None,
            **figures(u),
        }
        for u in result["units"]
    ]
    return [{"run_id": run_id, "line_no": i, **row} for i, row in enumerate(rows, start=1)]


def _insert(
    store: Store,
    competition_id: str,
    period: str,
    snap: freezing.Snapshot,
    fingerprint: str,
    inputs: dict[str, Any],
    result: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    R = _runs.c
    with store._writing() as conn:
        latest = conn.execute(
            select(R.id)
            .where(R.competition_id == competition_id, R.period == period)
            .order_by(R.id.desc())
            .limit(1)
        ).scalar()
        run_id = conn.execute(
            insert(_runs)
            .values(
                competition_id=competition_id,
                period=period,
                freeze_id=snap.freeze_id,
                fingerprint=fingerprint,
                inputs=canonical(inputs).decode(),
                checksum=checksum(result),
                result=canonical(result).decode(),
                status=DRAFT,
                supersedes=latest,
                created_at=now,
            )
            .returning(R.id)
        ).scalar_one()
        lines = _line_rows(int(run_id), result)
        for i in range(0, len(lines), 5000):
            conn.execute(insert(_run_lines), lines[i : i + 5000])
        row = conn.execute(select(_runs).where(R.id == run_id)).one()
    return _public(dict(row._mapping))


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A run as the API shows it: inputs and result decoded."""
    row["inputs"] = json.loads(row["inputs"])
    row["result"] = json.loads(row["result"])
    return row


def get(store: Store, run_id: int) -> dict[str, Any]:
    with store._reading() as conn:
        row = conn.execute(select(_runs).where(_runs.c.id == run_id)).first()
    if row is None:
        raise RunNotFound(f"no award run {run_id}")
    return _public(dict(row._mapping))


def listing(
    store: Store, competition_id: str | None = None, period: str | None = None
) -> list[dict[str, Any]]:
    R = _runs.c
    query = select(*[c for c in _runs.c if c.name not in ("result", "inputs")]).order_by(R.id)
    if competition_id:
        query = query.where(R.competition_id == competition_id)
    if period:
        query = query.where(R.period == period)
    with store._reading() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def lines(
    store: Store, run_id: int, *, sub_branch: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    with store._reading() as conn:
        if conn.execute(select(_runs.c.id).where(_runs.c.id == run_id)).first() is None:
            raise RunNotFound(f"no award run {run_id}")
    L = _run_lines.c
    query = select(_run_lines).where(L.run_id == run_id).order_by(L.line_no)
    if sub_branch:
        query = query.where(L.sub_branch_id == sub_branch)
    if kind:
        query = query.where(L.kind == kind)
    with store._reading() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query)]
    for row in rows:
        row["awards"] = json.loads(row["awards"])
    return rows


def approve(
    store: Store,
    run_id: int,
    actor: str,
    note: str | None = None,
    *,
    warnings: list[str] | None = None,
    acknowledge_warnings: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """draft -> approved, recorded in the audit log in the same transaction. Only the latest run of
    its period can be approved, and only once. With `warnings` (services/awards/warnings.py) the
    approval needs `acknowledge_warnings`, and the audit entry keeps what was acknowledged."""
    now = now or datetime.now(UTC)
    if warnings and not acknowledge_warnings:
        raise RunConflict(
            f"award run {run_id} has warnings to acknowledge before approval: {' '.join(warnings)} "
            "(approve with acknowledge_warnings)"
        )
    R = _runs.c
    with store._writing() as conn:
        row = conn.execute(select(_runs).where(R.id == run_id).with_for_update()).first()
        if row is None:
            raise RunNotFound(f"no award run {run_id}")
        if row.status == APPROVED:
            raise RunConflict(
                f"award run {run_id} was approved at {row.approved_at.isoformat()} by {row.approved_by}"
            )
        newer = conn.execute(
            select(R.id)
            .where(R.competition_id == row.competition_id, R.period == row.period, R.id > run_id)
            .limit(1)
        ).scalar()
        if newer is not None:
            raise RunConflict(f"award run {run_id} is superseded by run {newer}: approve that one")
        conn.execute(
            update(_runs).where(R.id == run_id).values(status=APPROVED, approved_at=now, approved_by=actor)
        )
        record(
            conn,
            actor,
            "award_run.approve",
            f"award_run/{run_id}",
            {
                "status": [DRAFT, APPROVED],
                "competition_id": row.competition_id,
                "period": row.period,
                "checksum": row.checksum,
                "supersedes": row.supersedes,
                "note": note,
                "warnings_acknowledged": list(warnings or []),
            },
            at=now,
        )
    return get(store, run_id)
