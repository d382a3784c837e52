"""The partition layout's two operator moves, as tests make them: `kafka-topics --alter
--partitions` behind the workers' backs, and `python -m streams.layout grow` into a new set."""

from __future__ import annotations

import subprocess
import sys

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions

from tests.support.kafka import BOOTSTRAP
from tests.support.processes import ROOT, isolated_env


async def alter_partitions(topic: str, count: int) -> None:
    """What `kafka-topics --alter --partitions <count>` does."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=15000)
    await admin.start()
    try:
        await admin.create_partitions({topic: NewPartitions(total_count=count)})
    finally:
        await admin.close()


def run_grow(prefix: str, partitions: int, to_prefix: str) -> subprocess.CompletedProcess[bytes]:
    """`python -m streams.layout grow` from the set `prefix` into `to_prefix`, as an operator runs it."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "streams.layout",
            "grow",
            "--partitions",
            str(partitions),
            "--to-prefix",
            to_prefix,
        ],
        cwd=ROOT,
        env=isolated_env(prefix),
        capture_output=True,
        timeout=180,
    )
