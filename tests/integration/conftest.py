from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.topics import Topics
from tests.support.processes import Process, new_prefix, worker


@pytest.fixture
def prefix() -> str:
    return new_prefix()


@pytest.fixture
def topics(prefix: str) -> Topics:
    return Topics(prefix)


@pytest.fixture
def running_worker(prefix: str, tmp_path: Path) -> Iterator[Process]:
    proc = worker(prefix, tmp_path).start()
    yield proc
    proc.stop()
