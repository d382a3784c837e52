"""The run fails when a test leaves a process behind (tests/support/leftovers.py), and names it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.leftovers import MARK
from tests.support.processes import ROOT

_LEAVES_ONE = """
import os
import subprocess
import time
from pathlib import Path


def test_starts_a_process_and_forgets_it() -> None:
    child = subprocess.Popen(["sleep", "300"], start_new_session=True)
    # A real leftover has long been running when the run ends: wait until this one shows its
    # environment (with the run's mark) in /proc, as the plugin will read it.
    mark = ("PYTEST_CAMPAIGNS_SESSION=" + os.environ["PYTEST_CAMPAIGNS_SESSION"]).encode()
    deadline = time.monotonic() + 10
    while mark not in Path(f"/proc/{child.pid}/environ").read_bytes().split(b"\\0"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
"""

_TIDY = """
import subprocess


def test_starts_and_stops_a_process() -> None:
    child = subprocess.Popen(["sleep", "300"])
    child.terminate()
    child.wait()
"""


_OWN_POOL = """
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor


def test_uses_a_process_pool_in_the_test_process() -> None:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(os.getpid).result() != os.getpid()
"""


def _pytest(folder: Path, source: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_inner.py").write_text(source)
    # The inner run marks its own processes. It runs on the real clock: under make test's
    # `faketime` pass, libfaketime preloaded into the inner pytest and its `sleep` child kept the
    # plugin from seeing the child (the run passed with the process left behind).
    dropped = {MARK, "LD_PRELOAD", "FAKETIME", "FAKETIME_SHARED"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(PYTHONPATH=str(ROOT), PYTEST_LEFTOVERS_GRACE_SECONDS="1")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.support.leftovers",
            "-p",
            "no:cacheprovider",
            str(folder / "test_inner.py"),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_forgotten_process_fails_the_run_and_is_killed(tmp_path: Path) -> None:
    done = _pytest(tmp_path, _LEAVES_ONE)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the test run left 1 processes running (killed now):" in done.stdout
    assert "sleep 300" in done.stdout
    pid = int(done.stdout.split("pid ", 1)[1].split(":", 1)[0])
    assert (
        not Path(f"/proc/{pid}").exists()
        or "Z" in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]
    )


def test_a_tidy_run_passes(tmp_path: Path) -> None:
    done = _pytest(tmp_path, _TIDY)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "left" not in done.stdout


def test_the_runs_own_resource_tracker_is_not_a_leftover(tmp_path: Path) -> None:
    done = _pytest(tmp_path, _OWN_POOL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "left" not in done.stdout
