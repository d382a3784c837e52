"""A freeze as a whole, for the API's routes and the scheduled freeze alike: the gate's positions
(services/awards/positions.py), the SQL freeze through the gate (runs.close_due), then the freeze
notices to every scoring partition (schemas/control.py). The notices are sent on every call, so a
call that died between the SQL freeze and the notices is made good by the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.awards import runs
from services.awards.errors import AwardError
from services.awards.gate import Gate
from services.awards.periods import Period, regular_periods
from services.awards.positions import GateUnavailable, Groups, pipeline_lags
from services.publisher import Publisher, PublishError
from services.settings import ServiceSettings
from services.store import Store, StoreError
from streams.core.rules import Competition

log = logging.getLogger("awards")


async def gate_for(
    settings: ServiceSettings,
    store: Store,
    comp_id: str,
    chain: list[Period],
    now: datetime,
    *,
    acknowledge_parked: bool = False,
    actor: str = "system",
) -> Gate:
    """What a freeze of `chain` is checked against: the pipeline's positions now, unless nothing
    is left to freeze or it is not due (close_due answers that without the wait), or the gate is
    off (CAMPAIGNS_FREEZE_GATE=false). GateUnavailable when Kafka does not answer."""
    frozen = await asyncio.to_thread(runs.is_frozen, store, comp_id, chain[-1].id)
    if frozen or not settings.freeze_gate or now < chain[-1].cutoff:
        return Gate(None, acknowledge_parked, actor)
    lags = await pipeline_lags(
        settings.kafka_bootstrap,
        settings.topics,
        Groups.of(settings.app_id, settings.sink_name),
        wait=settings.freeze_wait_seconds,
    )
    return Gate(lags, acknowledge_parked, actor)


async def announce(publisher: Publisher, store: Store, comp: Competition, chain: list[Period]) -> None:
    """Tell the scoring partitions about every frozen period of `chain` (PublishError if Kafka
    refused: the freeze stands in SQL, and the next call sends the notices again)."""
    notices = await asyncio.to_thread(runs.notices, store, comp, chain)
    for notice in notices:
        await publisher.freeze_notice(notice)


@dataclass(frozen=True)
class Attempt:
    competition_id: str
    period: str
    frozen: bool
    reason: str | None = None


async def freeze_due(
    settings: ServiceSettings,
    store: Store,
    publisher: Publisher,
    competitions: list[tuple[Competition, list[Competition]]],
    now: datetime,
) -> list[Attempt]:
    """The scheduled freeze: each regular period whose cutoff has passed and that is not frozen
    yet, through the same gate as a freeze by hand. A refusal is logged and tried again on the
    next round. `competitions`: (deciding version, every version) per competition."""
    out: list[Attempt] = []
    for final, versions in competitions:
        for period in regular_periods(final):
            if now < period.cutoff:
                break
            try:
                comp, chain = runs.resolve(versions, final.id, period.id)
                if await asyncio.to_thread(runs.is_frozen, store, comp.id, period.id):
                    continue
                gate = await gate_for(settings, store, comp.id, chain, now)
                await asyncio.to_thread(runs.close_due, store, comp, chain, now, gate=gate)
                await announce(publisher, store, comp, chain)
            except (AwardError, GateUnavailable, PublishError, StoreError) as exc:
                log.warning("awards: %s %s not frozen: %s", final.id, period.id, exc)
                out.append(Attempt(final.id, period.id, False, str(exc)))
                break  # later periods wait for this one
            log.info("awards: %s %s frozen (scheduled)", final.id, period.id)
            out.append(Attempt(final.id, period.id, True))
    return out


async def every(
    seconds: float,
    settings: ServiceSettings,
    store: Store,
    publisher: Publisher,
    competitions: Callable[[], list[tuple[Competition, list[Competition]]]],
    clock: Callable[[], datetime],
) -> None:
    """Run `freeze_due` every `seconds` until cancelled (the API's lifespan owns the task)."""
    while True:
        await asyncio.sleep(seconds)
        try:
            # In a thread: reading the read model is cheap, but making sure of the tables is SQL.
            await freeze_due(settings, store, publisher, await asyncio.to_thread(competitions), clock())
        except Exception:  # one bad round must not end the schedule
            log.exception("awards: the scheduled freeze failed; trying again in %.0f s", seconds)
