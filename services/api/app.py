"""The FastAPI application: ingest now; leaderboards, organisers and awards mount beside it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.api.routes import health, ingest
from services.publisher import Publisher
from services.settings import ServiceSettings
from streams.admin import ensure_topics


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap, settings.topics, settings.partitions)
        publisher = Publisher(settings.kafka_bootstrap, settings.topics)
        await publisher.start()
        app.state.settings = settings
        app.state.publisher = publisher
        try:
            yield
        finally:
            await publisher.stop()

    app = FastAPI(title="普惠金融 campaigns", lifespan=lifespan)
    app.include_router(health.router)
    app.include_router(ingest.router)
    return app
