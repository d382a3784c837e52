"""The scoring core's four verbs: apply one event, rescore after a rule change, read standings,
and score a batch of events (replay, verification, what-if preview) through the same code.

Arrival time never changes a score. `now` (optional) only marks entries as late when they arrive
after window end + grace_days: they still count, so stream and replay agree, and the month-end
layer shows them as visible adjustments instead of silently rewriting a frozen month.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from schemas.envelope import Envelope
from schemas.routing import participant_of
from streams.core.book import Book, Deltas, Labels
from streams.core.calendar import end_of
from streams.core.catalog import Catalog, as_catalog
from streams.core.errors import StateError
from streams.core.ledger import LedgerEntry, make_entry
from streams.core.points import fmt
from streams.core.rules import Competition
from streams.core.scoring.base import Context
from streams.core.standing import Standing, standing_of
from streams.core.state import ParticipantState


def _is_late(final: Competition, now: datetime | None) -> bool:
    return now is not None and now > end_of(final.window.end + timedelta(days=final.grace_days))


def _entries(
    state: ParticipantState,
    book: Book,
    ctx: Context,
    deltas: Deltas,
    labels: Labels,
    *,
    event_id: str,
    version: int,
    occurred_at: datetime,
    notes: dict[str, str] | None = None,
    prefix: str = "",
    late: bool = False,
) -> list[LedgerEntry]:
    out = []
    for (component, sub_branch, team), points in sorted(deltas.items(), key=str):
        if not points:
            continue
        note = notes.get(component) if notes else None
        reason = note if note else f"{prefix}{labels.get(component, component)} {fmt(points)}"
        out.append(
            make_entry(
                competition_id=book.cid,
                rule_version=version,
                event_id=event_id,
                cm_id=state.cm_id,
                sub_branch_id=sub_branch,
                team_id=team,
                occurred_at=occurred_at,
                points=points,
                component=component,
                reason=reason,
                late=late,
            )
        )
    return out


def _sync(state: ParticipantState, catalog: Catalog, cid: str, now: datetime | None) -> list[LedgerEntry]:
    book = state.book(cid)
    if book.scorers is not None and book.fingerprint == catalog.fingerprint(cid):
        return []
    ctx = Context(catalog, cid, state.org)
    result = book.sync(state.events.values(), ctx)
    if result is None:
        return []
    final = ctx.final
    return _entries(
        state,
        book,
        ctx,
        *result,
        event_id=f"rescore:{cid}:{book.revision}:{book.fingerprint}",
        version=final.version,
        occurred_at=final.effective_from,
        prefix=f"规则 v{final.version} 重算：",
        late=_is_late(final, now),
    )


def apply(
    state: ParticipantState,
    event: Envelope,
    competitions: Catalog | Iterable[Competition],
    *,
    now: datetime | None = None,
) -> list[LedgerEntry]:
    """Add one event to the participant's state; return the ledger entries it causes.

    A repeated event_id returns []. If the published versions changed since the state last saw
    them, the correcting rescore entries come first.
    """
    catalog = as_catalog(competitions)
    if participant_of(event) != state.cm_id:
        raise StateError(f"event {event.event_id} belongs to {participant_of(event)}, not {state.cm_id}")
    if state.seen(event.event_id):
        return []
    entries: list[LedgerEntry] = []
    for cid in catalog.ids:
        entries += _sync(state, catalog, cid, now)
    state.remember(event)
    org_move = event.type == "org.changed"
    for cid in catalog.ids:
        book = state.books[cid]
        ctx = Context(catalog, cid, state.org)
        if org_move:
            deltas, labels = book.recompute_all(ctx)
            notes: dict[str, str] = {}
        else:
            deltas, labels, notes = book.observe(event, ctx)
        if not deltas:
            continue
        final = ctx.final
        version = ctx.at(event.occurred_at) or final
        entries += _entries(
            state,
            book,
            ctx,
            deltas,
            labels,
            event_id=event.event_id,
            version=version.version,
            occurred_at=event.occurred_at,
            notes=notes,
            prefix="调整组织归属：" if org_move else "",
            late=_is_late(final, now),
        )
    return entries


def rescore(
    state: ParticipantState,
    competitions: Catalog | Iterable[Competition],
    *,
    now: datetime | None = None,
) -> list[LedgerEntry]:
    """After a version is published (or closed), recompute from the kept events and return the
    correcting deltas. Running it again with the same competitions returns []."""
    catalog = as_catalog(competitions)
    entries: list[LedgerEntry] = []
    for cid in catalog.ids:
        entries += _sync(state, catalog, cid, now)
    return entries


def standings(state: ParticipantState) -> list[Standing]:
    """One standing per competition the participant has a book for (zero scores included)."""
    return [standing_of(state.cm_id, book) for _, book in sorted(state.books.items())]


def score_batch(
    events: Iterable[Envelope],
    competitions: Catalog | Iterable[Competition],
    *,
    preview: bool = False,
) -> dict[tuple[str, str], Standing]:
    """Run the same engine over a list of events, grouped by customer manager.

    preview=True also scores draft versions (the organisers' what-if on past data).
    """
    catalog = competitions if isinstance(competitions, Catalog) else Catalog(competitions, preview=preview)
    states: dict[str, ParticipantState] = {}
    for event in events:
        cm_id = participant_of(event)
        state = states.get(cm_id)
        if state is None:
            state = states[cm_id] = ParticipantState(cm_id)
        apply(state, event, catalog)
    out: dict[tuple[str, str], Standing] = {}
    for cm_id, state in sorted(states.items()):
        rescore(state, catalog)  # books for competitions none of this CM's events reached yet
        for standing in standings(state):
            out[(standing.competition_id, cm_id)] = standing
    return out
