"""The scenarios' databases: a SQLite file, a schema of its own in the project's PostgreSQL, or a
private PostgreSQL cluster that one scenario stops and starts (the shared one serves other test
runs at the same time, so the outage scenario never stops it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.ports import free_port
from tests.support.processes import ROOT

PG_SH = ROOT / "deploy" / "postgres" / "pg.sh"


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'ledger.db'}"


def shared_pg_url() -> str:
    """The project's PostgreSQL (deploy/postgres/pg.sh), as deploy/local/faults.sh exports it."""
    configured = os.environ.get("CAMPAIGNS_TEST_PG_URL")
    if configured:
        return configured
    done = subprocess.run([str(PG_SH), "url"], capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


@asynccontextmanager
async def pg_schema() -> AsyncIterator[str]:
    """A URL to an empty schema of its own in the shared PostgreSQL; dropped afterwards."""
    base = make_url(shared_pg_url())
    admin = create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    schema = f"faults_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                hide_password=False
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free loopback port, data under `base`.

    As root the server runs as the `postgres` OS user (PostgreSQL refuses root), as pg.sh does."""

    def __init__(self, base: Path) -> None:
        servers = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3].split(".")[0])
        )
        if not servers:
            raise RuntimeError(
                "no PostgreSQL server under /usr/lib/postgresql (deploy/postgres/pg.sh install)"
            )
        self.bin = servers[-1].parent
        self.base = base
        self.data = base / "data"
        self.log = base / "postgres.log"
        self.port = free_port()
        self._as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        done = subprocess.run(
            [*prefix, *args], cwd="/", capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} {args[1]} failed ({done.returncode}): {done.stderr[-800:]}"
            )

    def init(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            shutil.chown(self.base, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--no-locale",
            "--auth-local=trust", "--auth-host=trust",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# tests/faults: private cluster\n"
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = ''\n"
                "fsync = off\n"
            )

    def start(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"), "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60"
        )

    def stop(self) -> None:
        """Fast shutdown: open sessions are terminated, new connections refused."""
        self._run(str(self.bin / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60")

    def running(self) -> bool:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        status = [*prefix, str(self.bin / "pg_ctl"), "status", "-D", str(self.data)]
        return subprocess.run(status, cwd="/", capture_output=True, timeout=30, check=False).returncode == 0

    def remove(self) -> None:
        """Stop if running and delete the data directory (its log stays beside it)."""
        if self.data.exists():
            if self.running():
                self.stop()
            shutil.rmtree(self.data, ignore_errors=True)
