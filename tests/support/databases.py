"""Database fixtures (a pytest plugin): one contract suite, run against every database the store supports.

``store`` is parametrised over SQLite (a file in tmp_path) and PostgreSQL. PostgreSQL comes
from ``CAMPAIGNS_TEST_PG_URL`` when set (``make test``), otherwise from
``deploy/postgres/pg.sh start`` (stopped again at the end if this session started it).
If PostgreSQL cannot be had, its tests fail with the reason: a silent skip would let a
SQLite-only pass look like a full one. Each PostgreSQL test gets its own schema.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from services.store import Store

PG_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "postgres" / "pg.sh"
BACKENDS = ["sqlite", "postgresql"]

# Which server each backend really was, for the summary at the end of the run.
server_versions: dict[str, str] = {}


def _pg_sh(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PG_SCRIPT), command], capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    configured = os.environ.get("CAMPAIGNS_TEST_PG_URL")
    if configured:
        yield configured
        return
    was_running = _pg_sh("status").returncode == 0
    started = _pg_sh("start")
    if started.returncode != 0:
        pytest.fail(
            f"PostgreSQL could not be started with {PG_SCRIPT.name} start "
            f"(exit {started.returncode}):\n{started.stderr.strip()}",
            pytrace=False,
        )
    try:
        yield _pg_sh("url").stdout.strip()
    finally:
        if not was_running:
            _pg_sh("stop")


@pytest.fixture(scope="session")
def postgres_admin(postgres_url: str) -> Iterator[Engine]:
    """An autocommit engine on the test database, for creating and dropping schemas."""
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            server_versions["postgresql"] = conn.execute(text("SELECT version()")).scalar_one()
    except SQLAlchemyError as exc:
        engine.dispose()
        safe = make_url(postgres_url).render_as_string(hide_password=True)
        pytest.fail(f"PostgreSQL at {safe} does not answer: {exc}", pytrace=False)
    yield engine
    engine.dispose()


@contextmanager
def _fresh_pg_schema(request: pytest.FixtureRequest) -> Iterator[str]:
    admin: Engine = request.getfixturevalue("postgres_admin")
    base = make_url(request.getfixturevalue("postgres_url"))
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of each kind (no tables yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with _fresh_pg_schema(request) as url:
        yield url


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL to an empty PostgreSQL schema: the production database, for process-level tests."""
    with _fresh_pg_schema(request) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A Store with a fresh schema, on SQLite and on PostgreSQL."""
    with Store.from_url(store_url) as fresh:
        fresh.create_schema()
        server_versions.setdefault(fresh.dialect, fresh.server_version())
        yield fresh


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for backend, version in sorted(server_versions.items()):
        terminalreporter.write_line(f"database tests ran on {backend}: {version}")
