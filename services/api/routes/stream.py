"""Live boards over Server-Sent Events: one stream per competition, board kind and scope
(services/api/sse.py says what is sent and when; docs/boards.md for clients).

The competition and ranking are checked before the stream starts (404 / 422 as a JSON answer).
`Last-Event-ID` (sent by EventSource itself when it reconnects, or `?last_event_id=` for a
client that reconnects by hand) resumes: the missed `scored` messages, then a fresh snapshot.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from services.api.access import Reader, ensure_sub_branch
from services.api.deps import ReadModelDep, SettingsDep
from services.api.sse import Scope, Snapshots, events
from streams.core.rules import RankingKind

router = APIRouter(prefix="/api/competitions", tags=["leaderboards"])


def _snapshots(request: Request) -> Snapshots:
    found = getattr(request.app.state, "sse_snapshots", None)
    if found is None:
        found = request.app.state.sse_snapshots = Snapshots()
    return found


def _id(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


@router.get(
    "/{competition_id}/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "snapshot, scored, : ping"}},
)
async def stream(
    competition_id: str,
    request: Request,
    read_model: ReadModelDep,
    settings: SettingsDep,
    ranking: RankingKind = "customer_manager",
    sub_branch: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    privacy: Annotated[int, Query(ge=0, le=1)] = 0,
    last_event_id: Annotated[str | None, Query(description="instead of the Last-Event-ID header")] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    *,
    principal: Reader,
) -> StreamingResponse:
    ensure_sub_branch(principal, sub_branch)
    read_model.board.index(competition_id, ranking)
    scope = Scope(competition_id, ranking, sub_branch, limit, bool(privacy))
    body = events(
        read_model,
        _snapshots(request),
        scope,
        _id(last_event_id_header or last_event_id),
        ping_seconds=settings.sse_ping_seconds,
        snapshot_seconds=settings.sse_snapshot_seconds,
    )
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
