"""Publishing and closing a competition version from the API: checked against the SQL record and
what this replica has read, sent to Kafka (where the workers take it), then recorded in SQL with
the audit entry. Kafka first: if the record then fails the client is told to try again, and
trying again is harmless (the same version on the compacted topic, the same SQL row)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from services.api.access import Principal
from services.api.errors import FieldError
from services.publisher import Publisher, PublishError
from services.readmodel import ReadModel
from services.store import Store, StoreConflict, StoreDataError, StoreError, StoreUnavailable
from services.store.competition_records import CLOSED, DRAFT, PUBLISHED, CompetitionRecords
from streams.core.rules import Competition

T = TypeVar("T")


async def stored(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A store call off the event loop, its errors as HTTP answers (409, 422, 503)."""
    try:
        return await run_in_threadpool(call, *args, **kwargs)
    except StoreConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except StoreDataError as exc:
        raise HTTPException(422, {"field": "(competition)", "reason": str(exc)}) from None
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
    comp: Competition, principal: Principal, store: Store, read_model: ReadModel, publisher: Publisher
) -> dict[str, Any]:
    """POST /api/competitions and the console's publish/close: the definition's own status says
    what to do. A draft is kept in SQL only; published and closed go to Kafka and SQL."""
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
    try:
        await publisher.competition(comp)
    except PublishError as exc:
        raise HTTPException(503, str(exc)) from None
    if comp.status == PUBLISHED or current is None or current["status"] == DRAFT:
        row, _ = await stored(records.publish, {**definition, "status": PUBLISHED}, actor=principal.actor)
    if comp.status == CLOSED:
        row, _ = await stored(records.close, comp.id, comp.version, actor=principal.actor)
    return row


def _without_status(definition: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k != "status"}
