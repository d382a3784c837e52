"""A competition's 企业微信 robot, for organisers (docs/notifications.md): where the news goes
(the webhook URL, a secret: shown masked, never whole, and left as it is when a change omits
it), how many places count as the top, which kinds of news; and how its outbox stands. Every
change is audited (the URL masked there too)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from services.api.access import Organiser
from services.api.deps import StoreDep
from services.api.errors import FieldError
from services.api.versions import stored
from services.notify import outbox
from services.notify.config import MAX_TOP_N, ConfigError, checked, masked
from services.notify.messages import KINDS
from services.store import audit

router = APIRouter(prefix="/api/competitions", tags=["notifications"])


class RobotSettings(BaseModel):
    webhook_url: str | None = Field(
        default=None, max_length=2000, description="the group robot's webhook; leave out to keep the one set"
    )
    top_n: int = Field(default=5, ge=1, le=MAX_TOP_N)
    kinds: list[str] = Field(default_factory=lambda: ["rank", "award"], description=f"of {', '.join(KINDS)}")
    enabled: bool = True


def _shown(competition_id: str, row: dict[str, Any] | None, counts: dict[str, int]) -> dict[str, Any]:
    if row is None:
        return {"competition_id": competition_id, "configured": False, "kinds_known": list(KINDS)}
    return {
        "competition_id": competition_id,
        "configured": True,
        "webhook": masked(row["webhook_url"]),
        "top_n": row["top_n"],
        "kinds": list(row["kinds"]),
        "enabled": row["enabled"],
        "enabled_since": row["enabled_since"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "updated_by": row["updated_by"],
        "outbox": counts,
        "kinds_known": list(KINDS),
    }


@router.get("/{competition_id}/notifications")
async def robot(competition_id: str, store: StoreDep, _: Organiser) -> dict[str, Any]:
    row = await stored(outbox.config, store, competition_id)
    counts = await stored(outbox.counts, store, competition_id) if row is not None else {}
    return _shown(competition_id, row, counts)


@router.put("/{competition_id}/notifications")
async def set_robot(
    competition_id: str, given: RobotSettings, store: StoreDep, principal: Organiser
) -> dict[str, Any]:
    held = await stored(outbox.config, store, competition_id)
    url = given.webhook_url if given.webhook_url is not None else (held or {}).get("webhook_url")
    if url is None:
        raise FieldError("webhook_url", "needed the first time")
    try:
        config = checked(url, given.top_n, given.kinds, given.enabled)
    except ConfigError as exc:
        raise FieldError(exc.field, exc.reason) from None
    now = datetime.now(UTC)
    await stored(outbox.save_config, store, competition_id, config, principal.actor, now)
    diff = {
        "webhook": masked(url),
        "top_n": config.top_n,
        "kinds": list(config.kinds),
        "enabled": config.enabled,
    }
    await stored(audit.record, store, principal.actor, "notifications.set", competition_id, diff, at=now)
    row = await stored(outbox.config, store, competition_id)
    if row is None:
        raise HTTPException(503, "the setting was not kept")
    return _shown(competition_id, row, await stored(outbox.counts, store, competition_id))
