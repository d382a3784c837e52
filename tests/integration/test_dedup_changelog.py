"""Dedup's seen ids move with the partition: a worker on a machine that never held it (no local
files) restores them from the changelog topic and still drops a copy; a restart on a machine that
has the files reads only the changelog's tail."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from schemas.topics import Topics
from tests.support.events import opened, wire
from tests.support.kafka import produce, read_all, wait_for
from tests.support.processes import worker

RESTORED = re.compile(
    r"dedup: partition (\d+): restored from \S+ offsets (\d+) to (\d+) \((\d+) records, (\d+) skipped\)"
)


def restores(log_text: str) -> dict[int, tuple[int, int, int, int]]:
    """The last restore logged per partition: (start, end, records, skipped)."""
    return {int(p): (int(a), int(b), int(n), int(s)) for p, a, b, n, s in RESTORED.findall(log_text)}


async def test_a_partition_on_a_new_machine_still_drops_a_copy_of_an_id_seen_before(
    prefix: str, topics: Topics, tmp_path: Path
) -> None:
    # One manager, so every event shares one accepted partition.
    await produce(
        topics.raw, [(b"cm-x", wire(opened("e1", cm_id="cm-x"))), (b"cm-x", wire(opened("e2", cm_id="cm-x")))]
    )
    machine_a = tmp_path / "dedup-a"
    a = worker(prefix, tmp_path, name="a", CAMPAIGNS_DEDUP_DIR=str(machine_a)).start()
    try:
        await wait_for(topics.validated, lambda rs: len(rs) >= 2)
    finally:
        a.stop()
    assert any(machine_a.glob("*.sqlite3"))
    shutil.rmtree(machine_a)  # machine A is gone with its disk
    (partition,) = {r.partition for r in await read_all(topics.dedup_seen)}

    # A copy of e1 (another offset, so no replay) and a new event, for worker B on machine B.
    await produce(
        topics.raw, [(b"cm-x", wire(opened("e1", cm_id="cm-x"))), (b"cm-x", wire(opened("e3", cm_id="cm-x")))]
    )
    machine_b = tmp_path / "dedup-b"
    b = worker(prefix, tmp_path, name="b", CAMPAIGNS_DEDUP_DIR=str(machine_b)).start()
    try:
        duplicates = await wait_for(topics.duplicates, lambda rs: len(rs) >= 1, settle=2.0)
        validated = await wait_for(topics.validated, lambda rs: len(rs) >= 3, settle=1.0)
    finally:
        b.stop()
    ids = [json.loads(r.value or b"")["event_id"] for r in validated]
    assert sorted(ids) == ["e1", "e2", "e3"], ids
    dropped = [json.loads(r.value or b"") for r in duplicates]
    assert [(d["event_id"], d["copies"], d["first_offset"]) for d in dropped] == [("e1", 2, 0)]
    start, end, records, skipped = restores(b.output())[partition]
    assert (start, records, skipped) == (0, 1, 0), b.output()[-3000:]

    # Machine B restarts with its files: it reads only what the changelog gained after its
    # checkpoint (its own batch's record), not A's record again.
    await produce(topics.raw, [(b"cm-x", wire(opened("e2", cm_id="cm-x")))])
    again = worker(prefix, tmp_path, name="b-again", CAMPAIGNS_DEDUP_DIR=str(machine_b)).start()
    try:
        await wait_for(topics.duplicates, lambda rs: len(rs) >= 2, settle=1.0)
    finally:
        again.stop()
    start_again, _, records_again, _ = restores(again.output())[partition]
    assert start_again == end > 0
    assert records_again == 1  # B's own batch (e3 and the copy of e1)
    assert len(await read_all(topics.validated)) == 3
