"""Users, API keys and display tokens, for admins. A new key is shown once, in the answer that
creates it; afterwards only its id, label and role are visible. Every change is audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.api.access import Admin, access_of
from services.api.errors import FieldError
from services.api.versions import stored
from services.store.credentials import KeyRole, UserRole

router = APIRouter(prefix="/api/console", tags=["console"])


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    role: UserRole
    sub_branch: str | None = Field(default=None, max_length=64)


class NewKey(BaseModel):
    role: KeyRole
    label: str = Field(min_length=1, max_length=64)
    sub_branch: str | None = Field(default=None, max_length=64)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


@router.get("/users")
async def users(request: Request, _: Admin) -> dict[str, Any]:
    rows = await stored(access_of(request).credentials.users)
    return {"users": [_public(r) for r in rows]}


@router.post("/users", status_code=201)
async def create_user(request: Request, given: NewUser, principal: Admin) -> JSONResponse:
    credentials = access_of(request).credentials
    row = await _checked(
        credentials.create_user,
        given.username,
        given.password,
        given.role,
        sub_branch_id=given.sub_branch,
        actor=principal.actor,
    )
    return JSONResponse(_public(row), status_code=201)


@router.post("/users/{username}/disable", status_code=204)
async def disable_user(request: Request, username: str, principal: Admin) -> None:
    if username == principal.name and principal.kind == "user":
        raise HTTPException(409, "you cannot disable yourself")
    await stored(access_of(request).credentials.disable_user, username, actor=principal.actor)


@router.get("/keys")
async def keys(request: Request, _: Admin) -> dict[str, Any]:
    rows = await stored(access_of(request).credentials.api_keys)
    return {"keys": [_public(r) for r in rows]}


@router.post("/keys", status_code=201)
async def create_key(request: Request, given: NewKey, principal: Admin) -> JSONResponse:
    """A source, organiser or admin key, or a display token (role display, with its sub-branch).
    The answer holds the key itself: it is not stored and cannot be shown again."""
    token, row = await _checked(
        access_of(request).credentials.create_key,
        given.role,
        given.label,
        sub_branch_id=given.sub_branch,
        actor=principal.actor,
    )
    return JSONResponse({**_public(row), "key": token}, status_code=201)


@router.post("/keys/{key_id}/revoke", status_code=204)
async def revoke_key(request: Request, key_id: str, principal: Admin) -> None:
    if not await stored(access_of(request).credentials.revoke_key, key_id, actor=principal.actor):
        raise HTTPException(404, f"no live key {key_id}")


async def _checked(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Credentials' refusals of a value (a short password, a viewer without a sub-branch) as
    a 422 naming the field; a taken name as 409."""
    try:
        return await stored(call, *args, **kwargs)
    except FieldError as exc:  # stored(): the store's refusal, "field: why" in its reason
        field, _, why = exc.reason.partition(": ")
        raise FieldError(field if why else "(body)", why or exc.reason) from None
