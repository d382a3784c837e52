"""The FastAPI application: ingest, competitions, leaderboards and the wall page; organisers'
console and awards mount beside them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.api.errors import install_error_handlers
from services.api.routes import competitions, health, ingest, leaderboards, pages, standings
from services.publisher import Publisher
from services.readmodel import ReadModel
from services.settings import ServiceSettings
from services.store import Store
from streams.admin import ensure_topics


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap, settings.topics, settings.partitions)
        publisher = Publisher(settings.kafka_bootstrap, settings.topics)
        await publisher.start()
        read_model = ReadModel(settings.kafka_bootstrap, settings.topics)
        await read_model.start()
        # Only read, for /readyz: the sink's heartbeat and parked records. Connects on first use.
        store = Store.from_url(settings.database_url)
        app.state.settings = settings
        app.state.publisher = publisher
        app.state.read_model = read_model
        app.state.store = store
        try:
            yield
        finally:
            await read_model.stop()
            await publisher.stop()
            store.close()

    app = FastAPI(title="普惠金融 campaigns", lifespan=lifespan)
    install_error_handlers(app)
    for module in (health, ingest, competitions, leaderboards, standings, pages):
        app.include_router(module.router)
    return app
