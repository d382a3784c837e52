"""`make run`'s dev credentials last: a second bootstrap keeps what still works (a second `make run`
locks nobody out), only what is dead is made anew, and rotating makes everything new. On SQLite
and PostgreSQL (the `store` fixture), and once through the command line as run.sh calls it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from services.admin import dev_credentials
from services.admin.dev_credentials import ACTOR, ADMIN_USER
from services.store import Store
from services.store.credentials import Credentials
from tests.support.auth import FAST
from tests.support.processes import ROOT

BASE = "http://127.0.0.1:8000"


def _live_dev_keys(credentials: Credentials) -> set[str]:
    return {
        k["key_id"] for k in credentials.api_keys() if k["created_by"] == ACTOR and k["revoked_at"] is None
    }


def _key_id(token: str) -> str:
    return token.split(".")[1]


def test_a_second_bootstrap_keeps_every_credential_and_the_admin_session(store: Store) -> None:
    credentials = Credentials(store, FAST)
    first, made = dev_credentials.bootstrap(credentials, {}, "sb-chengdong")
    assert made == ["admin password", "organiser key", "source key", "display key"]
    session, _ = credentials.open_session(ADMIN_USER, timedelta(hours=1))

    again, made_again = dev_credentials.bootstrap(
        credentials, dev_credentials.parse(first.text(BASE)), "sb-chengdong"
    )
    assert made_again == []
    assert again == first
    assert credentials.session_user(session) is not None, "the dev admin's session ended"
    for token in (first.organiser_key, first.source_key, first.display_token):
        assert credentials.check_key(token) is not None
    assert credentials.check_password(ADMIN_USER, first.admin_password) is not None


def test_only_what_no_longer_works_is_made_anew_and_strays_are_revoked(store: Store) -> None:
    credentials = Credentials(store, FAST)
    first, _ = dev_credentials.bootstrap(credentials, {}, "sb-chengdong")
    credentials.revoke_key(_key_id(first.source_key), actor="test")
    # A dev key the file does not know (an older run's file was deleted): it must not stay live.
    stray = credentials.create_key("organiser", "dev organiser", actor=ACTOR)[0]

    second, made = dev_credentials.bootstrap(
        credentials, dev_credentials.parse(first.text(BASE)), "sb-chengdong"
    )
    assert made == ["source key"]
    assert second.source_key != first.source_key
    assert (second.organiser_key, second.display_token, second.admin_password) == (
        first.organiser_key,
        first.display_token,
        first.admin_password,
    )
    assert credentials.check_key(stray) is None
    assert _live_dev_keys(credentials) == {
        _key_id(t) for t in (second.organiser_key, second.source_key, second.display_token)
    }


def test_a_display_token_for_another_sub_branch_is_replaced(store: Store) -> None:
    credentials = Credentials(store, FAST)
    first, _ = dev_credentials.bootstrap(credentials, {}, "sb-chengdong")
    second, made = dev_credentials.bootstrap(
        credentials, dev_credentials.parse(first.text(BASE)), "sb-chengxi"
    )
    assert made == ["display key"]
    assert credentials.check_key(first.display_token) is None
    row = credentials.check_key(second.display_token)
    assert row is not None and row["sub_branch_id"] == "sb-chengxi"


def test_keys_that_are_not_the_bootstraps_own_are_never_kept_nor_revoked(store: Store) -> None:
    credentials = Credentials(store, FAST)
    operator = credentials.create_key("organiser", "an operator's script", actor="cli:alice")[0]
    first, made = dev_credentials.bootstrap(
        credentials, {"CAMPAIGNS_DEV_ORGANISER_KEY": operator}, "sb-chengdong"
    )
    assert "organiser key" in made and first.organiser_key != operator
    assert credentials.check_key(operator) is not None


def test_rotate_makes_everything_new_and_ends_the_old(store: Store) -> None:
    credentials = Credentials(store, FAST)
    first, _ = dev_credentials.bootstrap(credentials, {}, "sb-chengdong")
    session, _ = credentials.open_session(ADMIN_USER, timedelta(hours=1))
    rotated = dev_credentials.rotate(credentials, "sb-chengdong")
    for old, new in (
        (first.organiser_key, rotated.organiser_key),
        (first.source_key, rotated.source_key),
        (first.display_token, rotated.display_token),
    ):
        assert old != new
        assert credentials.check_key(old) is None
        assert credentials.check_key(new) is not None
    assert credentials.check_password(ADMIN_USER, first.admin_password) is None
    assert credentials.check_password(ADMIN_USER, rotated.admin_password) is not None
    assert credentials.session_user(session) is None


def test_the_file_holds_no_organiser_key_in_a_page_url() -> None:
    made = dev_credentials.DevCredentials("pw-0123456789", "cmp.a.org", "cmp.b.src", "cmp.c.disp", "sb-x")
    variables = made.variables(BASE)
    urls = {k: v for k, v in variables.items() if k.endswith("_URL")}
    assert set(urls) == {"CAMPAIGNS_DEV_BOARDS_URL", "CAMPAIGNS_DEV_SCREEN_URL", "CAMPAIGNS_DEV_MANAGER_URL"}
    for url in urls.values():
        assert "token=cmp.c.disp" in url and "cmp.a.org" not in url and "cmp.b.src" not in url
    assert dev_credentials.parse(made.text(BASE)) == variables


def _admin(
    args: list[str], database: str, environment: str = "development"
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CAMPAIGNS_DATABASE_URL=database, CAMPAIGNS_ENVIRONMENT=environment)
    return subprocess.run(
        [sys.executable, "-m", "services.admin", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_commands_keep_then_rotate_the_file(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'dev.db'}"
    path = tmp_path / "run" / "dev-credentials"
    first = _admin(["dev-bootstrap", "--write", str(path)], database)
    assert first.returncode == 0, first.stderr
    assert "made" in first.stderr
    written = path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    second = _admin(["dev-bootstrap", "--write", str(path)], database)
    assert second.returncode == 0, second.stderr
    assert "kept" in second.stderr
    assert path.read_text() == written == second.stdout

    rotated = _admin(["rotate-dev", "--write", str(path)], database)
    assert rotated.returncode == 0, rotated.stderr
    old, new = dev_credentials.parse(written), dev_credentials.parse(path.read_text())
    for name in ("CAMPAIGNS_DEV_ORGANISER_KEY", "CAMPAIGNS_DEV_SOURCE_KEY", "CAMPAIGNS_DEV_DISPLAY_TOKEN"):
        assert old[name] != new[name]
    with Store.from_url(database) as store:
        credentials = Credentials(store)
        assert credentials.check_key(old["CAMPAIGNS_DEV_DISPLAY_TOKEN"]) is None
        assert credentials.check_key(new["CAMPAIGNS_DEV_DISPLAY_TOKEN"]) is not None

    refused = _admin(["rotate-dev", "--write", str(path)], database, environment="production")
    assert refused.returncode == 2
    assert "development" in refused.stderr
