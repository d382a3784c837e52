"""Verify mode over HTTP: re-score a competition from the raw history and list every difference
from the SQL ledger. Minutes of CPU for a year: it runs in a worker thread on its own event loop,
one verification at a time per API process. It may run while the pipeline scores: it compares up
to a cut taken at its start (services/verify/cut.py); 503 when the pipeline does not reach it
within a minute."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from services.api.access import Organiser
from services.api.deps import SettingsDep, StoreDep
from services.awards.positions import Groups
from services.store import StoreUnavailable
from services.verify import VerifyError, verify_blocking
from services.verify.cut import PipelineBehind
from streams.admin import BrokerUnavailable

router = APIRouter(prefix="/api/competitions", tags=["verify"])
_one_at_a_time = asyncio.Lock()


@router.get("/{competition_id}/verify")
async def verify_competition(
    competition_id: str,
    settings: SettingsDep,
    store: StoreDep,
    _: Organiser,  # reads the whole history: organisers only
    period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")] = None,
) -> dict[str, Any]:
    """{ok, events, expected_entries, sql_entries, entry_differences: [{kind: missing_in_sql |
    extra_in_sql | different, ...}], total_differences: [...], scoring_failures, seconds}."""
    async with _one_at_a_time:
        try:
            report = await asyncio.to_thread(
                partial(
                    verify_blocking,
                    settings.kafka_bootstrap,
                    settings.topics,
                    store,
                    [competition_id],
                    period,
                    groups=Groups.of(settings.app_id, settings.sink_name),
                )
            )
        except VerifyError as exc:
            raise HTTPException(404, str(exc)) from None
        except (StoreUnavailable, BrokerUnavailable, PipelineBehind) as exc:
            raise HTTPException(503, str(exc)) from None
    return report.to_dict()
