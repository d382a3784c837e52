"""A pytest plugin: the test run leaves no process behind.

Every process a test starts inherits PYTEST_CAMPAIGNS_SESSION (set when the run begins), and so
do the processes those start: what-if workers, multiprocessing's resource tracker, Chromium,
run.sh's background processes. When the run ends (after the session's fixtures are torn down),
any process still carrying this run's mark is named, killed, and fails the run: a stopped API
whose pool outlived it used to stay attached to PID 1 after every `make test`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

MARK = "PYTEST_CAMPAIGNS_SESSION"
# Processes told to stop at the end of the last test may still be on their way out.
GRACE_SECONDS = float(os.environ.get("PYTEST_LEFTOVERS_GRACE_SECONDS", "10"))


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(MARK, uuid.uuid4().hex)


def marked(value: str) -> list[tuple[int, str]]:
    """(pid, command line) of the live processes carrying MARK=value, this one excluded."""
    mark = f"{MARK}={value}".encode()
    found: list[tuple[int, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        # multiprocessing's resource tracker of this very process (a test used a process pool
        # here) ends when this process does: not a leftover.
        own_tracker = int(ppid) == os.getpid() and "multiprocessing.resource_tracker" in cmdline
        if state != "Z" and not own_tracker:
            found.append((int(entry.name), cmdline))
    return found


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    value = os.environ.get(MARK)
    if not value or not Path("/proc").is_dir():
        return
    deadline = time.monotonic() + GRACE_SECONDS
    left = marked(value)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = marked(value)
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"the test run left {len(left)} processes running (killed now):"]
    lines += [f"  pid {pid}: {cmdline[:200]}" for pid, cmdline in left]
    for pid, _ in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if reporter is not None:
        for line in lines:
            reporter.write_line(line, red=True)
    if session.exitstatus == 0:
        session.exitstatus = 1
