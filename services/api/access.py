"""Who is asking, and may they: the API's access rules as FastAPI dependencies (docs/access.md).

Credentials, in the order they are looked at:
- `Authorization: Bearer <key>`: an API key (role source, organiser or admin) or a display token;
- `?token=<key>` on GET requests only: for wall screens, whose EventSource cannot set headers
  (never for writes: a query string ends up in logs and browser history);
- the session cookie from `POST /api/auth/login` (HttpOnly, SameSite=Strict, signed).

Roles: admin > organiser > viewer. A viewer (a person) and a display token (a wall screen) read
only, and only their own sub-branch's detail; a source key only sends events to /ingest.

    Reader      any valid credential but a source key
    Organiser   organiser or admin: every write
    Admin       admin: users, keys and display tokens
    SourceKey   a source key (or an admin key): ingest

No credential, or one that is unknown, expired or revoked: 401. A valid one without the role: 403.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from schemas import SHANGHAI
from services.readmodel.org import OrgDirectory
from services.settings import ServiceSettings
from services.store import Store, StoreError
from services.store.credentials import SCOPED_ROLES, Credentials

log = logging.getLogger(__name__)

SESSION_COOKIE = "campaigns_session"
_RANK = {"viewer": 1, "display": 1, "organiser": 2, "admin": 3}
UNAUTHENTICATED = "authentication required: log in, or send a key as 'Authorization: Bearer <key>'"
INVALID = "invalid or expired credentials"


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" or "key"
    name: str  # the username, or the key id
    role: str  # admin | organiser | viewer | display | source
    sub_branch: str | None = None  # set for viewer and display: the one sub-branch they may see
    label: str | None = None  # a key's label

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"{self.kind}:{self.name}"

    @property
    def scoped(self) -> bool:
        return self.role in SCOPED_ROLES

    def at_least(self, role: str) -> bool:
        return _RANK.get(self.role, 0) >= _RANK[role]

    def sees(self, sub_branch_id: str | None) -> bool:
        """May this principal read detail belonging to that sub-branch?"""
        return not self.scoped or (sub_branch_id is not None and sub_branch_id == self.sub_branch)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "role": self.role,
            "sub_branch": self.sub_branch,
            "label": self.label,
        }


class Access:
    """The API process's access state: the credential tables and the session signing key."""

    def __init__(self, store: Store, settings: ServiceSettings) -> None:
        self.credentials = Credentials(store)
        if settings.session_secret is not None:
            self._secret = settings.session_secret.get_secret_value().encode()
        else:
            # No default secret: without one configured, each process makes its own.
            log.warning(
                "access: CAMPAIGNS_SESSION_SECRET is not set; login sessions are signed with a "
                "random key and end when this API process stops"
            )
            self._secret = secrets.token_bytes(32)
        self.cookie_secure = (
            settings.cookie_secure
            if settings.cookie_secure is not None
            else settings.environment == "production"
        )

    def sign(self, session_id: str) -> str:
        return f"{session_id}.{self._mac(session_id)}"

    def unsign(self, cookie: str) -> str | None:
        session_id, dot, mac = cookie.rpartition(".")
        if not dot or not session_id or not hmac.compare_digest(mac, self._mac(session_id)):
            return None
        return session_id

    def _mac(self, session_id: str) -> str:
        digest = hmac.new(self._secret, session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def identify(self, request: Request) -> Principal | None:
        """The principal behind the request's credentials; None if it presents none.

        Raises 401 for a credential that does not check out (so a bad key is never mistaken for
        no key), 503 if the database cannot be asked."""
        try:
            token = _bearer(request)
            if token is None and request.method in ("GET", "HEAD"):
                token = request.query_params.get("token") or None
            if token is not None:
                key = self.credentials.check_key(token)
                if key is None:
                    raise _unauthorized(INVALID)
                return Principal("key", key["key_id"], key["role"], key["sub_branch_id"], key["label"])
            cookie = request.cookies.get(SESSION_COOKIE)
            if cookie:
                session_id = self.unsign(cookie)
                user = self.credentials.session_user(session_id) if session_id else None
                if user is None:
                    raise _unauthorized(INVALID)
                return Principal("user", user["username"], user["role"], user["sub_branch_id"])
        except StoreError as exc:
            raise HTTPException(503, f"cannot check credentials: {exc}") from None
        return None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorized("the Authorization header must read 'Bearer <key>'")
    return value.strip()


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="campaigns"'})


def _forbidden(detail: str) -> HTTPException:
    return HTTPException(403, detail)


def access_of(request: Request) -> Access:
    access: Access = request.app.state.access
    return access


# --- dependencies (plain functions: FastAPI runs them in its thread pool, off the event loop,
# since checking a key may read the database and run argon2) ---------------------------------

# Declares the Bearer key in the OpenAPI document (every route that takes a credential names it),
# so /docs has an Authorize button that sends `Authorization: Bearer <key>`. It decides nothing:
# identify() reads the header itself (and the ?token= and the cookie).
bearer_scheme = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="cmp.<key id>.<secret>",
    description="An API key or display token (python -m services.admin create-key; `make run` "
    "writes dev keys to .run/dev-credentials). Wall screens may send a display token as ?token= "
    "on GET instead; the console uses its login cookie.",
    auto_error=False,
)
BearerDeclared = Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)]


