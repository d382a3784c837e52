"""Settings, read once from the environment (prefix CAMPAIGNS_) when a process starts.

`SharedSettings` holds what the worker and the services must agree on (broker, topic names,
validation limits); each process type adds its own fields."""

from __future__ import annotations

from datetime import timedelta

from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas import Limits
from schemas.topics import Topics


class SharedSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMPAIGNS_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    app_id: str = "campaigns"
    partitions: int = 4
    max_message_bytes: int = 64 * 1024
    max_future_seconds: int = 300

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    @property
    def limits(self) -> Limits:
        return Limits(max_bytes=self.max_message_bytes, max_future=timedelta(seconds=self.max_future_seconds))


class StreamSettings(SharedSettings):
    """The faust worker's settings."""

    # memory:// rebuilds tables from their changelog topics at start; rocksdb:// in production.
    store: str = "memory://"
    data_dir: str = ".run/worker"
    commit_interval_seconds: float = 1.0
    # A SIGKILLed worker stays in its consumer group until this expires; its partitions (and
    # their scoring) wait that long for a replacement. faust's default is 60 s.
    session_timeout_seconds: float = 10.0
    heartbeat_interval_seconds: float = 3.0
