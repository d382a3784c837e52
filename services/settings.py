"""API, sink and demo settings, read once from the environment (prefix CAMPAIGNS_) at start-up."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr

from streams.settings import SharedSettings


class ServiceSettings(SharedSettings):
    database_url: str = "sqlite:///.run/campaigns.db"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    max_batch_lines: int = 10_000
    # HTTP bodies are read up to these sizes and no further (413 beyond): one event or one
    # competition definition, and an NDJSON batch. An event body above the message limit but
    # within max_body_bytes is still answered record by record (422 oversized, dead-lettered).
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_batch_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    # A body not fully received this long after the request started is answered 408.
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    sink_batch_size: int = 500
    # A poll of the ledger that finds fewer than sink_batch_size records waits this long once for
    # more (0: never): fewer, bigger batches, for at most this much more delay in the SQL ledger.
    sink_linger_seconds: float = Field(default=0.2, ge=0, le=5)
    # The sink writes a heartbeat row this often; /readyz calls a sink stale after sink_stale_seconds
    # without one. expect_sink=false: an API deployed without a sink does not wait for one.
    sink_heartbeat_seconds: float = Field(default=5.0, gt=0)
    sink_stale_seconds: float = Field(default=30.0, gt=0)
    expect_sink: bool = True
    # The sink's own /healthz and /readyz (services/sink/health.py), for an orchestrator's probes;
    # 0 = not served. 0.0.0.0 in a container, where the probes come from outside the pod.
    sink_health_host: str = "127.0.0.1"
    sink_health_port: int = 0
    # Each /readyz check gets at most this long (a broker or database that does not answer).
    ready_check_seconds: float = Field(default=2.0, gt=0)
    # python -m services.demo: events per second, every Nth record deliberately bad (0 = never),
    # and a seed for repeatable runs (none = different every run).
    demo_rate: float = Field(default=3.0, gt=0, le=1000)
    demo_bad_every: int = Field(default=50, ge=0)
    demo_seed: int | None = None
    # Boards' push (SSE, docs/boards.md): a `: ping` comment this often; each client's queue holds
    # at most sse_queue_size messages (then it gets a fresh snapshot instead); the last
    # sse_replay_size messages are kept for clients resuming with Last-Event-ID; a client gets a
    # new board snapshot at most every sse_snapshot_seconds. The read model starts following the
    # ledger ledger_tail records before the end of each partition (the manager page's "recent").
    sse_ping_seconds: float = Field(default=15.0, gt=0)
    sse_queue_size: int = Field(default=1024, ge=1)
    sse_replay_size: int = Field(default=10_000, ge=0)
    sse_snapshot_seconds: float = Field(default=0.5, ge=0)
    ledger_tail: int = Field(default=500, ge=0)
    # Pins the boards' clock (the start of "today" for rank_change, the headcount day) so a test can
    # cross Shanghai midnight unharmed; unset, the boards follow the wall clock.
    board_clock: datetime | None = None
    # Access (docs/access.md). Only "development" lets `make run` make a dev admin and keys; in
    # production nothing has a default secret. Session cookies are signed with session_secret
    # (unset: a random one per process, so sessions end when the API restarts); cookie_secure
    # unset means Secure in production only.
    environment: Literal["development", "production"] = "production"
    session_secret: SecretStr | None = None
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    cookie_secure: bool | None = None
    # What-if preview (services/whatif): processes sharing one preview's partitions (spawned on
    # first use), and how many more previews may wait behind the running one before a 429.
    whatif_processes: int = Field(default=2, ge=1, le=16)
    whatif_max_waiting: int = Field(default=1, ge=0, le=10)
    # Month-end freeze gate (services/awards/gate.py): a freeze waits up to freeze_wait_seconds for
    # the stages and the sink to reach the end offsets taken when it was asked for, then answers
    # 409 naming what lags. freeze_gate=false skips the position check (an API deployed without
    # the streams, e.g. a test of the month-end layer alone); parked records are checked anyway.
    freeze_gate: bool = True
    freeze_wait_seconds: float = Field(default=5.0, ge=0, le=120)
    # The scheduled freeze (services/awards/closing.py): every auto_freeze_seconds the API freezes
    # each awards period whose cutoff has passed, through the same gate (0: off, freeze by hand or
    # by an award run). Several API replicas may all run it: a freeze happens once.
    auto_freeze_seconds: float = Field(default=0.0, ge=0)
    # Publishing (services/api/relay.py): a publish or close answers once its fan-out to the
    # workers is done or after publish_wait_seconds ("fan-out pending"; the relay goes on). The
    # relay also looks for pending fan-outs every fanout_poll_seconds; /readyz reports one pending
    # for longer than fanout_stale_seconds as not ready.
    publish_wait_seconds: float = Field(default=10.0, ge=0)
    fanout_poll_seconds: float = Field(default=5.0, gt=0)
    fanout_stale_seconds: float = Field(default=60.0, gt=0)
    # Kill tests only: "<point>:<n>" SIGKILLs the API at that point (streams/pipeline/fault.py).
    fault: str = ""
    # 企业微信 group-robot messages (services/notify): the notifier looks for news and due sends
    # every notify_poll_seconds and holds each robot to notify_per_minute POSTs a minute (the
    # robot's own limit is 20); one POST waits notify_timeout_seconds at most.
    notify_poll_seconds: float = Field(default=1.0, gt=0)
    notify_per_minute: int = Field(default=20, ge=1, le=20)
    notify_timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def sink_name(self) -> str:
        """The sink's consumer group, and the name its heartbeat row goes under."""
        return f"{self.app_id}-sink"
