"""The scoring core's verbs: apply one event, rebuild a state from the manager's history (after a
rule change, or when an event cannot be applied exactly), read standings, and score a batch of
events (replay, verification, what-if preview) through the same code.

Arrival time never changes a score. `arrival` (optional) only marks entries as late: when the
event reached the platform after its award period was frozen (streams/core/lateness.py). They
still count, so stream and replay agree, and the month-end layer shows them as visible
adjustments instead of silently rewriting a frozen month.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from schemas.envelope import Envelope
from schemas.events import AccountClosed, CustomerTransferred, DepositBalance, OrgChanged
from schemas.routing import participant_of, participants_of
from streams.core.badges import CHALLENGE, derive, progress
from streams.core.book import Book, Dated, Deltas, Details, Labels, key_order
from streams.core.calendar import day_of, start_of
from streams.core.catalog import Catalog, as_catalog
from streams.core.compact import micros
from streams.core.errors import NeedsRebuild, StateError
from streams.core.labels import label_of
from streams.core.lateness import Arrival, is_late
from streams.core.ledger import LedgerEntry, make_entry
from streams.core.points import ZERO, fmt
from streams.core.rules import Competition
from streams.core.scoring.base import Context, Key
from streams.core.standing import Standing, standing_of
from streams.core.state import ParticipantState

NO_POINTS = Decimal("0.00")  # a badge's entry: written like any other amount


def _order(item: tuple[Key, Decimal]) -> tuple[str, tuple[int, str], tuple[int, str]]:
    return key_order(item[0])


def _is_late(competition_id: str, occurred_at: datetime, arrival: Arrival | None) -> bool:
    """Late only when the period owning `occurred_at` was frozen when the record reached the
    platform; a worker's clock or lag never makes an entry late. A re-score's correction dated in
    a frozen period is late the same way: carried into the next open period as an adjustment."""
    return is_late(competition_id, occurred_at, arrival)


def _entries(
    state: ParticipantState,
    book: Book,
    deltas: Deltas,
    labels: Labels,
    *,
    event_id: str,
    version: int,
    occurred_at: datetime,
    notes: dict[str, str] | None = None,
    details: Details | None = None,
    prefix: str = "",
    arrival: Arrival | None = None,
    correction: str | None = None,
) -> list[LedgerEntry]:
    """The entries for these deltas, recorded in the book on their Shanghai day."""
    out = []
    day = day_of(occurred_at).toordinal()
    for key, points in sorted(deltas.items(), key=_order):
        if not points:
            continue
        component, sub_branch, team = key
        note = notes.get(component) if notes else None
        reason = f"{prefix}{note}" if note else f"{prefix}{labels.get(component, component)} {fmt(points)}"
        book.record(key, day, points)
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
                late=_is_late(book.cid, occurred_at, arrival),
                correction=correction,
                label=label_of(component, details.get(component) if details else None),
            )
        )
    return out


def _books(state: ParticipantState, event: Envelope, catalog: Catalog) -> list[tuple[Book, Context]]:
    """The state's books that take this event (a fresh book where the state has none), each
    checked to take it exactly. Raises NeedsRebuild before anything in the state changes."""
    bound = state.bound
    if (
        bound is None
        or bound[0] is not catalog
        or bound[1] is not state.books
        or bound[2] != len(state.books)
    ):
        pairs = []
        for cid in catalog.ids:
            book = state.books.get(cid)
            if book is None:
                book = Book.fresh(cid, Context(catalog, cid, state.org, state.cm_id))
            elif book.fingerprint != catalog.fingerprint(cid):
                raise NeedsRebuild(f"competition {cid} changed since {state.cm_id}'s state was built")
            pairs.append((book, book.context(catalog, state.org, state.cm_id)))
        if any(book.cid not in state.books for book, _ in pairs):
            for book, ctx in pairs:  # new books join the state whatever the event: check them all
                book.check(event, ctx)
            return pairs
        # every book current: remembered for this catalog, so the next event skips the checks above
        bound = state.bound = (catalog, state.books, len(state.books), pairs)
    out = []
    kind = event.type
    for book, ctx in bound[3]:
        if book.takes(kind):
            book.check(event, ctx)
            out.append((book, ctx))
    return out


def _score(
    state: ParticipantState, book: Book, ctx: Context, event: Envelope, arrival: Arrival | None
) -> list[LedgerEntry]:
    """Apply a checked event to one book: the entries it causes."""
    state.touch(book.cid)  # the book changes in place: its cached JSON goes (state.to_json)
    org_move = event.type == "org.changed"
    details: Details = {}
    if org_move:
        deltas, labels = book.recompute_all(ctx)
        notes: dict[str, str] = {}
    elif book.takes(event.type):
        deltas, labels, notes, details = book.observe(event, ctx)
    else:
        return []
    entries = (
        _event_entries(state, book, ctx, deltas, labels, event, arrival, notes, details) if deltas else []
    )
    if not ctx.final.rewards and not book.held and not book.challenges:
        return entries  # no badges to keep up to date (_rewards would say the same)
    version = ctx.at(event.occurred_at) or ctx.final
    return entries + _rewards(state, book, ctx, event.occurred_at, version.version, arrival)


def _rewards(
    state: ParticipantState,
    book: Book,
    ctx: Context,
    occurred_at: datetime,
    version: int,
    arrival: Arrival | None,
) -> list[LedgerEntry]:
    """Bring the book's badges and challenge progress to what its items now give (badges.py):
    an entry of 0 points per badge newly earned (at the moment earned) and per badge no longer
    earned (a revoke, at `occurred_at`: when the clawback or re-score took it back). Ids come from
    the badge instance and its round, never from the event at hand, so any path to the same badges
    writes the same entries, and a held badge is never written again."""
    final = ctx.final
    if not final.rewards and not book.held and not book.challenges:
        return []
    found, changed = book.facts.collect(book.scorers.values(), book.buckets, ctx)
    if not changed:
        return []  # the same facts, the same badges: nothing to write
    state.touch(book.cid)
    book.challenges = progress(final, found)
    awards, revokes = book.held.settle(derive(final, found))
    out = []
    for earned, n in awards:
        out.append(
            _reward_entry(
                state,
                book,
                earned.instance,
                n,
                earned.kind,
                earned.name,
                earned.badge,
                earned.at,
                earned.unit.sub_branch_id,
                earned.unit.team_id,
                version,
                arrival,
                revoke=False,
            )
        )
    for instance, (n, _, _, kind, name, rule) in revokes:
        unit = ctx.unit(day_of(occurred_at))
        out.append(
            _reward_entry(
                state,
                book,
                instance,
                n,
                kind,
                name,
                rule,
                occurred_at,
                unit.sub_branch_id,
                unit.team_id,
                version,
                arrival,
                revoke=True,
            )
        )
    return out


def _reward_entry(
    state: ParticipantState,
    book: Book,
    instance: str,
    n: int,
    kind: str,
    name: str,
    rule: str,
    at: datetime,
    sub_branch: str | None,
    team: str | None,
    version: int,
    arrival: Arrival | None,
    *,
    revoke: bool,
) -> LedgerEntry:
    component = "challenge" if instance.startswith(CHALLENGE) else "badge"
    if component == "challenge":
        reason = f"{'撤销' if revoke else ''}达成挑战：{name}"
    else:
        reason = f"{'收回' if revoke else '获得'}徽章：{name}"
    return make_entry(
        competition_id=book.cid,
        rule_version=version,
        event_id=f"{component}{'-revoke' if revoke else ''}:{instance.removeprefix(CHALLENGE)}:{n}",
        cm_id=state.cm_id,
        sub_branch_id=sub_branch,
        team_id=team,
        occurred_at=at,
        points=NO_POINTS,
        component=component,
        reason=reason,
        late=_is_late(book.cid, at, arrival),
        # the name is the organiser's words, safe on a privacy screen (labels.py)
        label={
            "kind": component,
            "rule": kind,
            "badge": rule,
            "name": name,
            "action": "revoke" if revoke else "award",
        },
    )


def _event_entries(
    state: ParticipantState,
    book: Book,
    ctx: Context,
    deltas: Deltas,
    labels: Labels,
    event: Envelope,
    arrival: Arrival | None,
    notes: dict[str, str] | None = None,
    details: Details | None = None,
) -> list[LedgerEntry]:
    """An event's own entries, from `apply` or from a rebuild it caused: its id, the version in
    force when it occurred, its day, and the org-move prefix."""
    final = ctx.final
    version = ctx.at(event.occurred_at) or final
    return _entries(
        state,
        book,
        deltas,
        labels,
        event_id=event.event_id,
        version=version.version,
        occurred_at=event.occurred_at,
        notes=notes,
        details=details,
        prefix="调整组织归属：" if event.type == "org.changed" else "",
        arrival=arrival,
    )


def apply(
    state: ParticipantState,
    event: Envelope,
    competitions: Catalog | Iterable[Competition],
    *,
    arrival: Arrival | None = None,
) -> list[LedgerEntry]:
    """Add one event to the participant's state; return the ledger entries it causes.

    A repeat of one of the state's recent event ids returns []. Raises NeedsRebuild, leaving the
    state as it was, when the event cannot be applied exactly (a balance for a day the state has
    folded, an org change restamping folded days) or a competition's versions changed since the
    book was built: then call `rebuild` with the manager's history (including this event as cause).
    """
    catalog = as_catalog(competitions)
    if state.cm_id not in participants_of(event):
        raise StateError(f"event {event.event_id} belongs to {participant_of(event)}, not {state.cm_id}")
    if state.seen(event.event_id):
        return []
    books = _books(state, event, catalog)
    state.remember(event)
    entries: list[LedgerEntry] = []
    for book, ctx in books:
        state.books[book.cid] = book
        entries += _score(state, book, ctx, event, arrival)
    return entries


def _replay_order(event: Envelope) -> tuple[int, int, int, str]:
    """Org changes first (every fold then stamps final units); balances by as_of, the winner of a
    day last; the rest by day. Scores do not depend on order, but folding needs this one."""
    if isinstance(event, OrgChanged):
        return (0, event.data.effective_from.toordinal(), micros(event.occurred_at), event.event_id)
    if isinstance(event, CustomerTransferred):  # every move before any balance (holdings.py)
        return (0, event.data.effective_from.toordinal(), micros(event.occurred_at), event.event_id)
    if isinstance(event, DepositBalance):
        return (1, event.data.as_of.toordinal(), micros(event.occurred_at), event.event_id)
    return (1, day_of(event.occurred_at).toordinal(), micros(event.occurred_at), event.event_id)


def _admits(book: Book, event: Envelope, ctx: Context) -> bool:
    try:
        book.check(event, ctx)
    except NeedsRebuild:
        return False
    return True


def rebuild(
    cm_id: str,
    history: Iterable[Envelope],
    competitions: Catalog | Iterable[Competition],
    previous: ParticipantState | None,
    *,
    only: set[str] | None = None,
    cause: Envelope | None = None,
    arrival: Arrival | None = None,
    dated: bool = True,
) -> tuple[ParticipantState, list[LedgerEntry]]:
    """Score the manager's history (any order; repeated ids count once) into a fresh state.

    Returns it with the correcting entries: new totals minus `previous`'s, per competition and
    (component, sub-branch, team). `only`: rebuild these competitions; the other books are carried
    over from `previous` (with `cause` applied to them as `apply` would). With `cause` (the event
    that raised NeedsRebuild, part of the history) they carry its id and version, as `apply` would
    have. With `cause=None` they are a re-score, dated where they belong (see `_rescored`).
    `dated=False`: only the state is wanted (what-if, explain), never written to a ledger: the
    books are built in one pass (about 2.4 times faster) and the entries are the totals' difference,
    undated.
    """
    catalog = as_catalog(competitions)
    seen: set[str] = set()
    events: list[Envelope] = []
    for event in history if cause is None else [*history, cause]:
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        if cm_id not in participants_of(event):
            raise StateError(f"event {event.event_id} belongs to {participant_of(event)}, not {cm_id}")
        events.append(event)
    events.sort(key=_replay_order)

    state = ParticipantState(cm_id)
    if previous is not None:
        state.recent = dict(previous.recent)
    for event in events:
        if isinstance(event, OrgChanged):
            state.org.add(event)
        state.handovers.add(event, cm_id)
    old_books = previous.books if previous is not None else {}
    build = [cid for cid in catalog.ids if only is None or cid in only or cid not in old_books]
    carried: dict[str, Book] = {}
    for cid, book in old_books.items():
        if cid in build:
            continue
        copy = book.copy()
        if cid in catalog.ids and cause is not None:
            ctx = copy.context(catalog, state.org, state.cm_id)
            if not copy.current(catalog) or not _admits(copy, cause, ctx):
                build.append(cid)
                continue
        carried[cid] = copy

    entries: list[LedgerEntry] = []
    for cid in catalog.ids:
        old = old_books.get(cid)
        if cid in carried:
            state.books[cid] = carried[cid]
            if cause is not None:
                entries += _score(
                    state, carried[cid], carried[cid].context(catalog, state.org, state.cm_id), cause, arrival
                )
            continue
        if cid not in build:
            continue
        same_rules = old is not None and old.fingerprint == catalog.fingerprint(cid)
        revision = (old.revision if old else 0) + (0 if cause is not None and same_rules else 1)
        book = Book.fresh(cid, Context(catalog, cid, state.org, state.cm_id), revision)
        ctx = book.context(catalog, state.org, state.cm_id)
        state.books[cid] = book
        if old is not None:
            book.held = old.held.copy()  # what the ledger holds is not rebuilt, only corrected
        if cause is None and not same_rules and dated:
            entries += _rescored(state, book, old, ctx, events, arrival)
        else:
            for event in events:
                book.index(event, ctx)
            book.recompute_all(ctx)
            entries += _correction(state, book, old, ctx, cause, arrival)
        if cause is not None:
            version = (ctx.at(cause.occurred_at) or ctx.final).version
            entries += _rewards(state, book, ctx, cause.occurred_at, version, arrival)
        else:
            when = start_of(day_of(ctx.final.effective_from))
            entries += _rewards(state, book, ctx, when, ctx.final.version, arrival)
    for cid, book in carried.items():
        state.books.setdefault(cid, book)  # competitions no longer in the catalog stay as they were
    if cause is not None:
        state.note(cause.event_id)
    return state, entries


def _correction(
    state: ParticipantState,
    book: Book,
    old: Book | None,
    ctx: Context,
    cause: Envelope | None,
    arrival: Arrival | None,
) -> list[LedgerEntry]:
    """A rebuild caused by an event: the whole difference is that event's, on its day. Without a
    cause the rules are the ones the book was built with: the history gives the same totals, so
    there is nothing to correct (and the days the ledger holds are kept as they are)."""
    before = old.totals if old is not None else {}
    deltas: Deltas = {}
    for key in book.totals.keys() | before.keys():
        change = book.totals.get(key, ZERO) - before.get(key, ZERO)
        if change:
            deltas[key] = change
    book.dated = _copy_dated(old.dated) if old is not None else {}
    labels = _labels(book, old, deltas)
    if cause is not None:
        return _event_entries(state, book, ctx, deltas, labels, cause, arrival)
    final = ctx.final
    day = day_of(final.effective_from)
    correction = f"rescore:{book.cid}:{book.revision}:{book.fingerprint}"
    return _entries(
        state,
        book,
        deltas,
        labels,
        event_id=f"{correction}:{day.isoformat()}",
        version=final.version,
        occurred_at=start_of(day),
        prefix=f"规则 v{final.version} 重算：",
        arrival=arrival,
        correction=correction,
    )


def _labels(book: Book, old: Book | None, deltas: Deltas) -> Labels:
    labels: Labels = {}
    for component in {key[0] for key in deltas}:
        label = book.label_of(component)
        labels[component] = old.label_of(component) if label == component and old is not None else label
    return labels


def _copy_dated(dated: Dated | None) -> Dated | None:
    return None if dated is None else {key: dict(days) for key, days in dated.items()}


def _rescored(
    state: ParticipantState,
    book: Book,
    old: Book | None,
    ctx: Context,
    events: list[Envelope],
    arrival: Arrival | None,
) -> list[LedgerEntry]:
    """Score the history into the fresh `book` event by event, in the order things happened, and
    correct the ledger day by day to what the new rules give each day.

    Every event's deltas are dated on its own day, as the stream dates them, so a whole-window
    figure lands on the day of the event that moved it (the balance, the opening that made a cap
    bite, the one that reached the minimum total). Per (component, unit) and day:
    - the ledger held nothing there yet (a competition published over past events, or a day the
      old rules gave nothing): one entry per event, under the event's own id (found when that
      event is explained, counted as an event of its month);
    - it held points: one entry with the day's difference, event id
      `rescore:<competition>:<revision>:<fingerprint>:<day>`, at the start of that day.
    Either way each entry names the re-score in `correction`. A state written before the book
    kept days is taken to hold its points on the final version's first day.
    """
    final = ctx.final
    correction = f"rescore:{book.cid}:{book.revision}:{book.fingerprint}"
    prefix = f"规则 v{final.version} 重算："
    scored: list[tuple[Envelope, Deltas, Labels, dict[str, str], Details]] = []
    new: Dated = {}
    labels: Labels = {}
    for event in events:
        if isinstance(event, OrgChanged):
            continue  # already in the org timeline: every day is stamped with its final unit
        deltas, event_labels, notes, details = book.observe(event, ctx)
        if not deltas:
            continue
        scored.append((event, deltas, event_labels, notes, details))
        labels.update(event_labels)
        day = day_of(event.occurred_at).toordinal()
        for key, points in deltas.items():
            days = new.setdefault(key, {})
            days[day] = days.get(day, ZERO) + points
    rest, rest_labels = book.recompute_all(ctx)  # every bucket is current: nothing, in practice
    if rest:
        labels.update(rest_labels)
        day = (day_of(scored[-1][0].occurred_at) if scored else final.window.end).toordinal()
        for key, points in rest.items():
            days = new.setdefault(key, {})
            days[day] = days.get(day, ZERO) + points

    held = _held(old, final)
    fresh = {(key, day) for key, days in new.items() for day in days if not held.get(key, {}).get(day)}
    out: list[LedgerEntry] = []
    for event, deltas, event_labels, notes, details in scored:
        day = day_of(event.occurred_at).toordinal()
        own = {key: points for key, points in deltas.items() if (key, day) in fresh}
        if own:
            version = ctx.at(event.occurred_at) or final
            out += _entries(
                state,
                book,
                own,
                event_labels,
                event_id=event.event_id,
                version=version.version,
                occurred_at=event.occurred_at,
                notes=notes,
                details=details,
                prefix=prefix,
                arrival=arrival,
                correction=correction,
            )
    by_day: dict[int, Deltas] = {}
    for key in new.keys() | held.keys():
        days, was = new.get(key, {}), held.get(key, {})
        for day in days.keys() | was.keys():
            change = days.get(day, ZERO) - was.get(day, ZERO)
            if change and (key, day) not in fresh:
                by_day.setdefault(day, {})[key] = change
    labels.update(_labels(book, old, {key: ZERO for deltas in by_day.values() for key in deltas}))
    for ordinal, deltas in sorted(by_day.items()):
        when = date.fromordinal(ordinal)
        out += _entries(
            state,
            book,
            deltas,
            labels,
            event_id=f"{correction}:{when.isoformat()}",
            version=final.version,
            occurred_at=start_of(when),
            prefix=prefix,
            arrival=arrival,
            correction=correction,
        )
    # the ledger now holds the new figures on every day (the per-event entries above recorded
    # themselves already; this also covers the days corrected by difference)
    book.dated = {k: kept for k, days in new.items() if (kept := {d: p for d, p in days.items() if p})}
    return out


def _held(old: Book | None, final: Competition) -> Dated:
    """What the ledger holds for the old book, per key and day."""
    if old is None:
        return {}
    if old.dated is not None:
        return old.dated
    day = day_of(final.effective_from).toordinal()
    return {key: {day: points} for key, points in old.totals.items()}


def rescore(
    state: ParticipantState,
    competitions: Catalog | Iterable[Competition],
    *,
    arrival: Arrival | None = None,
) -> list[LedgerEntry]:
    """The no-history check after a publish: [] when every book is current (empty books are added
    for competitions the state has none of). Raises NeedsRebuild, changing nothing, when a
    competition's versions changed: re-scoring needs the history (`rebuild`)."""
    catalog = as_catalog(competitions)
    for cid in catalog.ids:
        book = state.books.get(cid)
        if book is not None and book.fingerprint != catalog.fingerprint(cid):
            raise NeedsRebuild(f"competition {cid} changed since {state.cm_id}'s state was built")
    for cid in catalog.ids:
        if cid not in state.books:
            state.books[cid] = Book.fresh(cid, Context(catalog, cid, state.org, state.cm_id))
    return []


