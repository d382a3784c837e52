"""A pytest plugin: names the Kafka broker the run really used, at the end of the output."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.support.kafka import BOOTSTRAP

used: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _record_broker(request: pytest.FixtureRequest) -> None:
    if any(
        item.get_closest_marker("integration") or item.get_closest_marker("e2e")
        for item in request.session.items
    ):
        used.append(BOOTSTRAP)


async def _describe() -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=5000)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        brokers = ", ".join(f"node {b['node_id']} {b['host']}:{b['port']}" for b in cluster["brokers"])
        return f"KRaft cluster {cluster['cluster_id']} ({brokers})"
    finally:
        await admin.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not used:
        return
    try:
        description = asyncio.run(_describe())
    except Exception as exc:  # the summary must never hide the test results
        description = f"{BOOTSTRAP} (not reachable at the end: {exc})"
    terminalreporter.write_line(f"Kafka tests ran on the real broker: {description}")
