"""Every refusal of the API as one shape: RFC 9457 problem details, translated here, once.

    HTTP 422, Content-Type: application/problem+json
    {"type": "urn:campaigns:problem:validation", "title": "Some fields are not valid",
     "status": 422, "detail": "rules[0].daily_cap: Input should be greater than 0",
     "errors": [{"field": "rules[0].daily_cap", "reason": "Input should be greater than 0"}]}

What becomes a problem (docs/api.md lists the types):

- `HTTPException(status, "text")` raised by a route: `about:blank`, the status's title, the text
  as `detail`;
- `FieldError(field, reason)` (or an HTTPException whose detail is `{field, reason}`): a
  validation problem naming the field, as the core's RuleError does, so the console can put the
  reason beside its input;
- FastAPI's request validation (a query, path or body field of the wrong type): a validation
  problem with one entry in `errors` per field, `in` saying where (body, query, path, header);
- an event the shared validator refused (POST /ingest/events): 422 with its `reason` code;
- the read model's refusals (unknown competition 404, ranking not offered 422 with `offered`),
  an unread body (413/408/400, services/api/body.py), and anything unforeseen (500, logged).

Routes raise; they never build an error body themselves.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from services.api.body import BodyError
from services.readmodel import RankingNotOffered, UnknownCompetition

log = logging.getLogger("api")

MEDIA_TYPE = "application/problem+json"
BLANK = "about:blank"
VALIDATION = "urn:campaigns:problem:validation"
REJECTED_EVENT = "urn:campaigns:problem:rejected-event"
BODY_NOT_READ = "urn:campaigns:problem:body-not-read"
RANKING_NOT_OFFERED = "urn:campaigns:problem:ranking-not-offered"
INTERNAL = "urn:campaigns:problem:internal"

_TITLES = {
    VALIDATION: "Some fields are not valid",
    REJECTED_EVENT: "The event was rejected",
    BODY_NOT_READ: "The request body was not read",
    RANKING_NOT_OFFERED: "This competition has no such ranking",
    INTERNAL: "Internal error",
}


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


class FieldError(HTTPException):
    """A refused field, named by its path in the request (`window.start`, `rules[0].daily_cap`)."""

    def __init__(self, field: str, reason: str, status_code: int = 422) -> None:
        super().__init__(status_code, f"{field}: {reason}")
        self.field = field
        self.reason = reason


def problem(
    status: int,
    detail: str,
    *,
    type_: str = BLANK,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    """One problem-details answer. Extension members never overwrite the standard five."""
    body: dict[str, Any] = {
        **extensions,
        "type": type_,
        "title": _TITLES.get(type_) or _phrase(status),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [dict(e) for e in errors]
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --- handlers --------------------------------------------------------------------------------


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if isinstance(exc, FieldError):
        return _field_problem(exc.status_code, exc.field, exc.reason, headers)
    detail = exc.detail
    if isinstance(detail, Mapping) and "field" in detail and "reason" in detail:
        return _field_problem(exc.status_code, str(detail["field"]), str(detail["reason"]), headers)
    return problem(exc.status_code, detail if isinstance(detail, str) else str(detail), headers=headers)


def _field_problem(status: int, field: str, reason: str, headers: Mapping[str, str]) -> ProblemResponse:
    return problem(
        status,
        f"{field}: {reason}",
        type_=VALIDATION if status == 422 else BLANK,
        errors=[{"field": field, "reason": reason}],
        headers=headers,
    )


async def _request_validation(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_of(e) for e in exc.errors()]
    first = errors[0] if errors else {"field": "(request)", "reason": "not valid"}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return problem(422, f"{first['field']}: {first['reason']}{more}", type_=VALIDATION, errors=errors)


def _field_of(error: Mapping[str, Any]) -> dict[str, Any]:
    """FastAPI's ("body", "window", "start") as `window.start` with `in: body`."""
    loc = list(error.get("loc") or ())
    where = str(loc.pop(0)) if loc and loc[0] in ("body", "query", "path", "header", "cookie") else "body"
    reason = str(error.get("msg") or "not valid")
    if error.get("type") == "json_invalid":
        # curl -d and friends: the body is read as JSON whatever its Content-Type (content_type.py).
        ctx = error.get("ctx") or {}
        why = ctx.get("error", reason)
        return {"field": "(body)", "in": "body", "reason": f"the body is not JSON: {why}"}
    return {"field": field_path(loc) or f"({where})", "in": where, "reason": reason}


def field_path(loc: Sequence[Any]) -> str:
    """("rules", 0, "caps", "daily") -> "rules[0].caps.daily", the core's own spelling."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


async def _unknown_competition(request: Request, exc: Exception) -> ProblemResponse:
    return problem(404, str(exc))


async def _ranking_not_offered(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RankingNotOffered)
    return problem(422, str(exc), type_=RANKING_NOT_OFFERED, offered=exc.offered)


async def _body_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, BodyError)
    # The rest of the body may still be on its way: close the connection rather than read it.
    return problem(
        exc.status_code, str(exc), type_=BODY_NOT_READ, reason=exc.reason, headers={"Connection": "close"}
    )


async def _unforeseen(request: Request, exc: Exception) -> ProblemResponse:
    # Starlette logs the traceback as well; this line ties it to the request.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return problem(500, "the API failed on this request; the API log has the cause", type_=INTERNAL)


_FIELD = re.compile(r"field '([^']+)'")


class EventRejected(Exception):
    """The shared validator refused the one event of POST /ingest/events (it is dead-lettered)."""

    def __init__(self, reason: str, detail: str, event_id: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.event_id = event_id


async def _event_rejected(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, EventRejected)
    # The validator's detail names the field ("field 'data.cm_id' is required") when there is one.
    named = _FIELD.search(exc.detail)
    errors = [{"field": named.group(1) if named else "(event)", "reason": exc.detail}]
    known: dict[str, Any] = {"event_id": exc.event_id} if exc.event_id else {}
    return problem(422, exc.detail, type_=REJECTED_EVENT, errors=errors, reason=exc.reason, **known)


def install_error_handlers(app: FastAPI) -> None:
    handlers: dict[type[Exception], Callable[..., Any]] = {
        HTTPException: _http_error,
        RequestValidationError: _request_validation,
        UnknownCompetition: _unknown_competition,
        RankingNotOffered: _ranking_not_offered,
        BodyError: _body_error,
        EventRejected: _event_rejected,
        Exception: _unforeseen,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)
