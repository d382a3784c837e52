"""States stored at checkpoints, through the real broker (streams/pipeline/checkpoints.py): a
worker killed with many batches' states only in its memory comes back to the batch result, by
scoring the records after the checkpoint again; and a partition gone quiet stores its states."""

from __future__ import annotations

import re
from pathlib import Path

from schemas.records import RULES_KEY, through_of
from schemas.topics import Topics
from tests.integration.test_scoring_faults import (
    COMPETITIONS,
    SMALL_BATCHES,
    assert_ended_as_the_batch_result,
    run_until_killed,
)
from tests.support.kafka import read_all
from tests.support.processes import new_prefix, worker
from tests.support.random_events import seeded
from tests.support.scoring import converge, expected_standings, publish, send_events, stored_standings

SCORED_AGAIN = re.compile(r"score: partition (\d+): .* offsets (\d+) to (\d+) scored again")
# No checkpoint but the one each rule change makes: every state the doomed worker scores after
# the rules is in its memory only when it dies.
RARE = {"CAMPAIGNS_STATE_CHECKPOINT_SECONDS": "300", "CAMPAIGNS_STATE_IDLE_SECONDS": "60"}


async def test_a_worker_killed_between_checkpoints_scores_the_tail_again_and_ends_as_the_batch_result(
    tmp_path: Path,
) -> None:
    events = seeded(seed=20261205, count=2500, cms=12, tag="c")
    expected = expected_standings(events, COMPETITIONS)
    topics = Topics(new_prefix())
    point = "score.sent:8"
    doomed = worker(topics.prefix, tmp_path, CAMPAIGNS_FAULT=point, **SMALL_BATCHES, **RARE).start()
    before = await run_until_killed(topics, events, COMPETITIONS, doomed, point)
    assert before, "the doomed worker committed batches before it was killed"
    stored = [r for r in await read_all(topics.scoring_state) if r.key == RULES_KEY and r.value]
    assert stored and all(through_of(r.value or b"") is not None for r in stored)

    again = worker(topics.prefix, tmp_path, "again", **SMALL_BATCHES).start()
    try:
        got = await converge(topics, expected, timeout=300)
        tails = [tuple(map(int, m.groups())) for m in SCORED_AGAIN.finditer(again.output())]
        assert any(start < stop for _, start, stop in tails), again.tail()
        # Quiet now: every partition's states reach score.state within the idle time, and they
        # hold what the standings show.
        await converge(topics, expected, read=stored_standings)
    finally:
        again.stop()
    await assert_ended_as_the_batch_result(topics, got, expected, before)


async def test_states_a_killed_worker_never_stored_are_stored_by_the_next_one_with_no_new_record(
    tmp_path: Path,
) -> None:
    """Killed after its last batch and before any checkpoint: the standings are right, the stored
    states are not. The worker that takes the partitions scores the tail again at once and
    stores the states, although no record comes to make it."""
    events = seeded(seed=41, count=1200, cms=10, tag="q")
    expected = expected_standings(events, COMPETITIONS)
    topics = Topics(new_prefix())
    first = worker(topics.prefix, tmp_path, **SMALL_BATCHES, **RARE).start()
    try:
        await publish(topics, COMPETITIONS)
        await send_events(topics, events)
        await converge(topics, expected, timeout=300)
    finally:
        first.kill()
    stale = await stored_standings(topics)
    assert {k: stale.get(k) for k in expected} != expected, "the states were stored before the kill"

    second = worker(topics.prefix, tmp_path, "second").start()
    try:
        await converge(topics, expected, read=stored_standings)
    finally:
        second.stop()
    tails = [tuple(map(int, m.groups())) for m in SCORED_AGAIN.finditer(second.output())]
    assert any(start < stop for _, start, stop in tails), second.tail()
