"""The partition layout guard on the real broker: the first start records it, a later start on
topics whose partition count was changed behind the worker's back refuses to run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from schemas.topics import Topics
from streams.layout import recorded_layout
from tests.support.kafka import BOOTSTRAP, drop_topics
from tests.support.layout import alter_partitions, run_grow
from tests.support.processes import ROOT, new_prefix, worker


async def test_a_worker_refuses_topics_altered_behind_its_back(
    prefix: str, topics: Topics, tmp_path: Path
) -> None:
    first = worker(prefix, tmp_path).start()
    first.stop()
    recorded = await recorded_layout(BOOTSTRAP, topics)
    assert recorded == dict.fromkeys(topics.partitioned(), 4)

    # What `kafka-topics --alter --partitions 6` does.
    await alter_partitions(topics.validated, 6)

    again = worker(prefix, tmp_path, name="again")
    refused = subprocess.run(again.args, cwd=ROOT, env=again.env, capture_output=True, timeout=120)

    assert refused.returncode != 0
    message = refused.stderr.decode()
    assert f"{topics.validated} has 6 partitions, recorded with 4" in message
    assert "python -m streams.layout grow" in message
    assert "Worker]: Ready" not in refused.stdout.decode()
    # The record is not rewritten by a refused start: the next start refuses too.
    assert await recorded_layout(BOOTSTRAP, topics) == recorded

    shown = subprocess.run(
        [sys.executable, "-m", "streams.layout", "show"],
        cwd=ROOT,
        env=again.env,
        capture_output=True,
        timeout=60,
    )
    assert shown.returncode == 1
    (line,) = [row for row in shown.stdout.decode().splitlines() if row.startswith(topics.validated)]
    assert line.split() == [topics.validated, "4", "6", "<-", "differs"]


async def test_grow_is_the_way_back_from_an_altered_topic(
    prefix: str, topics: Topics, tmp_path: Path
) -> None:
    """The copy reads the altered set as it is: the refusal's advice can be followed."""
    first = worker(prefix, tmp_path).start()
    first.stop()
    await alter_partitions(topics.validated, 6)
    target = new_prefix()
    try:
        grown = run_grow(prefix, 6, target)
        assert grown.returncode == 0, grown.stderr.decode()
        new = Topics(target)
        assert await recorded_layout(BOOTSTRAP, new) == dict.fromkeys(new.partitioned(), 6)
        # Growing "to" the altered count is still more than the recorded 4: allowed; to 4 is not.
        again = run_grow(prefix, 4, new_prefix())
        assert again.returncode == 2 and "grow to more than that" in again.stderr.decode()
    finally:
        await drop_topics(target)
