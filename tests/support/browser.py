"""A real headless Chromium, driven from its command line: the DOM after the page's scripts ran,
and screenshots. `make install` installs Debian's chromium; without it browser tests fail, they
do not skip, so a machine that cannot run them is noticed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

# The machine's network is closed: without the background-networking flags Chromium keeps
# trying to reach Google's hosts. --no-sandbox because the tests run as root.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


class BrowserError(RuntimeError):
    """Chromium is missing, or it exited without producing what was asked."""


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        raise BrowserError("chromium is not on PATH: run `make install` (installs Debian's chromium)")
    return path


def _run(url: str, *extra: str, timeout: float) -> str:
    """Run Chromium once on a fresh profile and return its stdout."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        args = [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, url]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as e:
            raise BrowserError(f"chromium did not finish {url} in {timeout}s") from e
    if done.returncode != 0:
        raise BrowserError(f"chromium exited {done.returncode} on {url}:\n{done.stderr[-3000:]}")
    return done.stdout


def rendered_dom(url: str, budget_ms: int = 5000, timeout: float = 60.0) -> str:
    """The serialised DOM once the page has had `budget_ms` of virtual time to run its scripts.

    Virtual time stands still while requests are in flight, so fetches the page starts in that
    budget complete before the DOM is dumped."""
    dom = _run(url, f"--virtual-time-budget={budget_ms}", "--dump-dom", timeout=timeout)
    if "<html" not in dom:
        raise BrowserError(f"chromium dumped no document for {url}: {dom[:500]!r}")
    return dom


def screenshot(
    url: str,
    path: Path,
    size: tuple[int, int] = (1920, 1080),
    budget_ms: int = 5000,
    timeout: float = 60.0,
) -> Path:
    """A PNG of the page after `budget_ms` of virtual time, at the given window size."""
    path.unlink(missing_ok=True)
    _run(
        url,
        f"--virtual-time-budget={budget_ms}",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={path}",
        timeout=timeout,
    )
    if not path.is_file():
        raise BrowserError(f"chromium wrote no screenshot of {url} to {path}")
    return path
