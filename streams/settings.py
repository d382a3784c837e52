"""Worker settings, read once from the environment (prefix CAMPAIGNS_) at start-up."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class StreamSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMPAIGNS_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    app_id: str = "campaigns"
    partitions: int = 4
    # memory:// rebuilds tables from their changelog topics at start; rocksdb:// in production.
    store: str = "memory://"
    data_dir: str = ".run/worker"
    max_message_bytes: int = 64 * 1024
    max_future_seconds: int = 300
    commit_interval_seconds: float = 1.0
    # A SIGKILLed worker stays in its consumer group until this expires; its partitions (and
    # their scoring) wait that long for a replacement. faust's default is 60 s.
    session_timeout_seconds: float = 10.0
    heartbeat_interval_seconds: float = 3.0
