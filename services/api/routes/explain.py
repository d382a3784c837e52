"""Explain (contract C): the entries behind a manager's score, and why one event did or did not
count in each competition, for an organiser (any event) or for whoever may read a manager (that
manager's own events: "why wasn't my event counted"). The work is in services/verify/explain.py;
this only translates."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from services.api.access import Organiser, Reader, ensure_manager
from services.api.deps import ReadModelDep, SettingsDep, StoreDep
from services.store import StoreUnavailable
from services.verify.explain import EventNotFound, explain_event_id, participant_entries
from services.verify.service import VerifyError
from streams.admin import BrokerUnavailable

router = APIRouter(tags=["explain"])

PeriodQuery = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


@router.get("/api/competitions/{competition_id}/explain/{cm_id}")
async def explain_participant(
    competition_id: str,
    cm_id: str,
    store: StoreDep,
    read_model: ReadModelDep,
    principal: Reader,
    period: PeriodQuery = None,
) -> dict[str, Any]:
    """Every ledger entry behind the manager's score (rule version, component and its Chinese
    label, points, reason, late flag, when it occurred and was recorded), with the totals."""
    ensure_manager(principal, read_model.board.org, cm_id)
    read_model.competition(competition_id)  # 404 for a competition never published
    try:
        found = await asyncio.to_thread(participant_entries, store, competition_id, cm_id, period)
    except VerifyError as exc:
        raise HTTPException(422, str(exc)) from None
    except StoreUnavailable as exc:
        raise HTTPException(503, f"database unavailable: {exc}") from None
    if not found["entries"] and read_model.standing(competition_id, cm_id) is None:
        # As GET …/standings/{cm_id} answers: nothing is known of this manager here.
        raise HTTPException(404, f"{cm_id} has no standing in {competition_id}")
    return found


@router.get("/api/events/{event_id}/explain")
async def explain_event(
    event_id: str,
    settings: SettingsDep,
    store: StoreDep,
    _: Organiser,  # an event may belong to any sub-branch: organisers only
    cm_id: Annotated[str | None, Query(description="the event's manager, if known: reads less")] = None,
) -> dict[str, Any]:
    """Per competition: counted (its entries, what it is worth now) or not, and why: the rule and
    version that scored it, a cap or clawback, the participants filter, the window, an earlier
    report of the same item; plus dropped duplicates and dead-letter reasons."""
    try:
        return await explain_event_id(settings.kafka_bootstrap, settings.topics, store, event_id, cm_id)
    except EventNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except (StoreUnavailable, BrokerUnavailable) as exc:
        raise HTTPException(503, str(exc)) from None


@router.get("/api/managers/{cm_id}/events/{event_id}/explain")
async def explain_own_event(
    cm_id: str,
    event_id: str,
    settings: SettingsDep,
    store: StoreDep,
    read_model: ReadModelDep,
    principal: Reader,
) -> dict[str, Any]:
    """The same answer as /api/events/{event_id}/explain, for one of this manager's own events:
    a viewer may ask for the managers of their sub-branch (as for their page). An event that is
    not this manager's is not found (404), whoever's it is; so is a refused row whose bytes do not
    name the manager (a CSV row: an organiser can explain it)."""
    ensure_manager(principal, read_model.board.org, cm_id)
    try:
        return await explain_event_id(settings.kafka_bootstrap, settings.topics, store, event_id, owner=cm_id)
    except EventNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except (StoreUnavailable, BrokerUnavailable) as exc:
        raise HTTPException(503, str(exc)) from None
