"""The FastAPI application: ingest, competitions, leaderboards and the wall page; organisers'
console and awards mount beside them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI

from services.api.access import start_access
from services.api.content_type import JsonBodies
from services.api.errors import install_error_handlers
from services.api.metrics import ApiMetrics
from services.api.openapi_problems import install_problem_schema
from services.api.relay import Relay
from services.api.routes import (
    adjustments,
    audit,
    auth,
    awards,
    challenges,
    competitions,
    console,
    console_access,
    console_org,
    console_pages,
    explain,
    health,
    ingest,
    leaderboards,
    managers,
    metrics,
    morning,
    notifications,
    pages,
    preview,
    standings,
    stream,
    verify,
)
from services.awards import closing, runs
from services.history.ahead import keep_ahead, worth_holding
from services.history.moments import LedgerHistory
from services.publisher import Publisher
from services.readmodel import ReadModel
from services.settings import ServiceSettings
from services.store import Store
from services.store.outbox import Outbox
from streams.admin import ensure_topics
from streams.core.rules import Competition
from streams.pipeline import fault


def _pinned(at: datetime | None) -> Callable[[], datetime] | None:
    return None if at is None else lambda: at


def _scheduled_freeze(
    settings: ServiceSettings, store: Store, publisher: Publisher, read_model: ReadModel
) -> asyncio.Task[None] | None:
    """The scheduled freeze (CAMPAIGNS_AUTO_FREEZE_SECONDS > 0), over the competitions with awards."""
    if settings.auto_freeze_seconds <= 0:
        return None

    def competitions() -> list[tuple[Competition, list[Competition]]]:
        runs.ensure_schema(store)
        out = []
        for final in read_model.competitions():
            if final.awards is None or final.status == "draft":
                continue
            found = (read_model.version(final.id, v) for v in range(1, final.version + 1))
            out.append((final, [v for v in found if v is not None]))
        return out

    return asyncio.create_task(
        closing.every(
            settings.auto_freeze_seconds, settings, store, publisher, competitions, lambda: datetime.now(UTC)
        ),
        name="scheduled-freeze",
    )


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(
            settings.kafka_bootstrap, settings.topics, settings.partitions, settings.replication
        )
        publisher = Publisher(settings.kafka_bootstrap, settings.topics)
        await publisher.start()
        read_model = ReadModel(
            settings.kafka_bootstrap,
            settings.topics,
            ledger_tail=settings.ledger_tail,
            push_queue=settings.sse_queue_size,
            push_keep=settings.sse_replay_size,
            clock=_pinned(settings.board_clock),
        )
        await read_model.start()
        app.state.metrics.read_model = read_model
        # Only read, for /readyz: the sink's heartbeat and parked records. Connects on first use.
        store = Store.from_url(settings.database_url)
        start_access(app.state, store, settings)  # users, keys, sessions (services/api/access.py)
        # Publishing's outbox: finish what an earlier process left pending, then follow new rows.
        fault.arm(settings.fault)
        relay = Relay(Outbox(store), publisher, settings.fanout_poll_seconds)
        relay.start()
        app.state.settings = settings
        app.state.publisher = publisher
        app.state.read_model = read_model
        app.state.store = store
        app.state.relay = relay
        schedule = _scheduled_freeze(settings, store, publisher, read_model)
        # The board at past moments (services/history): each competition's ledger held ahead.
        history = app.state.history = LedgerHistory(store)
        ahead = asyncio.create_task(
            keep_ahead(
                history,
                lambda: read_model.ready,
                lambda: worth_holding(read_model.competitions(), read_model.board.today, history.capacity),
            ),
            name="history-ahead",
        )
        try:
            yield
        finally:
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ahead
            await relay.stop()
            if schedule is not None:
                schedule.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await schedule
            # The what-if processes (services/whatif/pool.py), if a preview ever started them:
            # nothing else would end them, uvicorn's exit skips atexit hooks.
            whatif = getattr(app.state, "whatif", None)
            if whatif is not None:
                await asyncio.to_thread(whatif.close)
            app.state.metrics.read_model = None
            await read_model.stop()
            await publisher.stop()
            store.close()

    app = FastAPI(title="普惠金融 campaigns", lifespan=lifespan)
    app.state.metrics = ApiMetrics()  # one registry per app: GET /metrics (services/api/metrics.py)
    # One error shape (RFC 9457), declared in the OpenAPI document; JSON bodies whatever their
    # Content-Type (curl -d): services/api/errors.py, openapi_problems.py, content_type.py.
    install_error_handlers(app)
    install_problem_schema(app)
    app.add_middleware(JsonBodies)
    for module in (health, metrics, ingest, competitions, leaderboards, standings, pages, stream, managers):
        app.include_router(module.router)
    app.include_router(challenges.router)  # issue 18: sprints with winners
    app.include_router(console_pages.router)
    # Access and the console's API (issue 9): services/api/access.py says who may call what.
    for module in (auth, console, console_org, console_access, audit):
        app.include_router(module.router)
    # What-if preview and manual adjustments (issue 9): services/whatif, services/adjustments.
    for module in (preview, adjustments):
        app.include_router(module.router)
    # Month-end audit (issue 10): verify mode and explain.
    for module in (verify, explain):
        app.include_router(module.router)
    # Month-end awards (issue 10): period close, award runs, reports, approval.
    app.include_router(awards.router)
    # The 晨会 page's report (issue 18): services/history.
    app.include_router(morning.router)
    # 企业微信 robots per competition (issue 18): services/notify; the notifier is its own process.
    app.include_router(notifications.router)
    return app
