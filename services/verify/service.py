"""Verify mode: re-score a competition (optionally one month of it) from the raw history with the
pure core and list every difference from the streamed ledger in SQL.

The history is the validated topic (every partition, committed records only, org moves and
re-score control records included) and the competitions topic; the ledger is the SQL table the
sink fills. A period `YYYY-MM` compares the entries whose `occurred_at` falls in that Shanghai
month (a re-score's correcting entries carry the new version's `effective_from`), and the totals
of those entries; without a period the totals are the core's own books after the whole history.

The history stops at a fixed cut taken when verify starts (the validated topic's end offsets),
and the SQL side is the entries caused by the records before it (services/verify/cut.py): a
verification may run while the pipeline keeps scoring, and what it scores meanwhile is neither
expected nor reported.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from schemas.topics import Topics
from services.awards.positions import Groups
from services.store import Store
from services.verify.compare import Outside, Report, caused_after_cut, compare, period_totals
from services.verify.cut import Cut, events_after, reach, take_cut
from services.verify.history import VersionKey, definitions, partition_batches
from services.verify.replay import Expected, PartitionReplay
from streams.core.calendar import day_of, start_of
from streams.core.rules import Competition


class VerifyError(Exception):
    """The request cannot be verified as asked (an unknown competition, a malformed period)."""


@dataclass(frozen=True)
class Period:
    name: str  # YYYY-MM
    start: datetime  # Shanghai midnight of the first day
    end: datetime  # Shanghai midnight of the next month's first day

    @classmethod
    def parse(cls, text: str) -> Period:
        try:
            first = datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            raise VerifyError(f"period must be YYYY-MM, got {text!r}") from None
        # Months near the calendar's ends have no next month or no UTC instant to compare with.
        if not 1970 <= first.year <= 9998:
            raise VerifyError(f"period must be a month between 1970-01 and 9998-12, got {text!r}")
        following = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
        return cls(text, start_of(first), start_of(following))

    def holds(self, moment: datetime) -> bool:
        return self.start.date() <= day_of(moment) < self.end.date()


@dataclass(frozen=True)
class _Share:
    """Some partitions of the validated topic, and the definitions to replay them with."""

    bootstrap: str
    topic: str
    partitions: list[int]
    versions: dict[VersionKey, Competition]
    only: set[str] | None
    cut: Cut  # each partition is replayed up to its offset here


async def _replay(share: _Share) -> Expected:
    def lookup(cid: str, version: int, status: str) -> Competition | None:
        return share.versions.get((cid, version, status))

    expected = Expected()
    for partition in share.partitions:
        replay = PartitionReplay(lookup, share.only, expected)
        stop = share.cut.get(partition, 0)
        async for batch in partition_batches(share.bootstrap, share.topic, partition, stop=stop):
            await replay.feed(batch)
        await replay.finish()
    return expected


def _replay_in_process(share: _Share) -> Expected:
    """One worker process's share of the partitions (each is replayed whole, by one process)."""
    return asyncio.run(_replay(share))


async def expected_ledger(
    bootstrap: str,
    topics: Topics,
    competition_ids: list[str] | None,
    workers: int | None = None,
    cut: Cut | None = None,
) -> tuple[Expected, set[str]]:
    """Replay every validated partition (up to `cut`; None: its end now) through the core; also
    returns the competitions known.

    Partitions are independent (a manager's history is in one): with `workers` > 1 they are
    shared out to that many processes (default: one per CPU, at most one per partition)."""
    versions = await definitions(bootstrap, topics.competitions)
    known = {cid for cid, _, _ in versions}
    if competition_ids is not None:
        unknown = sorted(set(competition_ids) - known)
        if unknown:
            raise VerifyError(f"no competition {', '.join(unknown)} on {topics.competitions}")
    only = set(competition_ids) if competition_ids is not None else None
    if cut is None:
        cut = await take_cut(bootstrap, topics.validated)
    partitions = sorted(cut)
    count = max(1, min(workers or os.cpu_count() or 1, len(partitions)))
    if count == 1:
        return await _replay(_Share(bootstrap, topics.validated, partitions, versions, only, cut)), known
    shares = [partitions[i::count] for i in range(count)]
    loop = asyncio.get_running_loop()
    # spawn, not fork: the caller may be the API, with threads and an event loop of its own
    with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool, _replay_in_process, _Share(bootstrap, topics.validated, share, versions, only, cut)
                )
                for share in shares
            )
        )
    expected = Expected()
    for part in parts:  # partitions never share an entry id (the id names the manager)
        expected.entries.update(part.entries)
        expected.totals.update(part.totals)
        expected.failures += part.failures
        expected.waiting += part.waiting
        expected.events += part.events
        expected.controls += part.controls
        expected.revisions.update(part.revisions)
    return expected, known


async def verify(
    bootstrap: str,
    topics: Topics,
    store: Store,
    competition_ids: list[str] | None = None,
    period: str | None = None,
    workers: int | None = None,
    *,
    groups: Groups | None = None,
    wait: float = 60.0,
) -> Report:
    """The whole verification; `competition_ids=None`: every competition ever published.

    `groups`: the pipeline's consumer groups, whose score stage and sink are waited for (up to
    `wait` seconds) to pass the cut before the replay starts: no minutes of replay for nothing
    when they do not (PipelineBehind); None: not waited for, for a pipeline known to be stopped
    after catching up."""
    began = time.perf_counter()
    window = Period.parse(period) if period is not None else None
    cut = await take_cut(bootstrap, topics.validated)
    if groups is not None:
        await reach(bootstrap, topics, groups, cut, wait=wait)
    expected, known = await expected_ledger(bootstrap, topics, competition_ids, workers, cut)
    chosen = sorted(competition_ids if competition_ids is not None else known)
    entries = expected.entries
    totals = expected.totals
    if window is not None:
        entries = {k: e for k, e in entries.items() if window.holds(e.occurred_at)}
        totals = period_totals(entries.values())
    report = Report(chosen, period, events=expected.events, controls=expected.controls, cut=cut)
    report.failures = expected.failures
    report.waiting = expected.waiting
    rows = store.ledger_scan(
        chosen,
        start=window.start if window is not None else None,
        end=window.end if window is not None else None,
    )

    def after_cut() -> Outside:
        # Called in compare's thread once the SQL ledger has been read: the events after the cut
        # are read up to the end as of then, so they include every record whose entries it saw.
        later = asyncio.run(events_after(bootstrap, topics.validated, cut))
        return partial(caused_after_cut, revisions=expected.revisions, later_events=later)

    # The SQL read is blocking: off the event loop, so a caller's loop (the API's) keeps serving.
    await asyncio.to_thread(compare, entries, totals, rows, report, after_cut)
    report.seconds = time.perf_counter() - began
    return report


def verify_blocking(
    bootstrap: str,
    topics: Topics,
    store: Store,
    competition_ids: list[str] | None = None,
    period: str | None = None,
    *,
    groups: Groups | None = None,
    wait: float = 60.0,
) -> Report:
    """`verify` on an event loop of its own: for a worker thread (the API) or the CLI."""
    return asyncio.run(verify(bootstrap, topics, store, competition_ids, period, groups=groups, wait=wait))
