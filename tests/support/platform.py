"""The whole platform as `make run` starts it: deploy/local/run.sh itself (worker, sink, API, demo,
dev credentials), on a run directory, ports and topic prefix of its own and the shared broker
(CAMPAIGNS_RUN_KAFKA=external: the script neither starts nor stops it), so it runs beside a
developer's platform and other tests.

Every process the script starts, and every process those start (what-if workers,
multiprocessing's resource tracker), inherits CAMPAIGNS_RUN_DIR; `leftovers()` finds them by it
in /proc, whatever their parent is now.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.admin.dev_credentials import parse
from tests.support.ports import free_port
from tests.support.processes import ROOT, new_prefix

RUN_SH = ROOT / "deploy" / "local" / "run.sh"


@dataclass(frozen=True)
class Leftover:
    pid: int
    ppid: int
    cmdline: str


@dataclass
class Platform:
    run_dir: Path
    prefix: str = field(default_factory=new_prefix)
    api_port: int = field(default_factory=free_port)
    health_port: int = field(default_factory=free_port)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGNS_")}
        env.update(
            CAMPAIGNS_RUN_DIR=str(self.run_dir),
            CAMPAIGNS_RUN_KAFKA="external",
            CAMPAIGNS_KAFKA_BOOTSTRAP=os.environ.get("CAMPAIGNS_TEST_KAFKA", "127.0.0.1:9092"),
            CAMPAIGNS_TOPIC_PREFIX=self.prefix,
            CAMPAIGNS_APP_ID=f"{self.prefix}app",
            CAMPAIGNS_API_PORT=str(self.api_port),
            CAMPAIGNS_HEALTH_PORT=str(self.health_port),
            PYTHONUNBUFFERED="1",
        )
        return env

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.run_dir / 'campaigns.db'}"

    @property
    def credentials_file(self) -> Path:
        return self.run_dir / "dev-credentials"

    def credentials(self) -> dict[str, str]:
        return parse(self.credentials_file.read_text(encoding="utf-8"))

    def script(self, action: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """`deploy/local/run.sh ACTION` as `make` runs it; fails with the script's output."""
        done = subprocess.run(
            [str(RUN_SH), action], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            logs = "\n".join(
                f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs().values()
            )
            raise AssertionError(
                f"run.sh {action} exited {done.returncode}:\n{done.stdout}\n{done.stderr}\n{logs}"
            )
        return done

    def start(self) -> str:
        return self.script("start").stdout

    def stop(self) -> str:
        return self.script("stop").stdout

    def stop_process(self, name: str, timeout: float = 30) -> None:
        """SIGTERM one of the platform's processes (e.g. the demo, for a quiet stream), by its pid file."""
        pid_file = self.run_dir / "pids" / f"{name}.pid"
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while Path(f"/proc/{pid}").exists() and not _zombie(pid):
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} (pid {pid}) did not stop in {timeout}s")
            time.sleep(0.2)

    def logs(self) -> dict[str, Path]:
        folder = self.run_dir / "logs"
        return {p.stem: p for p in sorted(folder.glob("*.log"))} if folder.is_dir() else {}

    def leftovers(self) -> list[Leftover]:
        """Processes still running with this run's CAMPAIGNS_RUN_DIR in their environment."""
        mark = f"CAMPAIGNS_RUN_DIR={self.run_dir}".encode()
        found: list[Leftover] = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if mark not in (entry / "environ").read_bytes().split(b"\0"):
                    continue
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:  # gone meanwhile, or not ours to read
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if state != "Z":
                found.append(Leftover(int(entry.name), int(ppid), cmdline.strip()))
        return found

    def kill_leftovers(self) -> None:
        """After a failed test: SIGKILL what this run (and only this run) left behind."""
        for process in self.leftovers():
            with contextlib.suppress(OSError):
                os.kill(process.pid, signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