def current_principal(request: Request, _: BearerDeclared = None) -> Principal:
    principal = access_of(request).identify(request)
    if principal is None:
        raise _unauthorized(UNAUTHENTICATED)
    return principal


def optional_principal(request: Request, _: BearerDeclared = None) -> Principal | None:
    return access_of(request).identify(request)


def require(role: str) -> Callable[[Request], Principal]:
    """A dependency admitting `role` and every role above it (viewer < organiser < admin)."""
    if role not in _RANK:
        raise ValueError(f"unknown role {role!r}")

    def dependency(request: Request, _: BearerDeclared = None) -> Principal:
        principal = current_principal(request)
        if not principal.at_least(role):
            raise _forbidden(f"needs the {role} role; you are {principal.role}")
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


def require_read(request: Request, _: BearerDeclared = None) -> Principal:
    principal = current_principal(request)
    if principal.role == "source":
        raise _forbidden("a source key only sends events to /ingest")
    return principal


def require_source(request: Request, _: BearerDeclared = None) -> Principal:
    principal = current_principal(request)
    if principal.role not in ("source", "admin") or principal.kind != "key":
        raise _forbidden("ingest needs a source key")
    return principal


Reader = Annotated[Principal, Depends(require_read)]
Organiser = Annotated[Principal, Depends(require("organiser"))]
Admin = Annotated[Principal, Depends(require("admin"))]
SourceKey = Annotated[Principal, Depends(require_source)]
Anyone = Annotated[Principal, Depends(current_principal)]  # any valid credential, even a source key
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


# --- a scoped reader's limits -------------------------------------------------------------
# "Detail" is anything about one sub-branch, team or manager: a board filtered to a
# sub-branch or team, a manager's page, standing or explanation, a wall screen, a row looked up
# by its unit. A viewer or display token sees its own sub-branch's detail only (403 otherwise).
# Whole-branch rankings without a filter stay readable by every reader: a contest's league
# table is meant to be seen by everyone taking part.


def ensure_sub_branch(principal: Principal, sub_branch_id: str | None) -> None:
    """403 if a scoped principal asks for another sub-branch (None: no filter, nothing to check)."""
    if sub_branch_id is not None and not principal.sees(sub_branch_id):
        raise _forbidden(f"you may read {principal.sub_branch} only, not {sub_branch_id}")


def ensure_manager(principal: Principal, org: OrgDirectory, cm_id: str, day: date | None = None) -> None:
    """403 if a scoped principal asks about a manager who is not in its sub-branch that day
    (today in Shanghai by default); a manager the org does not place counts as elsewhere."""
    if not principal.scoped:
        return
    unit = org.unit_of(cm_id, day or _today())
    if not principal.sees(unit.sub_branch_id):
        raise _forbidden(f"{cm_id} is not in {principal.sub_branch}")


def ensure_team(
    principal: Principal, org: OrgDirectory, team_id: str | None, day: date | None = None
) -> None:
    """403 if a scoped principal asks for a team with members outside its sub-branch (or none)."""
    if team_id is None or not principal.scoped:
        return
    on = day or _today()
    members = [unit for cm in org.managers() if (unit := org.unit_of(cm, on)).team_id == team_id]
    if not members or any(not principal.sees(unit.sub_branch_id) for unit in members):
        raise _forbidden(f"team {team_id} is not within {principal.sub_branch}")


def ensure_unit(principal: Principal, org: OrgDirectory, ranking: str, unit_id: str) -> None:
    """The check for a row looked up by its unit id in a ranking of that kind."""
    if ranking == "customer_manager":
        ensure_manager(principal, org, unit_id)
    elif ranking == "team":
        ensure_team(principal, org, unit_id)
    else:
        ensure_sub_branch(principal, unit_id)


def _today() -> date:
    return datetime.now(SHANGHAI).date()


def start_access(state: Any, store: Store, settings: ServiceSettings) -> None:
    """At API start-up: make sure the tables exist (the API may start before the sink does) and
    put the access state on `app.state`. A database that does not answer yet is not fatal: every
    credential check answers 503 until it does."""
    try:
        store.create_schema()
    except StoreError as exc:
        log.warning("access: could not create the tables yet: %s", exc)
    state.access = Access(store, settings)
