"""The notifier as a process against a real local HTTP receiver, SIGKILLed inside its send
window (streams/pipeline/fault.py points), on PostgreSQL.

What it guarantees, and this shows: every message reaches the robot (none lost); one whose POST
succeeded but whose `sent_at` the kill prevented is sent again once, marked 可能重复 and with the
same key tag, so the receiver sees every key once after dropping repeats of a tag (the robot has
no idempotency key: the gap is the few milliseconds between the answer and the commit); a kill
after the intent but before the POST sends it once, also marked (the notifier cannot tell the two
apart). No key is sent twice in any other way, and no robot gets more than 20 POSTs a minute."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from services.notify import outbox
from services.notify.config import checked
from services.notify.digest import RESENT, tag
from services.notify.messages import Notice
from services.store import Store
from tests.support.processes import ROOT, Process, isolated_env, new_prefix
from tests.support.robot import Robot

pytestmark = pytest.mark.integration


def notifier(tmp_path: Path, database_url: str, **extra: str) -> Process:
    env = isolated_env(
        new_prefix(), CAMPAIGNS_DATABASE_URL=database_url, CAMPAIGNS_NOTIFY_POLL_SECONDS="0.2", **extra
    )
    return Process(
        [sys.executable, "-m", "services.notify"], env, tmp_path / "notify.log", ready_text="notify: ready"
    )


def notices(first: int, count: int) -> list[Notice]:
    return [
        Notice(
            f"rank:c1:cm-{i}:1:{i}",
            "c1",
            "rank",
            f"🏅 测试竞赛：**经理{i:03d}** 升至第 **1** 名（{i}0.00 分）",
        )
        for i in range(first, first + count)
    ]


def killed_at(tmp_path: Path, database_url: str, point: str, timeout: float = 60) -> str:
    """Run a notifier armed to SIGKILL itself at `point` until it does; its output."""
    process = notifier(tmp_path, database_url, CAMPAIGNS_FAULT=f"{point}:1")
    log = tmp_path / f"notify-{point}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(process.args, env=process.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        proc.wait(timeout)
    output = log.read_text()
    assert proc.returncode == -signal.SIGKILL, output
    assert f"fault: SIGKILL at {point} #1" in output, output
    return output


def until_all_sent(store: Store, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while outbox.counts(store, "c1")["waiting"]:
        assert time.monotonic() < deadline, outbox.counts(store, "c1")
        time.sleep(0.2)


@pytest.fixture
def robot() -> Iterator[Robot]:
    started = Robot().start()
    yield started
    started.stop()


def test_a_kill_between_the_send_and_its_record_loses_nothing(
    pg_url: str, robot: Robot, tmp_path: Path
) -> None:
    with Store.from_url(pg_url) as store:
        store.create_schema()
        now = datetime.now(UTC)
        outbox.save_config(store, "c1", checked(robot.url, 5, ["badge"], True), "test", now)
        first = notices(0, 40)
        outbox.record(store, first, now)

        # 1. killed after the robot answered ok, before sent_at was written
        killed_at(tmp_path, pg_url, "notify.after_post")
        assert len(robot.received) == 1
        cut_off = set(robot.received[0].tags)
        assert cut_off and RESENT not in robot.received[0].content
        with store._reading() as conn:
            in_doubt = conn.execute(
                text("SELECT count(*) FROM notify_digests WHERE intent_at IS NOT NULL AND sent_at IS NULL")
            ).scalar_one()
        assert in_doubt == 1, "the kill landed inside the window: intent recorded, sent_at not"

        again = notifier(tmp_path, pg_url).start()
        try:
            until_all_sent(store)
        finally:
            again.stop()
        seen = Counter(t for r in robot.received for t in r.tags)
        assert set(seen) == {tag(n.key) for n in first}, "a message lost"
        assert {t for t, n in seen.items() if n > 1} == cut_off, "only the cut-off digest is sent again"
        assert all(n <= 2 for n in seen.values())
        repeats = [r for r in robot.received[1:] if set(r.tags) & cut_off]
        assert len(repeats) == 1 and RESENT in repeats[0].content, "the repeat says it may be one"

        # 2. killed after the intent, before the POST: sent once after the restart
        before = len(robot.received)
        second = notices(100, 3)
        outbox.record(store, second, datetime.now(UTC))
        killed_at(tmp_path, pg_url, "notify.before_post")
        assert len(robot.received) == before
        again = notifier(tmp_path, pg_url).start()
        try:
            until_all_sent(store)
        finally:
            again.stop()
        late = Counter(t for r in robot.received[before:] for t in r.tags)
        assert late == Counter({tag(n.key): 1 for n in second})
        assert robot.most_in_a_minute() <= 20
