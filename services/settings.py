"""API and sink settings, read once from the environment (prefix CAMPAIGNS_) at start-up."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas import Limits
from schemas.topics import Topics


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMPAIGNS_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    app_id: str = "campaigns"
    partitions: int = 4
    database_url: str = "sqlite:///.run/campaigns.db"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    max_message_bytes: int = 64 * 1024
    max_future_seconds: int = 300
    max_batch_lines: int = 10_000
    sink_batch_size: int = 500
    # python -m services.demo: events per second, every Nth record deliberately bad (0 = never),
    # and a seed for repeatable runs (none = different every run).
    demo_rate: float = Field(default=3.0, gt=0, le=1000)
    demo_bad_every: int = Field(default=50, ge=0)
    demo_seed: int | None = None

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    @property
    def limits(self) -> Limits:
        return Limits(max_bytes=self.max_message_bytes, max_future=timedelta(seconds=self.max_future_seconds))
