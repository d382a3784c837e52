from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.processes import api


@pytest.fixture
def api_url(prefix: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An API process; a test marked `board_clock("<ISO time>")` pins its boards' clock there."""
    pinned = request.node.get_closest_marker("board_clock")
    extra = {"CAMPAIGNS_BOARD_CLOCK": pinned.args[0]} if pinned else {}
    port = free_port()
    proc = api(prefix, tmp_path, port, CAMPAIGNS_DATABASE_URL=f"sqlite:///{tmp_path / 'api.db'}", **extra)
    proc.start()
    yield f"http://127.0.0.1:{port}"
    proc.stop()
