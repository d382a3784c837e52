"""The notifier's reads and writes of SQL: robots, the outbox of messages, digests, the last top N.

A message row is written once per key (INSERT … ON CONFLICT DO NOTHING on the unique key), in
the same transaction as the top N it was derived from, so a restart neither loses nor repeats
news. A digest's `intent_at` is committed before its POST and `sent_at` right after it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, insert, select, update

from services.notify.config import RobotConfig
from services.notify.messages import Notice, Reward
from services.store import Store
from services.store.award_tables import AwardRun
from services.store.notify_tables import NotifyConfig, NotifyDigest, NotifyMessage, NotifyTop
from services.store.tables import Competition, LedgerEntry
from streams.core.compact import micros

_configs: Table = NotifyConfig.__table__  # type: ignore[assignment]
_messages: Table = NotifyMessage.__table__  # type: ignore[assignment]
_digests: Table = NotifyDigest.__table__  # type: ignore[assignment]
_tops: Table = NotifyTop.__table__  # type: ignore[assignment]
_competitions: Table = Competition.__table__  # type: ignore[assignment]
_ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]
# imported here so that create_schema makes the awards tables too (approved_runs reads one)
_runs: Table = AwardRun.__table__  # type: ignore[assignment]


def save_config(store: Store, competition_id: str, config: RobotConfig, actor: str, now: datetime) -> None:
    with store._writing() as conn:
        held = conn.execute(select(_configs).where(_configs.c.competition_id == competition_id)).first()
        values = {
            "webhook_url": config.webhook_url,
            "top_n": config.top_n,
            "kinds": list(config.kinds),
            "enabled": config.enabled,
            "updated_at": now,
            "updated_by": actor,
        }
        if held is None:
            conn.execute(insert(_configs).values(competition_id=competition_id, enabled_since=now, **values))
            return
        if config.enabled and not held.enabled:
            values["enabled_since"] = now  # what happened while it was off is not news any more
        conn.execute(update(_configs).where(_configs.c.competition_id == competition_id).values(**values))


def config(store: Store, competition_id: str) -> dict[str, Any] | None:
    with store._reading() as conn:
        row = conn.execute(select(_configs).where(_configs.c.competition_id == competition_id)).first()
    return None if row is None else dict(row._mapping)


def configs(store: Store) -> list[dict[str, Any]]:
    with store._reading() as conn:
        return [dict(r._mapping) for r in conn.execute(select(_configs).order_by(_configs.c.competition_id))]


def counts(store: Store, competition_id: str) -> dict[str, int]:
    m, d = _messages.c, _digests.c
    with store._reading() as conn:
        sent = conn.execute(
            select(func.count()).where(m.competition_id == competition_id, m.sent_at.is_not(None))
        ).scalar_one()
        waiting = conn.execute(
            select(func.count()).where(m.competition_id == competition_id, m.sent_at.is_(None))
        ).scalar_one()
        failing = conn.execute(
            select(func.count()).where(
                d.competition_id == competition_id, d.sent_at.is_(None), d.last_error.is_not(None)
            )
        ).scalar_one()
    return {"sent": int(sent), "waiting": int(waiting), "digests_failing": int(failing)}


def competition(store: Store, competition_id: str) -> dict[str, Any] | None:
    """The latest published (or closed) version's definition."""
    c = _competitions.c
    query = (
        select(c.definition)
        .where(c.competition_id == competition_id, c.status.in_(("published", "closed")))
        .order_by(c.version.desc())
        .limit(1)
    )
    with store._reading() as conn:
        found = conn.execute(query).scalar_one_or_none()
    return None if found is None else dict(json.loads(found))


def previous_top(store: Store, competition_id: str) -> dict[str, int] | None:
    with store._reading() as conn:
        found = conn.execute(
            select(_tops.c.top).where(_tops.c.competition_id == competition_id)
        ).scalar_one_or_none()
    return None if found is None else {str(unit): int(rank) for unit, rank in found}


def record(
    store: Store, notices: Sequence[Notice], now: datetime, top: tuple[str, list[list[object]]] | None = None
) -> int:
    """Keep new notices (a key already kept is skipped) and, with them, the top N they came from."""
    added = 0
    with store._writing() as conn:
        for n in notices:
            stmt = (
                store._insert(_messages)
                .values(key=n.key, competition_id=n.competition_id, kind=n.kind, text=n.text, created_at=now)
                .on_conflict_do_nothing(index_elements=[_messages.c.key])
            )
            added += conn.execute(stmt).rowcount or 0
        if top is not None:
            competition_id, rows = top
            exists = conn.execute(
                select(_tops.c.competition_id).where(_tops.c.competition_id == competition_id)
            ).first()
            if exists is None:
                conn.execute(insert(_tops).values(competition_id=competition_id, top=rows, computed_at=now))
            else:
                conn.execute(
                    update(_tops)
                    .where(_tops.c.competition_id == competition_id)
                    .values(top=rows, computed_at=now)
                )
    return added


