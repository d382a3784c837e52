"""Month-end awards: freeze a period, look at its figures, run, list, approve and report.

Rules and the org come from this replica's read model (the competitions and org topics); the
points from the SQL ledger. Synchronous handlers: FastAPI runs them in its thread pool, so a
freeze over millions of ledger rows does not stall the event loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as FastPath
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from services.api.access import Organiser, require
from services.api.deps import ReadModelDep, StoreDep
from services.awards import runs
from services.awards.closing import announce, gate_for
from services.awards.errors import (
    AwardError,
    FreezeRefused,
    PeriodOpen,
    RunConflict,
    RunNotFound,
    UnknownCompetition,
    UnknownPeriod,
)
from services.awards.freezing import Snapshot
from services.awards.gate import Gate
from services.awards.periods import Period
from services.awards.positions import GateUnavailable
from services.awards.reports import csv_report, xlsx_report
from services.awards.table import ADJUSTMENT_LABEL
from services.awards.warnings import run_warnings
from services.publisher import PublishError
from services.readmodel import ReadModel
from services.store import Store, StoreDataError, StoreUnavailable
from streams.core.rules import Competition

# Award figures are payouts: organisers (and admins) only, for every route here.
router = APIRouter(prefix="/api/awards", tags=["awards"], dependencies=[Depends(require("organiser"))])

T = TypeVar("T")
_STATUS: dict[type[AwardError], int] = {
    UnknownCompetition: 404,
    RunNotFound: 404,
    UnknownPeriod: 422,
    PeriodOpen: 409,
    FreezeRefused: 409,
    RunConflict: 409,
}


@contextmanager
def _answered() -> Iterator[None]:
    """The month-end layer's refusals as HTTP answers."""
    try:
        yield
    except AwardError as exc:
        raise HTTPException(_STATUS.get(type(exc), 400), str(exc)) from None
    except StoreUnavailable as exc:
        raise HTTPException(503, f"database unavailable: {exc}") from None
    except StoreDataError as exc:  # e.g. a NUL in an id, which PostgreSQL text cannot hold
        raise HTTPException(422, str(exc)) from None


def _awards_store(request: Request, store: StoreDep) -> Store:
    # The month-end tables are created on first use: the API's start-up stays as it was.
    if not getattr(request.app.state, "awards_schema", False):
        with _answered():
            runs.ensure_schema(store)
        request.app.state.awards_schema = True
    return store


AwardsStore = Annotated[Store, Depends(_awards_store)]
RunId = Annotated[int, FastPath(ge=1, le=2**53)]
SubBranch = Annotated[str | None, Query(max_length=64)]


def _versions(read_model: ReadModel, competition_id: str) -> list[Competition]:
    """Every known version up to the deciding one (UnknownCompetition -> 404 via the app's handler)."""
    final = read_model.competition(competition_id)
    found = (read_model.version(competition_id, v) for v in range(1, final.version + 1))
    return [v for v in found if v is not None]


class PeriodRequest(BaseModel):
    competition_id: str = Field(min_length=1, max_length=64)
    period: str = Field(min_length=1, max_length=16, description="'YYYY-MM', or 'window'")


class FreezeRequest(PeriodRequest):
    acknowledge_parked: bool = Field(
        default=False,
        description="freeze although parked records may belong to the period (audited under your name)",
    )


class ApproveRequest(BaseModel):
    note: str | None = Field(default=None, max_length=500)
    acknowledge_warnings: bool = Field(
        default=False,
        description="approve although the run has warnings (no entry of its own, late entries waiting)",
    )


def _freeze_view(snap: Snapshot, frozen: bool) -> dict[str, Any]:
    return {
        "frozen": frozen,
        "freeze_id": snap.freeze_id,
        "frozen_at": snap.frozen_at.isoformat() if snap.frozen_at else None,
        "high_water": snap.high_water.isoformat() if snap.high_water else None,
        "entries": snap.entries,
        "points": f"{snap.points:.2f}",
        "checksum": snap.checksum() if frozen else None,
    }


