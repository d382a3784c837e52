"""Publishing and closing a competition version from the API: checked against the SQL record and
what this replica has read, then recorded in SQL with its audit entry and its fan-out to the
workers, in one transaction (services/store/outbox.py). The SQL row is the truth: the relay
(services/api/relay.py) sends the version record and every partition's control record, after
any crash too. The answer waits for that fan-out up to `publish_wait_seconds`; the row's
`fanout.state` says whether it is done or still pending."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from services.api.access import Principal
from services.api.errors import FieldError
from services.api.relay import Relay
from services.readmodel import ReadModel
from services.store import Store, StoreConflict, StoreDataError, StoreError, StoreUnavailable
from services.store.competition_records import CLOSED, DRAFT, PUBLISHED, CompetitionRecords
from services.store.outbox import PENDING
from streams.core.rules import Competition

T = TypeVar("T")


async def stored(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A store call off the event loop, its errors as HTTP answers (409, 422, 503)."""
    try:
        return await run_in_threadpool(call, *args, **kwargs)
    except StoreConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except StoreDataError as exc:
        raise FieldError("(competition)", str(exc)) from None
    except StoreUnavailable as exc:
        raise HTTPException(503, f"the database did not answer: {exc}") from None
    except StoreError as exc:
        raise HTTPException(503, f"the database refused: {exc}") from None


def ensure_known_participants(participants: list[str], read_model: ReadModel) -> None:
    """A participant must be a sub-branch the org names: a typo (`sb-nowhere`) would otherwise
    leave the contest silently without anyone from it. Before any roster is loaded the org names
    nobody, and nothing can be checked: then every id is taken as given."""
    known = read_model.board.org.sub_branches()
    if not known:
        return
    for i, sub_branch in enumerate(participants):
        if sub_branch not in known:
            raise FieldError(
                f"participants[{i}]",
                f"no sub-branch {sub_branch!r} in the org; known: {', '.join(sorted(known))}",
            )


async def put_version(
    comp: Competition,
    principal: Principal,
    store: Store,
    read_model: ReadModel,
    relay: Relay,
    wait_seconds: float,
) -> dict[str, Any]:
    """POST /api/competitions and the console's publish/close: the definition's own status says
    what to do. A draft is kept in SQL only; published and closed are recorded with their fan-out.
    Two publishes of one version at once: the first to commit wins, the other is judged against
    it (409 if its definition differs)."""
    if comp.status != CLOSED:  # closing changes nothing but the status
        ensure_known_participants(comp.participants, read_model)
    records = CompetitionRecords(store)
    definition = comp.model_dump(mode="json")
    current = await stored(records.get, comp.id, comp.version)
    if comp.status == DRAFT:
        if current is None:
            return await stored(records.create_draft, definition, actor=principal.actor)
        return await stored(records.edit_draft, definition, actor=principal.actor)
    if (
        current is not None
        and current["status"] != DRAFT
        and _without_status(current["definition"]) != _without_status(definition)
    ):
        raise HTTPException(
            409, f"version {comp.version} of {comp.id} is already {current['status']}; publish a new version"
        )
    if comp.status == PUBLISHED and current is not None and current["status"] == CLOSED:
        raise HTTPException(409, f"version {comp.version} of {comp.id} is closed; publish a new version")
    known = read_model.version(comp.id, comp.version)
    if (
        known is not None
        and known.status != DRAFT
        and known.model_copy(update={"status": comp.status}) != comp
    ):
        raise HTTPException(
            409, f"version {comp.version} of {comp.id} is already {known.status}; publish a new version"
        )
    if comp.status == PUBLISHED or current is None or current["status"] == DRAFT:
        row, _ = await stored(
            records.publish, {**definition, "status": PUBLISHED}, actor=principal.actor, announce=True
        )
    if comp.status == CLOSED:
        row, _ = await stored(records.close, comp.id, comp.version, actor=principal.actor, announce=True)
    fanout = row["fanout"]
    if fanout is not None and fanout["state"] == PENDING:
        await relay.wait(fanout["id"], wait_seconds)
        # Done here, by another replica's relay, or still pending: the record says which.
        again = await stored(records.get, comp.id, comp.version)
        row = again if again is not None else row
    return row


def fanout_view(fanout: dict[str, Any] | None) -> dict[str, Any] | None:
    """A version's latest fan-out as the API shows it (None: nothing announced through the outbox,
    e.g. a draft, or a version stored before the outbox existed)."""
    if fanout is None:
        return None
    return {
        "state": fanout["state"],
        "status": fanout["status"],
        "queued_at": _iso(fanout["created_at"]),
        "done_at": _iso(fanout["done_at"]),
        "attempts": fanout["attempts"],
        "last_error": fanout["last_error"],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _without_status(definition: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k != "status"}