def handovers(state: ParticipantState, event: Envelope) -> list[AccountClosed]:
    """Copies of closings for the managers who opened the accounts (streams/core/handovers.py),
    completed by this event, already applied to the state. The stream writes them to the
    validated topic under the opener, in the same transaction; they have fixed ids, so making
    them again (a redelivered event) is harmless."""
    return state.handovers.passed(event, state.cm_id)


def standings(state: ParticipantState) -> list[Standing]:
    """One standing per competition the participant has a book for (zero scores included)."""
    return [standing_of(state.cm_id, book) for _, book in sorted(state.books.items())]


def score_batch(
    events: Iterable[Envelope],
    competitions: Catalog | Iterable[Competition],
    *,
    preview: bool = False,
) -> dict[tuple[str, str], Standing]:
    """Run the same engine over a list of events, grouped by customer manager: `apply` event by
    event, and `rebuild` from the manager's events so far when it asks for it (as the stream does).

    preview=True also scores draft versions (the organisers' what-if on past data).
    """
    catalog = competitions if isinstance(competitions, Catalog) else Catalog(competitions, preview=preview)
    states: dict[str, ParticipantState] = {}
    history: dict[str, list[Envelope]] = {}
    seen: set[tuple[str, str]] = set()
    queue = list(events)
    queue.reverse()
    while queue:
        event = queue.pop()
        for cm_id in participants_of(event):  # a transfer is in both managers' histories
            if (cm_id, event.event_id) in seen:
                continue
            seen.add((cm_id, event.event_id))
            state = states.get(cm_id)
            if state is None:
                state = states[cm_id] = ParticipantState(cm_id)
            past = history.setdefault(cm_id, [])
            past.append(event)
            try:
                apply(state, event, catalog)
            except NeedsRebuild:
                states[cm_id], _ = rebuild(cm_id, past, catalog, state, cause=event)
            queue += reversed(handovers(states[cm_id], event))  # scored next, as the stream would
    out: dict[tuple[str, str], Standing] = {}
    for cm_id, state in sorted(states.items()):
        rescore(state, catalog)  # books for competitions none of this CM's events reached yet
        for standing in standings(state):
            out[(standing.competition_id, cm_id)] = standing
    return out
