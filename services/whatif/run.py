"""One preview: read the history, score it twice with the pure core (the published versions, and
the published versions with the draft), rank, compare.

Both sides are scored from the same events with the same code (`rebuild`, what the stream uses
after a rule change), so a difference between them is the rules' difference and nothing else.
Nothing is written anywhere: live standings are untouched.

The work splits by partition of the validated topic (a manager's events all live in one): each
preview process scores its share of the partitions (`score_part`), and `finish` ranks and
compares the standings they return. `preview` does it all in one process (tests, scripts).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from schemas.topics import Topics
from services.whatif.compare import compare, ranked, summary
from services.whatif.history import ReadCounts, org_moves, published_versions, validated_history
from services.whatif.plan import plan_for
from streams.core.catalog import Catalog
from streams.core.engine import rebuild, standings
from streams.core.history import readable_events
from streams.core.rules import Competition, RankingKind, parse_competition
from streams.core.standing import Standing


@dataclass(frozen=True)
class PreviewJob:
    """Plain data, so it crosses into the preview processes: the draft as JSON."""

    bootstrap: str
    topic_prefix: str
    competition_id: str
    draft: dict[str, Any]
    ranking: RankingKind = "customer_manager"
    headcounts: dict[str, int] = field(default_factory=dict)  # the org's, for per-head rankings


@dataclass
class Part:
    """What one preview process returns for its partitions (plain data: it is pickled)."""

    published: list[dict[str, Any]] = field(default_factory=list)
    before: list[dict[str, Any]] = field(default_factory=list)  # standings, as JSON
    after: list[dict[str, Any]] = field(default_factory=list)
    managers: int = 0
    events: int = 0
    unreadable: int = 0
    counts: ReadCounts = field(default_factory=ReadCounts)
    since: str | None = None
    types: list[str] = field(default_factory=list)
    read_s: float = 0.0  # wall seconds reading Kafka
    parse_s: float = 0.0  # wall seconds parsing the canonical events
    score_s: float = 0.0  # wall seconds in the core (both sides)
    cpu_s: float = 0.0  # the process's CPU seconds for all of it (the machine may be shared)


def catalogs(published: list[Competition], draft: Competition) -> tuple[Catalog, Catalog]:
    """The published versions; and the same with the draft (replacing a version of its number)."""
    draft = draft.model_copy(update={"status": "draft"})
    others = [c for c in published if c.version != draft.version]
    return Catalog(published), Catalog([*others, draft], preview=True)


def score_part(job: PreviewJob, partitions: list[int] | None) -> Part:
    """A preview process's entry point: its partitions (None: all), on a fresh event loop."""
    return asyncio.run(_score_part(job, partitions))


async def _score_part(job: PreviewJob, partitions: list[int] | None) -> Part:
    began, cpu = time.perf_counter(), time.process_time()
    topics = Topics(job.topic_prefix)
    cid = job.competition_id
    draft = parse_competition(job.draft)
    part = Part()
    published = await published_versions(job.bootstrap, topics, cid)
    part.published = [c.model_dump(mode="json") for c in published]
    before, after = catalogs(published, draft)
    plan = plan_for([*published, draft])
    part.since = plan.since.isoformat() if plan.since else None
    part.types = sorted(plan.types)
    org = await org_moves(job.bootstrap, topics, part.counts)
    async for history in validated_history(job.bootstrap, topics, plan, part.counts, partitions):
        for cm_id, raw in history.by_cm.items():
            _score_manager(cm_id, raw, org.get(cm_id, []), cid, before, after, part)
        history.by_cm.clear()
    part.read_s = time.perf_counter() - began - part.parse_s - part.score_s
    part.cpu_s = time.process_time() - cpu
    return part


def finish(job: PreviewJob, parts: list[Part], draft: Competition | None = None) -> dict[str, Any]:
    """Rank both sides over every part's standings and compare them."""
    t = time.perf_counter()
    cid = job.competition_id
    draft = draft or parse_competition(job.draft)
    published = [parse_competition(c) for c in parts[0].published] if parts else []
    before_catalog, after_catalog = catalogs(published, draft)
    before = [Standing.from_dict(s) for p in parts for s in p.before]
    after = [Standing.from_dict(s) for p in parts for s in p.after]
    before_rows = (
        ranked(before, job.ranking, before_catalog.final(cid).tie_break, job.headcounts)
        if cid in before_catalog.ids
        else []
    )
    after_rows = ranked(after, job.ranking, after_catalog.final(cid).tie_break, job.headcounts)
    per_cm = job.ranking == "customer_manager"
    rows = compare(
        before_rows,
        after_rows,
        {s.cm_id: s.components for s in before} if per_cm else None,
        {s.cm_id: s.components for s in after} if per_cm else None,
    )
    counts = ReadCounts()
    for p in parts:
        counts.records += p.counts.records
        counts.kept += p.counts.kept
        counts.skipped += p.counts.skipped
    org = max((p.counts.org for p in parts), default=0)  # every part reads the whole org topic
    ranking_s = time.perf_counter() - t
    return {
        "competition_id": cid,
        "ranking": job.ranking,
        "draft": {"version": draft.version, "effective_from": draft.effective_from.isoformat()},
        "published_versions": [c.version for c in published],
        "events_read": counts.records + org,
        "events_scored": sum(p.events for p in parts),
        "events_unreadable": sum(p.unreadable for p in parts),
        "managers": sum(p.managers for p in parts),
        "history": {
            "validated_read": counts.records,
            "validated_kept": counts.kept,
            "validated_skipped_before_since": counts.skipped,
            "org_moves": org,
            "since": parts[0].since if parts else None,
            "types": parts[0].types if parts else [],
            "processes": len(parts),
        },
        "timing_ms": {  # per phase, the slowest process's; cpu: all processes together
            "read": round(max((p.read_s for p in parts), default=0) * 1000),
            "parse": round(max((p.parse_s for p in parts), default=0) * 1000),
            "score": round(max((p.score_s for p in parts), default=0) * 1000),
            "rank": round(ranking_s * 1000),
            "cpu": round(sum(p.cpu_s for p in parts) * 1000),
        },
        "summary": summary(rows),
        "rows": [row.to_dict() for row in rows],
    }


async def preview(job: PreviewJob) -> dict[str, Any]:
    """The whole preview in this process (the API uses the pool: services/whatif/pool.py)."""
    began = time.perf_counter()
    part = await _score_part(job, None)
    result = finish(job, [part])
    result["timing_ms"]["total"] = round((time.perf_counter() - began) * 1000)
    return result


def _score_manager(
    cm_id: str,
    raw: list[bytes],
    org: list[bytes],
    cid: str,
    before: Catalog,
    after: Catalog,
    out: Part,
) -> None:
    t = time.perf_counter()
    records = [*raw, *org]
    events = readable_events(records)
    out.unreadable += len(records) - len(events)  # parked by the scoring stage when it first met them
    scoring = time.perf_counter()
    out.parse_s += scoring - t
    if all(e.type == "org.changed" for e in events):
        return  # only org moves: nothing to score
    out.managers += 1
    out.events += len(raw)
    for catalog, into in ((before, out.before), (after, out.after)):
        if cid not in catalog.ids:
            continue
        state, _ = rebuild(cm_id, events, catalog, None, dated=False)  # standings only
        into += [s.to_dict() for s in standings(state) if s.competition_id == cid]
    out.score_s += time.perf_counter() - scoring