def approved_runs(store: Store, competition_id: str, since: datetime) -> list[dict[str, Any]]:
    r = _runs.c
    query = select(r.id, r.period, r.result).where(
        r.competition_id == competition_id, r.status == "approved", r.approved_at >= since
    )
    with store._reading() as conn:
        return [{"id": i, "period": p, "result": json.loads(res)} for i, p, res in conn.execute(query)]


def rewards(store: Store, competition_id: str, since: datetime | None = None) -> list[Reward]:
    """The competition's badge and challenge entries (streams/core/badges.py), those the sink
    recorded at or after `since` if given, in the order recorded."""
    c = _ledger.c
    query = select(c.entry_id, c.event_id, c.cm_id, c.component, c.label, c.occurred_at).where(
        c.competition_id == competition_id, c.component.in_(("badge", "challenge"))
    )
    if since is not None:
        query = query.where(c.recorded_at >= since)
    with store._reading() as conn:
        rows = conn.execute(query.order_by(c.recorded_at, c.entry_id)).all()
    out = []
    for entry_id, event_id, cm_id, component, label, occurred_at in rows:
        label = label or {}
        kind, _, rest = str(event_id).partition(":")  # badge:<instance>:<round>, badge-revoke:…
        out.append(
            Reward(
                entry_id=entry_id,
                cm_id=cm_id,
                component=component,
                badge=str(label.get("badge", "")),
                name=str(label.get("name", "")),
                award=not kind.endswith("-revoke"),
                round=int(rest.rsplit(":", 1)[-1]) if rest else 1,
                occurred_us=micros(utc(occurred_at)),
            )
        )
    return out


def undigested(store: Store, competition_id: str) -> list[tuple[int, str, str]]:
    m = _messages.c
    query = (
        select(m.id, m.key, m.text)
        .where(m.competition_id == competition_id, m.digest_id.is_(None))
        .order_by(m.id)
    )
    with store._reading() as conn:
        return [(i, k, t) for i, k, t in conn.execute(query)]


def make_digests(
    store: Store, competition_id: str, groups: Sequence[tuple[str, Sequence[int]]], now: datetime
) -> None:
    """One digest per (content, message ids); its messages point at it. One transaction."""
    with store._writing() as conn:
        for content, ids in groups:
            digest_id = conn.execute(
                insert(_digests)
                .values(
                    competition_id=competition_id,
                    content=content,
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
                .returning(_digests.c.id)
            ).scalar_one()
            conn.execute(update(_messages).where(_messages.c.id.in_(list(ids))).values(digest_id=digest_id))


def due(store: Store, competition_id: str, now: datetime) -> dict[str, Any] | None:
    """The oldest digest of the competition still to send whose time has come."""
    d = _digests.c
    query = (
        select(_digests)
        .where(d.competition_id == competition_id, d.sent_at.is_(None), d.next_attempt_at <= now)
        .order_by(d.id)
        .limit(1)
    )
    with store._reading() as conn:
        row = conn.execute(query).first()
    return None if row is None else dict(row._mapping)


def unsent_digests(store: Store, competition_id: str) -> int:
    d = _digests.c
    with store._reading() as conn:
        return int(
            conn.execute(
                select(func.count()).where(d.competition_id == competition_id, d.sent_at.is_(None))
            ).scalar_one()
        )


def intend(store: Store, digest_id: int, robot: str, now: datetime) -> None:
    """Committed before the POST: from here until `sent` the digest is in doubt if we die."""
    with store._writing() as conn:
        conn.execute(
            update(_digests)
            .where(_digests.c.id == digest_id)
            .values(intent_at=now, robot=robot, attempts=_digests.c.attempts + 1, last_error=None)
        )


def sent(store: Store, digest_id: int, now: datetime) -> None:
    with store._writing() as conn:
        conn.execute(update(_digests).where(_digests.c.id == digest_id).values(sent_at=now))
        conn.execute(update(_messages).where(_messages.c.digest_id == digest_id).values(sent_at=now))


def failed(store: Store, digest_id: int, error: str, retry_at: datetime) -> None:
    with store._writing() as conn:
        conn.execute(
            update(_digests)
            .where(_digests.c.id == digest_id)
            .values(last_error=error[:2000], next_attempt_at=retry_at)
        )


def recent_intents(store: Store, robot: str, since: datetime) -> list[datetime]:
    d = _digests.c
    with store._reading() as conn:
        return [
            at for (at,) in conn.execute(select(d.intent_at).where(d.robot == robot, d.intent_at > since))
        ]


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