async def _gate(
    request: Request, comp_id: str, chain: list[Period], store: Store, ack: bool, actor: str
) -> Gate:
    try:
        return await gate_for(
            request.app.state.settings, store, comp_id, chain, _now(), acknowledge_parked=ack, actor=actor
        )
    except GateUnavailable as exc:
        raise HTTPException(503, str(exc)) from None


async def _announce(request: Request, store: Store, comp: Competition, chain: list[Period]) -> None:
    """Tell the scoring partitions (schemas/control.py): from here on, entries of these periods
    that arrive are late. Sent on every call, so a call that failed here is made good by the next."""
    try:
        await announce(request.app.state.publisher, store, comp, chain)
    except PublishError as exc:
        raise HTTPException(503, f"frozen in SQL, but the scoring partitions were not told: {exc}; "
                                 "ask for the freeze again") from None  # fmt: skip


@router.post("/freezes", status_code=201)
async def freeze_period(
    body: FreezeRequest, request: Request, store: AwardsStore, read_model: ReadModelDep, principal: Organiser
) -> JSONResponse:
    """Freeze a period (and any earlier one not frozen yet) once its cutoff has passed and its
    data is complete (services/awards/gate.py). 201 when this call froze it, 200 when it was
    frozen already, 409 before the cutoff or while a stage, the sink or parked records hold it up
    (the reason names what lags)."""
    versions = _versions(read_model, body.competition_id)
    with _answered():
        comp, chain = runs.resolve(versions, body.competition_id, body.period)
    gate = await _gate(request, comp.id, chain, store, body.acknowledge_parked, principal.actor)

    def freeze() -> tuple[bool, Snapshot]:
        with _answered(), request.app.state.metrics.counting_refusals():
            was = runs.results(store, comp, chain)[1]
            return was, runs.close_due(store, comp, chain, _now(), gate=gate)

    was, snap = await run_in_threadpool(freeze)
    await _announce(request, store, comp, chain)
    view = {"competition_id": comp.id, "period": body.period, **_freeze_view(snap, True)}
    return JSONResponse(view, status_code=200 if was else 201)


@router.get("/periods/{competition_id}/{period}")
def period_figures(
    competition_id: str, period: str, store: AwardsStore, read_model: ReadModelDep
) -> dict[str, Any]:
    """A period's points per manager: frozen, or as they stand (open). Late entries of earlier
    periods show in `adjustment` (调整（上期迟到数据）) with the periods they came from."""
    versions = _versions(read_model, competition_id)
    with _answered():
        comp, chain = runs.resolve(versions, competition_id, period)
        snap, frozen = runs.results(store, comp, chain)
    p = chain[-1]
    return {
        "competition_id": comp.id,
        "period": p.id,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "cutoff": p.cutoff.isoformat(),
        "pays_prizes": p.regular,
        "adjustment_label": ADJUSTMENT_LABEL,
        **_freeze_view(snap, frozen),
        "rows": runs.per_manager(snap),
    }


def _warnings(store: Store, read_model: ReadModel, run: dict[str, Any]) -> list[str]:
    """The run's warnings as they stand now (services/awards/warnings.py); [] once approved."""
    if run["status"] != runs.DRAFT:
        return []
    versions = _versions(read_model, run["competition_id"])
    comp, chain = runs.resolve(versions, run["competition_id"], run["period"])
    return run_warnings(store, comp, chain[-1])


def _header(run: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in run.items() if k not in ("result", "inputs")}
    for key in ("created_at", "approved_at"):
        if out.get(key) is not None:
            out[key] = out[key].isoformat()
    if "result" in run:
        out["amount"] = run["result"]["amount"]
        out["people"] = len(run["result"]["people"])
        out["inputs"] = run["inputs"]
    return out


