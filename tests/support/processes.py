"""Workers and the API as real OS processes, so tests can SIGKILL and restart them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.support.auth import provision

ROOT = Path(__file__).resolve().parents[2]


def isolated_env(prefix: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CAMPAIGNS_TOPIC_PREFIX=prefix,
        CAMPAIGNS_APP_ID=f"{prefix}app",
        CAMPAIGNS_KAFKA_BOOTSTRAP=os.environ.get("CAMPAIGNS_TEST_KAFKA", "127.0.0.1:9092"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def new_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


class Process:
    """A child process whose output goes to a log file the test can wait on."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, ready_text: str) -> None:
        self.args = args
        self.env = env
        self.log_path = log_path
        self.ready_text = ready_text
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self, timeout: float = 90.0) -> Process:
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.args} exited {self.proc.returncode}:\n{self.tail()}")
            if self.ready_text in self.output():
                return self
            time.sleep(0.2)
        raise RuntimeError(f"{self.args} not ready in {timeout}s:\n{self.tail()}")

    def output(self) -> str:
        with self.log_path.open("rb") as f:
            f.seek(self._log_offset)
            return f.read().decode("utf-8", "replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no final commit, no flush."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def worker(prefix: str, log_dir: Path, name: str = "worker", **extra: str) -> Process:
    env = isolated_env(prefix, CAMPAIGNS_DATA_DIR=str(log_dir / f"{name}-data"), **extra)
    return Process(
        [sys.executable, "-m", "streams", "worker", "-l", "info"],
        env,
        log_dir / f"{name}.log",
        ready_text="Worker]: Ready",
    )


def api(prefix: str, log_dir: Path, port: int, **extra: str) -> Process:
    # Plain HTTP on loopback: a Secure session cookie would never come back. The API's database
    # gets a test admin and keys first (tests.support.auth), looked up by the API's URL.
    env = isolated_env(prefix, CAMPAIGNS_API_PORT=str(port), CAMPAIGNS_COOKIE_SECURE="false", **extra)
    if "CAMPAIGNS_DATABASE_URL" in extra:
        provision(f"http://127.0.0.1:{port}", extra["CAMPAIGNS_DATABASE_URL"])
    return Process(
        [sys.executable, "-m", "services.api"], env, log_dir / "api.log", ready_text="Uvicorn running"
    )


def sink(prefix: str, log_dir: Path, database_url: str, **extra: str) -> Process:
    env = isolated_env(prefix, CAMPAIGNS_DATABASE_URL=database_url, **extra)
    return Process(
        [sys.executable, "-m", "services.sink"], env, log_dir / "sink.log", ready_text="sink: ready"
    )
