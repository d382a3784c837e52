from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.topics import Topics
from tests.support.kafka import drop_topics
from tests.support.processes import Process, new_prefix, worker

pytest_plugins = ["tests.support.databases", "tests.support.kafka_report", "tests.support.leftovers"]

_TIERS = {"integration": pytest.mark.integration, "e2e": pytest.mark.e2e}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The folder is the tier: tests/integration and tests/e2e need the real broker and database."""
    for item in items:
        tier = Path(str(item.path)).relative_to(Path(__file__).parent).parts[0]
        if tier in _TIERS:
            item.add_marker(_TIERS[tier])


@pytest.fixture
def prefix() -> Iterator[str]:
    """Every Kafka-using test gets its own topics and consumer groups on the shared broker, and
    its topics are deleted afterwards (the processes using them have stopped by then)."""
    name = new_prefix()
    yield name
    try:
        asyncio.run(drop_topics(name))
    except Exception as exc:  # a test that never reached the broker, or a broker gone by now
        logging.getLogger(__name__).warning("could not delete topics of %s: %r", name, exc)


@pytest.fixture
def topics(prefix: str) -> Topics:
    return Topics(prefix)


@pytest.fixture
def running_worker(prefix: str, tmp_path: Path) -> Iterator[Process]:
    proc = worker(prefix, tmp_path).start()
    yield proc
    proc.stop()
