"""Explain, for the manager who asks and for the auditor: the entries behind a score, and why one
event did or did not count in each competition.

The "why" of a valid event is the core's (`streams.core.explain.explain_event`, over the
manager's history in the validated topic and every published version); what never reached the
core comes from around it: a dropped copy (events.duplicates) or a refusal (dead_letters in SQL,
filled by the sink from events.deadletter, scoring failures included).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiokafka.partitioner import DefaultPartitioner

from schemas import SHANGHAI
from schemas.envelope import Envelope
from schemas.errors import Rejection
from schemas.routing import participant_of
from schemas.topics import Topics
from schemas.validate import read_canonical
from schemas.wire_json import load_json
from services.readmodel.labels import LATE_NOTE, component_label
from services.store import Store
from services.verify.history import definitions, partition_batches
from services.verify.service import Period
from streams.admin import partitions_of
from streams.core.calendar import day_of
from streams.core.catalog import Catalog
from streams.core.explain import Verdict, explain_event
from streams.core.history import readable_events
from streams.rules_feed import STATUS_ORDER

ZERO = Decimal("0.00")


class EventNotFound(Exception):
    """No trace of the event: not in the history, not a duplicate, not a dead letter."""


# -- a participant's entries ----------------------------------------------------------------------


def participant_entries(store: Store, competition_id: str, cm_id: str, period: str | None) -> dict[str, Any]:
    """Every ledger entry behind a manager's score in one competition (one Shanghai month of them
    with `period`), oldest first, with the totals they add up to."""
    window = Period.parse(period) if period is not None else None
    rows = [
        r
        for r in store.entries_for(competition_id, cm_id)
        if window is None or window.holds(r["occurred_at"])
    ]
    components: dict[str, Decimal] = {}
    versions: dict[int, Decimal] = {}
    late = ZERO
    for r in rows:
        components[r["component"]] = components.get(r["component"], ZERO) + r["points"]
        versions[r["rule_version"]] = versions.get(r["rule_version"], ZERO) + r["points"]
        late += r["points"] if r["late"] else ZERO
    return {
        "competition_id": competition_id,
        "cm_id": cm_id,
        "period": period,
        "entries": [_entry(r) for r in rows],
        "totals": {
            "points": str(sum(components.values(), ZERO)),
            "entries": len(rows),
            "components": {c: str(p) for c, p in sorted(components.items())},
            "component_labels": {c: component_label(c) for c in sorted(components)},
            "by_rule_version": {str(v): str(p) for v, p in sorted(versions.items())},
            "late_points": str(late),
        },
    }


def _entry(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "entry_id": r["entry_id"],
        "event_id": r["event_id"],
        "competition_id": r["competition_id"],
        "rule_version": r["rule_version"],
        "component": r["component"],
        "label": component_label(r["component"], r["reason"], r.get("label")),
        "counted": r.get("label"),  # what it counted, as the core labelled it (None: an older entry)
        "correction": r.get("correction"),
        "points": str(r["points"]),
        "reason": r["reason"],
        "late": bool(r["late"]),
        "late_note": LATE_NOTE if r["late"] else None,
        "sub_branch_id": r["sub_branch_id"],
        "team_id": r["team_id"],
        "occurred_at": _iso(r["occurred_at"]),
        "recorded_at": _iso(r["recorded_at"]),
    }


def _iso(moment: datetime | None) -> str | None:
    """Shanghai time (+08:00), as the docs and the windows speak; the database hands back UTC."""
    return moment.astimezone(SHANGHAI).isoformat() if moment is not None else None


# -- one event ------------------------------------------------------------------------------------


async def _duplicates(bootstrap: str, topic: str, event_id: str) -> list[dict[str, Any]]:
    key = event_id.encode()
    found: list[dict[str, Any]] = []
    for partition in await partitions_of(bootstrap, topic):
        async for batch in partition_batches(bootstrap, topic, partition, key):
            for record in batch:
                try:
                    found.append(json.loads(record.value or b"{}"))
                except ValueError:
                    continue
    return found


async def _history(
    bootstrap: str, topic: str, event_id: str, cm_id: str | None
) -> tuple[Envelope | None, list[Envelope]]:
    """The event and its manager's history from the validated topic. With the manager known only
    their partition is read; otherwise every partition is searched for the id first."""
    partitions = await partitions_of(bootstrap, topic)
    if not partitions:
        return None, []
    if cm_id is None:
        needle = event_id.encode()
        for partition in partitions:
            async for batch in partition_batches(bootstrap, topic, partition):
                for record in batch:
                    if record.control or not record.value or needle not in record.value:
                        continue
                    event = _read(record.value)
                    if event is not None and event.event_id == event_id:
                        cm_id = participant_of(event)
                        break
                if cm_id is not None:
                    break
            if cm_id is not None:
                break
        if cm_id is None:
            return None, []
    key = cm_id.encode()
    partition = DefaultPartitioner()(key, partitions, partitions)
    history: list[Envelope] = []
    async for batch in partition_batches(bootstrap, topic, partition, key):
        history += readable_events(r.value for r in batch if not r.control and r.value)
    target = next((e for e in history if e.event_id == event_id), None)
    return target, history


def _read(value: bytes) -> Envelope | None:
    try:
        return read_canonical(value)
    except (Rejection, ValueError):
        return None


def _named_manager(raw: bytes) -> str | None:
    """The data.cm_id a refused input still names, if it is JSON that names one."""
    try:
        obj = load_json(raw)
    except Rejection:
        return None
    data = obj.get("data") if isinstance(obj, dict) else None
    value = data.get("cm_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _published(versions: dict[tuple[str, int, str], Any]) -> Catalog:
    """Each version in its furthest status, drafts left out: what scores today."""
    best: dict[tuple[str, int], Any] = {}
    for (cid, version, status), comp in versions.items():
        known = best.get((cid, version))
        if known is None or STATUS_ORDER[status] > STATUS_ORDER[known.status]:
            best[(cid, version)] = comp
    return Catalog(best.values())


def _verdict(
    v: Verdict, entries: list[dict[str, Any]], day_corrections: list[dict[str, Any]]
) -> dict[str, Any]:
    own = [e for e in entries if e["competition_id"] == v.competition_id]
    return {
        "competition_id": v.competition_id,
        "name": v.name,
        "counted": v.counted or bool(own),
        "points_now": str(v.points),
        "changes": {c: str(p) for c, p in v.changes.items()},
        "change_labels": {c: component_label(c) for c in v.changes},
        "findings": [
            {"code": f.code, "text": f.text, "rule": f.rule, "rule_version": f.version} for f in v.findings
        ],
        "entries": own,
        "recorded_points": str(sum((Decimal(e["points"]) for e in own), ZERO)),
        # Counted, but as the next open month's adjustment: say so beside "counted".
        "late_points": str(sum((Decimal(e["points"]) for e in own if e["late"]), ZERO)),
        "late_note": LATE_NOTE if any(e["late"] for e in own) else None,
        # A rule change corrects a day that already held points by one entry for the whole day
        # (streams/core/engine.py): shown here, as the event's own entries predate it.
        "day_corrections": [e for e in day_corrections if e["competition_id"] == v.competition_id],
    }


def _day_corrections(store: Store, event: Envelope, competition_ids: list[str]) -> list[dict[str, Any]]:
    """The re-scores' corrections of the event's day for its manager (event id `rescore:…:<day>`)."""
    day = day_of(event.occurred_at)
    cm_id = participant_of(event)
    return [
        _entry(r)
        for cid in competition_ids
        for r in store.entries_for(cid, cm_id)
        if r["event_id"].startswith("rescore:") and day_of(r["occurred_at"]) == day
    ]


async def explain_event_id(
    bootstrap: str,
    topics: Topics,
    store: Store,
    event_id: str,
    cm_id: str | None = None,
    *,
    owner: str | None = None,
) -> dict[str, Any]:
    """`cm_id`: the event's manager, when known (only their partition is read). `owner`: explain
    the event only as one of this manager's (a manager asking about their own): the history is
    theirs alone, and entries, dropped copies and dead letters that name another manager (or, for
    a dead letter that is not JSON, none) are left out; nothing left is EventNotFound."""
    rows = await asyncio.to_thread(store.entries_of_event, event_id)
    letters = await asyncio.to_thread(store.dead_letters_of_event, event_id)
    duplicates = await _duplicates(bootstrap, topics.duplicates, event_id)
    if owner is not None:
        if rows and not any(r["cm_id"] == owner for r in rows):
            raise EventNotFound(f"no event {event_id} of {owner}")
        rows = [r for r in rows if r["cm_id"] == owner]  # a split adjustment names two managers
        cm_id = owner
        letters = [d for d in letters if _named_manager(d["raw"]) == owner]
    entries = [_entry(r) for r in rows]
    if cm_id is None and rows:
        cm_id = rows[0]["cm_id"]
    event, history = await _history(bootstrap, topics.validated, event_id, cm_id)
    if owner is not None and event is None:
        duplicates = []  # copies of an event that is not in the owner's history are someone else's
    dead = [
        {
            "reason": d["reason"],
            "detail": d["detail"],
            "source_topic": d["source_topic"],
            "received_at": _iso(d["received_at"]),
        }
        for d in letters
    ]
    if event is None and not dead and not duplicates and not entries:
        raise EventNotFound(f"no trace of event {event_id}" + (f" of {owner}" if owner else ""))
    competitions: list[dict[str, Any]] = []
    if event is not None:
        catalog = _published(await definitions(bootstrap, topics.competitions))
        verdicts = await asyncio.to_thread(explain_event, event, history, catalog)
        corrections = await asyncio.to_thread(
            _day_corrections, store, event, [v.competition_id for v in verdicts]
        )
        competitions = [_verdict(v, entries, corrections) for v in verdicts]
    if event is None:
        status = "dead_letter" if dead else "unknown"
    elif any(c["counted"] for c in competitions):
        status = "counted"
    else:
        status = "not_counted"
    return {
        "event_id": event_id,
        "status": status,
        "event": None
        if event is None
        else {
            "type": event.type,
            "cm_id": participant_of(event),
            "occurred_at": _iso(event.occurred_at),
            "history_events": len(history),
        },
        "duplicates": {
            "copies_dropped": len(duplicates),
            "note": "同一事件编号再次到达：只计第一次，其余副本丢弃" if duplicates else None,
            "records": duplicates,
        },
        "dead_letters": dead,
        "competitions": competitions,
    }
