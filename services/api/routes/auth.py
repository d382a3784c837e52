"""Logging in and out of the console, and asking who one is.

A wrong password and an unknown user get the same 401 with the same body, after the same argon2
work (services/store/credentials.py), so the answer does not tell which part was wrong.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from services.api.access import SESSION_COOKIE, Anyone, access_of
from services.api.body import read_body
from services.api.deps import SettingsDep
from services.api.errors import FieldError
from services.store import StoreError

router = APIRouter(prefix="/api/auth", tags=["auth"])

WRONG = "用户名或密码错误 (wrong username or password)"
_LOGIN_BODY_LIMIT = 4096
_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
                }
            }
        },
    }
}


@router.post(
    "/login",
    openapi_extra=_LOGIN_BODY,
    responses={401: {"description": "wrong username or password (the same answer for either)"}},
)
async def login(request: Request, settings: SettingsDep) -> JSONResponse:
    """Check a username and password; on success set the session cookie (HttpOnly, SameSite=Strict)."""
    body = await read_body(request, _LOGIN_BODY_LIMIT, settings.body_timeout_seconds)
    try:
        given = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        given = None
    if (
        not isinstance(given, dict)
        or not isinstance(given.get("username"), str)
        or not isinstance(given.get("password"), str)
    ):
        raise FieldError("(body)", "expected {username, password} as strings")
    access = access_of(request)
    try:
        user = await run_in_threadpool(
            access.credentials.check_password, given["username"], given["password"]
        )
        if user is None:
            raise HTTPException(401, WRONG)
        lifetime = timedelta(hours=settings.session_hours)
        session_id, expires = await run_in_threadpool(
            access.credentials.open_session, user["username"], lifetime
        )
    except StoreError as exc:
        raise HTTPException(503, f"cannot check credentials: {exc}") from None
    response = JSONResponse(
        {
            "user": {"username": user["username"], "role": user["role"], "sub_branch": user["sub_branch_id"]},
            "expires_at": expires.isoformat(),
        }
    )
    response.set_cookie(
        SESSION_COOKIE,
        access.sign(session_id),
        max_age=int((expires - datetime.now(UTC)).total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=access.cookie_secure,
    )
    return response


@router.post("/logout", status_code=204)
def logout(request: Request) -> Response:
    """End this browser's session (if any) and clear its cookie."""
    access = access_of(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    session_id = access.unsign(cookie) if cookie else None
    if session_id:
        try:
            access.credentials.close_session(session_id)
        except StoreError as exc:
            raise HTTPException(503, f"cannot end the session: {exc}") from None
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=access.cookie_secure
    )
    return response


@router.get("/me")
def me(principal: Anyone) -> dict[str, Any]:
    """Who the credentials belong to: kind (user or key), name, role and sub-branch scope."""
    return principal.to_dict()
