"""`make run`'s development credentials: made on a fresh start, kept while they still work, new
only when asked (`rotate`).

A second `make run` on a running platform must not lock out what is already open: a wall screen
holds the display token in its URL, a browser holds the dev admin's session, a shell holds the
keys. So `bootstrap` keeps every credential of the file that the database still accepts and makes
only the missing or dead ones; `rotate` makes all of them anew. Either way, afterwards exactly the
dev keys in the file are live: any other key the bootstrap once made is revoked.
"""

from __future__ import annotations

import os
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path

from services.store.credentials import Credentials

ACTOR = "cli:dev-bootstrap"
ADMIN_USER = "dev-admin"
DEMO_MANAGER = "cm-101"  # a manager of the demo roster's first sub-branch (services/demo/roster.py)

# The file's variables (sourced by deploy/local/run.sh and by the docs' examples).
_USER = "CAMPAIGNS_DEV_ADMIN_USER"
_PASSWORD = "CAMPAIGNS_DEV_ADMIN_PASSWORD"
_ORGANISER = "CAMPAIGNS_DEV_ORGANISER_KEY"
_SOURCE = "CAMPAIGNS_DEV_SOURCE_KEY"
_DISPLAY = "CAMPAIGNS_DEV_DISPLAY_TOKEN"
_SUB_BRANCH = "CAMPAIGNS_DEV_SUB_BRANCH"


@dataclass(frozen=True)
class DevCredentials:
    admin_password: str
    organiser_key: str
    source_key: str
    display_token: str
    sub_branch: str
    admin_user: str = ADMIN_USER

    def variables(self, base_url: str) -> dict[str, str]:
        """The file's contents. Page URLs carry the display token only: it reads one sub-branch
        and nothing else, so a URL that lands in a log or a browser history gives away no more."""
        token = self.display_token
        return {
            _USER: self.admin_user,
            _PASSWORD: self.admin_password,
            _ORGANISER: self.organiser_key,
            _SOURCE: self.source_key,
            _DISPLAY: self.display_token,
            _SUB_BRANCH: self.sub_branch,
            "CAMPAIGNS_DEV_BOARDS_URL": f"{base_url}/?token={token}",
            "CAMPAIGNS_DEV_SCREEN_URL": f"{base_url}/screen?sub_branch={self.sub_branch}&token={token}",
            "CAMPAIGNS_DEV_MANAGER_URL": f"{base_url}/me/{DEMO_MANAGER}?token={token}",
        }

    def text(self, base_url: str) -> str:
        # Quoted for the shell: run.sh and the docs' examples source the file, and URLs hold `&`.
        return "".join(f"{k}={shlex.quote(v)}\n" for k, v in self.variables(base_url).items())


def parse(text: str) -> dict[str, str]:
    """KEY=VALUE lines as `text` wrote them (shell-quoted); anything else is ignored."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, eq, value = line.partition("=")
        if not eq or not name.isidentifier():
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            continue
        if len(words) == 1:
            found[name] = words[0]
    return found


def read(path: Path) -> dict[str, str]:
    """The variables of an earlier run's file; empty if there is none or it cannot be read."""
    try:
        return parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}


def write(path: Path, text: str) -> None:
    """Only the user may read it: it holds an admin password and keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)  # an older file keeps its mode through O_CREAT


def bootstrap(
    credentials: Credentials, previous: dict[str, str], sub_branch: str
) -> tuple[DevCredentials, list[str]]:
    """Keep what of `previous` still works, make the rest: (the credentials, what was made anew;
    empty when everything was kept)."""
    made: list[str] = []
    password = previous.get(_PASSWORD, "")
    kept = password and previous.get(_USER) == ADMIN_USER and credentials.check_password(ADMIN_USER, password)
    if not kept:
        password = _new_password(credentials)
        made.append("admin password")
    keys: dict[str, str] = {}
    for variable, role, scope, label in _keys(sub_branch):
        token = previous.get(variable, "")
        row = credentials.check_key(token) if token else None
        if row is None or row["role"] != role or row["sub_branch_id"] != scope or row["created_by"] != ACTOR:
            token = credentials.create_key(role, label, sub_branch_id=scope, actor=ACTOR)[0]
            made.append(f"{role} key")
        keys[variable] = token
    result = DevCredentials(password, keys[_ORGANISER], keys[_SOURCE], keys[_DISPLAY], sub_branch)
    _revoke_others(credentials, result)
    return result, made


def rotate(credentials: Credentials, sub_branch: str) -> DevCredentials:
    """All new: a new admin password (its sessions end) and new keys (the old ones stop working)."""
    fresh, _ = bootstrap(credentials, {}, sub_branch)
    return fresh


def _keys(sub_branch: str) -> list[tuple[str, str, str | None, str]]:
    return [
        (_ORGANISER, "organiser", None, "dev organiser"),
        (_SOURCE, "source", None, "dev source"),
        (_DISPLAY, "display", sub_branch, f"dev screen {sub_branch}"),
    ]


def _new_password(credentials: Credentials) -> str:
    password = secrets.token_urlsafe(12)
    if any(u["username"] == ADMIN_USER for u in credentials.users()):
        credentials.set_password(ADMIN_USER, password, actor=ACTOR)
    else:
        credentials.create_user(ADMIN_USER, password, "admin", actor=ACTOR)
    return password


def _revoke_others(credentials: Credentials, kept: DevCredentials) -> None:
    live = {_key_id(t) for t in (kept.organiser_key, kept.source_key, kept.display_token)}
    for key in credentials.api_keys():
        if key["created_by"] == ACTOR and key["revoked_at"] is None and key["key_id"] not in live:
            credentials.revoke_key(key["key_id"], actor=ACTOR)


def _key_id(token: str) -> str:
    return token.split(".")[1]
