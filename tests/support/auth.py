"""Credentials for tests that talk to a real API process.

`tests.support.processes.api()` provisions them in the API's own database before it starts (the
way an operator would with `python -m services.admin`): an admin user, and admin, organiser and
source keys. Tests then authenticate by the API's URL:

    httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url))

`api_auth` sends the source key to /ingest and the admin key everywhere else, unless the request
already carries an Authorization header. Hashes use cheap argon2 parameters: the API verifies
whatever parameters a hash names, and tests should not spend seconds hashing.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import httpx
from argon2 import PasswordHasher

from services.store import Store
from services.store.credentials import Credentials

ADMIN_USER = "test-admin"
ADMIN_PASSWORD = "test-admin-password"  # a test database's only, never a default of the product
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass(frozen=True)
class TestCredentials:
    admin_key: str
    organiser_key: str
    source_key: str
    database_url: str
    admin_user: str = ADMIN_USER
    admin_password: str = ADMIN_PASSWORD

    def headers(self, role: str = "admin") -> dict[str, str]:
        key = {"admin": self.admin_key, "organiser": self.organiser_key, "source": self.source_key}[role]
        return {"Authorization": f"Bearer {key}"}


_by_url: dict[str, TestCredentials] = {}


def credentials_store(database_url: str) -> tuple[Store, Credentials]:
    store = Store.from_url(database_url)
    store.create_schema()
    return store, Credentials(store, FAST)


def provision(url: str, database_url: str) -> TestCredentials:
    """Make (once per database) the test admin and keys, and remember them for the API at `url`."""
    store, credentials = credentials_store(database_url)
    try:
        if not any(u["username"] == ADMIN_USER for u in credentials.users()):
            credentials.create_user(ADMIN_USER, ADMIN_PASSWORD, "admin", actor="test:setup")
        made = TestCredentials(
            admin_key=credentials.create_key("admin", "test admin", actor="test:setup")[0],
            organiser_key=credentials.create_key("organiser", "test organiser", actor="test:setup")[0],
            source_key=credentials.create_key("source", "test source", actor="test:setup")[0],
            database_url=database_url,
        )
    finally:
        store.close()
    _by_url[url.rstrip("/")] = made
    return made


def credentials_for(url: str) -> TestCredentials:
    return _by_url[str(url).rstrip("/")]


def make_key(url: str, role: str, label: str, sub_branch: str | None = None) -> str:
    """Another key or display token for the API at `url` (e.g. a display token for one sub-branch)."""
    store, credentials = credentials_store(credentials_for(url).database_url)
    try:
        return credentials.create_key(role, label, sub_branch_id=sub_branch, actor="test:setup")[0]
    finally:
        store.close()


def make_user(url: str, username: str, password: str, role: str, sub_branch: str | None = None) -> None:
    store, credentials = credentials_store(credentials_for(url).database_url)
    try:
        credentials.create_user(username, password, role, sub_branch_id=sub_branch, actor="test:setup")
    finally:
        store.close()


class KeyAuth(httpx.Auth):
    def __init__(self, credentials: TestCredentials) -> None:
        self._credentials = credentials

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "authorization" not in request.headers:
            role = "source" if request.url.path.startswith("/ingest") else "admin"
            request.headers.update(self._credentials.headers(role))
        yield request


def api_auth(url: str) -> KeyAuth:
    """httpx auth for the API at `url`: the source key for ingest, the admin key for the rest."""
    return KeyAuth(credentials_for(url))


def auth_headers(url: str, path: str = "/") -> dict[str, str]:
    """The same choice as `api_auth`, as plain headers (for raw sockets and browsers)."""
    return credentials_for(url).headers("source" if path.startswith("/ingest") else "admin")