@router.post("/runs", status_code=201)
async def create_run(
    body: FreezeRequest, request: Request, store: AwardsStore, read_model: ReadModelDep, principal: Organiser
) -> JSONResponse:
    """Compute a period's awards (freezing it first when due, through the same gate as
    POST /freezes). 201 with a new run; 200 with the stored run when the inputs (freeze, rule
    versions, org facts) are the same as one already run."""
    versions = _versions(read_model, body.competition_id)
    with _answered():
        comp, chain = runs.resolve(versions, body.competition_id, body.period)
    gate = await _gate(request, comp.id, chain, store, body.acknowledge_parked, principal.actor)

    metrics = request.app.state.metrics

    def run() -> tuple[runs.RunOutcome, list[str]]:
        with _answered(), metrics.counting_refusals():
            outcome = runs.run(
                store, versions, body.competition_id, body.period, read_model.board.org, gate=gate, now=_now()
            )
            return outcome, _warnings(store, read_model, outcome.run)

    outcome, warnings = await run_in_threadpool(run)
    metrics.award_runs.labels("created" if outcome.created else "reused").inc()
    await _announce(request, store, comp, chain)
    view = {**_header(outcome.run), "warnings": warnings}
    return JSONResponse(view, status_code=201 if outcome.created else 200)


@router.get("/runs")
def list_runs(
    store: AwardsStore,
    competition_id: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, Any]:
    with _answered():
        return {"runs": [_header(r) for r in runs.listing(store, competition_id, period)]}


@router.get("/runs/{run_id}")
def get_run(run_id: RunId, store: AwardsStore, read_model: ReadModelDep) -> dict[str, Any]:
    """The run, with the warnings its approval must acknowledge while it is a draft."""
    with _answered():
        run = runs.get(store, run_id)
        return {**_header(run), "warnings": _warnings(store, read_model, run)}


@router.get("/runs/{run_id}/lines")
def run_lines(
    run_id: RunId,
    store: AwardsStore,
    sub_branch: SubBranch = None,
    kind: Literal["customer_manager", "team", "sub_branch_total", "sub_branch_per_head"] | None = None,
) -> dict[str, Any]:
    with _answered():
        rows = runs.lines(store, run_id, sub_branch=sub_branch, kind=kind)
    for row in rows:
        for key in ("points", "adjustment", "total", "amount"):
            row[key] = f"{row[key]:.2f}"
    return {"run_id": run_id, "adjustment_label": ADJUSTMENT_LABEL, "lines": rows}


@router.post("/runs/{run_id}/approve")
def approve_run(
    run_id: RunId,
    store: AwardsStore,
    read_model: ReadModelDep,
    principal: Organiser,
    body: ApproveRequest | None = None,
) -> dict[str, Any]:
    """draft -> approved (audited under the caller's own name, with the warnings acknowledged).
    409 if already approved, superseded by a newer run, or while the run has warnings (no entry of
    its own, late entries waiting) and `acknowledge_warnings` is not set."""
    body = body or ApproveRequest()
    with _answered():
        warnings = _warnings(store, read_model, runs.get(store, run_id))
        approved = runs.approve(
            store,
            run_id,
            principal.actor,
            body.note,
            warnings=warnings,
            acknowledge_warnings=body.acknowledge_warnings,
        )
        return {**_header(approved), "warnings_acknowledged": warnings}


# What each report format is drawn by and sent as.
_FORMATS: dict[str, tuple[Callable[..., bytes], str]] = {
    "csv": (csv_report, "text/csv; charset=utf-8"),
    "xlsx": (xlsx_report, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _report(run_id: int, store: Store, read_model: ReadModel, sub_branch: str | None, fmt: str) -> Response:
    render, media_type = _FORMATS[fmt]
    with _answered():
        run = runs.get(store, run_id)
    try:
        name = read_model.competition(run["competition_id"]).name
    except Exception:  # a competition no longer on the topic: its id still names it
        name = run["competition_id"]
    suffix = f"-{sub_branch}" if sub_branch else ""
    stem = f"awards-{run['competition_id']}-{run['period']}-run{run_id}{suffix}"
    stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", stem)
    return Response(
        render(run, name, sub_branch),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )


@router.get("/runs/{run_id}/report.csv")
def report_csv(
    run_id: RunId, store: AwardsStore, read_model: ReadModelDep, sub_branch: SubBranch = None
) -> Response:
    return _report(run_id, store, read_model, sub_branch, "csv")


@router.get("/runs/{run_id}/report.xlsx")
def report_xlsx(
    run_id: RunId, store: AwardsStore, read_model: ReadModelDep, sub_branch: SubBranch = None
) -> Response:
    return _report(run_id, store, read_model, sub_branch, "xlsx")


def _now() -> datetime:
    return datetime.now(UTC)
