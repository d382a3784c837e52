"""API, sink and demo settings, read once from the environment (prefix CAMPAIGNS_) at start-up."""

from __future__ import annotations

from pydantic import Field

from streams.settings import SharedSettings


class ServiceSettings(SharedSettings):
    database_url: str = "sqlite:///.run/campaigns.db"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    max_batch_lines: int = 10_000
    sink_batch_size: int = 500
    # python -m services.demo: events per second, every Nth record deliberately bad (0 = never),
    # and a seed for repeatable runs (none = different every run).
    demo_rate: float = Field(default=3.0, gt=0, le=1000)
    demo_bad_every: int = Field(default=50, ge=0)
    demo_seed: int | None = None
