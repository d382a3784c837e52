"""Competition versions as the console keeps them: the `competitions` table (definition, status,
published_at) with who wrote, published and closed each version (`competition_authors`), every
change audited in the same transaction with its diff.

A draft may be edited; a published version is frozen (a change is a new version) and may only be
closed; a closed version is final. Definitions are stored as the core dumps them
(`Competition.model_dump(mode="json")`) with `status` equal to the row's status; immutability is
judged on everything but the status.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update

from services.console.diff import diff
from services.store import audit, outbox
from services.store.access_tables import CompetitionAuthor
from services.store.errors import StoreConflict, StoreDataError
from services.store.rows import checked_row
from services.store.store import Store, _to_json
from services.store.tables import Competition

DRAFT, PUBLISHED, CLOSED = "draft", "published", "closed"

_competitions: Table = Competition.__table__  # type: ignore[assignment]
_authors: Table = CompetitionAuthor.__table__  # type: ignore[assignment]


# The version column is a 32-bit INTEGER on every database the store supports.
MAX_VERSION = 2**31 - 1


class CompetitionRecords:
    def __init__(self, store: Store) -> None:
        self._store = store

    # --- reads ---------------------------------------------------------------------------

    def all_versions(self) -> list[dict[str, Any]]:
        """Every version of every competition, by id then version."""
        return self._select(None)

    def versions(self, competition_id: str) -> list[dict[str, Any]]:
        """Every version of one competition, oldest first ([] if none)."""
        return self._select(competition_id)

    def get(self, competition_id: str, version: int) -> dict[str, Any] | None:
        if not 0 < version <= MAX_VERSION:  # cannot be stored, and a driver refuses to bind it
            return None
        with self._store._reading() as conn:
            found = self._select_in(conn, competition_id, version)
        return found[0] if found else None

    # --- writes --------------------------------------------------------------------------

    def create_draft(self, definition: dict[str, Any], *, actor: str) -> dict[str, Any]:
        """Store a new draft version (its id and version taken from the definition); StoreConflict
        if that version exists already. Audited with its diff against the previous version."""
        cid, version = _identity(definition)
        document = {**definition, "status": DRAFT}
        now = datetime.now(UTC)
        with self._store._writing() as conn:
            if self._row(conn, cid, version) is not None:
                raise StoreConflict(
                    f"version {version} of {cid} exists already; edit it or make version {version + 1}"
                )
            previous = self._previous(conn, cid, version)
            if not self._insert(conn, cid, version, DRAFT, document, None):
                raise StoreConflict(f"version {version} of {cid} was just stored by another request")
            self._new_authors(conn, cid, version, actor, now)
            audit.record(
                conn,
                actor,
                "competition.create",
                f"competition/{cid}",
                _change(version, previous, document),
                at=now,
            )
        return self._expect(cid, version)

    def edit_draft(self, definition: dict[str, Any], *, actor: str) -> dict[str, Any]:
        """Replace a draft's definition; StoreConflict unless that version exists and is a draft."""
        cid, version = _identity(definition)
        document = {**definition, "status": DRAFT}
        now = datetime.now(UTC)
        with self._store._writing() as conn:
            current = self._row(conn, cid, version, lock=True)
            if current is None:
                raise StoreDataError(f"no version {version} of {cid}")
            if current["status"] != DRAFT:
                raise StoreConflict(
                    f"version {version} of {cid} is {current['status']}; a change is a new version"
                )
            before = json.loads(current["definition"])
            conn.execute(
                update(_competitions).where(_key(cid, version)).values(definition=_to_json(document))
            )
            self._touch(conn, cid, version, actor, now)
            changes = diff(_rules_of(before), _rules_of(document))
            audit.record(
                conn,
                actor,
                "competition.edit",
                f"competition/{cid}",
                {"version": version, "against": version, "changes": changes},
                at=now,
            )
        return self._expect(cid, version)

    def publish(
        self, definition: dict[str, Any], *, actor: str, announce: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """Record a version as published: a draft of it becomes published (its definition may be
        the draft's, edited at the last moment), or it is stored published straight away.
        Publishing the same definition again changes nothing (returns False); a different one,
        or a closed version, is StoreConflict. Of two publishes of one new version at the same
        moment, the one that commits first wins; the other is then judged against it.

        `announce`: also queue the fan-out to the workers (services/store/outbox.py) in the same
        transaction; publishing the same definition again queues it again unless one is pending."""
        try:
            return self._publish(definition, actor, announce)
        except _Raced:
            return self._publish(definition, actor, announce)

    def _publish(self, definition: dict[str, Any], actor: str, announce: bool) -> tuple[dict[str, Any], bool]:
        cid, version = _identity(definition)
        document = {**definition, "status": PUBLISHED}
        now = datetime.now(UTC)
        with self._store._writing() as conn:
            current = self._row(conn, cid, version, lock=True)
            if current is not None and current["status"] != DRAFT:
                if current["status"] == PUBLISHED and _same(json.loads(current["definition"]), document):
                    if announce:
                        self._announce_again(conn, cid, version, PUBLISHED, current["definition"], now)
                    return self._expect_in(conn, cid, version), False
                raise StoreConflict(
                    f"version {version} of {cid} is already {current['status']}; publish a new version"
                )
            previous = self._previous(conn, cid, version)
            if current is None:
                if not self._insert(conn, cid, version, PUBLISHED, document, now):
                    raise _Raced
                self._new_authors(conn, cid, version, actor, now, published_by=actor)
            else:
                conn.execute(
                    update(_competitions)
                    .where(_key(cid, version))
                    .values(status=PUBLISHED, definition=_to_json(document), published_at=now)
                )
                self._touch(conn, cid, version, actor, now, published_by=actor)
            if announce:
                outbox.enqueue(conn, cid, version, PUBLISHED, _to_json(document), now)
            audit.record(
                conn,
                actor,
                "competition.publish",
                f"competition/{cid}",
                _change(version, previous, document),
                at=now,
            )
            return self._expect_in(conn, cid, version), True

    def close(
        self, competition_id: str, version: int, *, actor: str, announce: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """A published version becomes closed (False if it already was); a draft cannot be closed.
        `announce` as for `publish`."""
        now = datetime.now(UTC)
        with self._store._writing() as conn:
            current = self._row(conn, competition_id, version, lock=True)
            if current is None:
                raise StoreDataError(f"no version {version} of {competition_id}")
            if current["status"] == CLOSED:
                if announce:
                    self._announce_again(conn, competition_id, version, CLOSED, current["definition"], now)
                return self._expect_in(conn, competition_id, version), False
            if current["status"] != PUBLISHED:
                raise StoreConflict(
                    f"version {version} of {competition_id} is a draft: publish it or leave it"
                )
            document = {**json.loads(current["definition"]), "status": CLOSED}
            conn.execute(
                update(_competitions)
                .where(_key(competition_id, version))
                .values(status=CLOSED, definition=_to_json(document))
            )
            self._touch(conn, competition_id, version, actor, now, closed_by=actor, closed_at=now)
            if announce:
                outbox.enqueue(conn, competition_id, version, CLOSED, _to_json(document), now)
            audit.record(
                conn,
                actor,
                "competition.close",
                f"competition/{competition_id}",
                {
                    "version": version,
                    "changes": [{"path": "status", "op": "changed", "from": PUBLISHED, "to": CLOSED}],
                },
                at=now,
            )
            return self._expect_in(conn, competition_id, version), True

    def _announce_again(
        self, conn: Connection, cid: str, version: int, status: str, stored: str, now: datetime
    ) -> None:
        """The same publish (or close) once more: how an operator has a version announced again
        (e.g. one published before the outbox existed). Not while a fan-out of it is pending."""
        latest = outbox.states_in(conn, cid).get((cid, version))
        if latest is not None and latest["state"] == outbox.PENDING:
            return
        outbox.enqueue(conn, cid, version, status, stored, now)

    # --- plumbing ------------------------------------------------------------------------

    def _select(self, competition_id: str | None) -> list[dict[str, Any]]:
        with self._store._reading() as conn:
            return self._select_in(conn, competition_id)

    def _select_in(
        self, conn: Connection, competition_id: str | None, version: int | None = None
    ) -> list[dict[str, Any]]:
        query = (
            select(_competitions, *[c for c in _authors.c if c.name not in ("competition_id", "version")])
            .join(
                _authors,
                (_authors.c.competition_id == _competitions.c.competition_id)
                & (_authors.c.version == _competitions.c.version),
                isouter=True,
            )
            .order_by(_competitions.c.competition_id, _competitions.c.version)
        )
        if competition_id is not None:
            query = query.where(_competitions.c.competition_id == competition_id)
        if version is not None:
            query = query.where(_competitions.c.version == version)
        rows = [dict(r._mapping) for r in conn.execute(query)]
        fanouts = outbox.states_in(conn, competition_id)
        for row in rows:
            row["definition"] = json.loads(row["definition"])
            row["fanout"] = fanouts.get((row["competition_id"], row["version"]))
        return rows

    def _expect(self, cid: str, version: int) -> dict[str, Any]:
        found = self.get(cid, version)
        assert found is not None
        return found

    def _expect_in(self, conn: Connection, cid: str, version: int) -> dict[str, Any]:
        (row,) = self._select_in(conn, cid, version)
        return row

    def _row(self, conn: Connection, cid: str, version: int, *, lock: bool = False) -> dict[str, Any] | None:
        if not 0 < version <= MAX_VERSION:
            return None
        query = select(_competitions).where(_key(cid, version))
        if lock and self._store.dialect == "postgresql":
            query = query.with_for_update()
        found = conn.execute(query).first()
        return dict(found._mapping) if found is not None else None

    def _previous(self, conn: Connection, cid: str, version: int) -> dict[str, Any] | None:
        """The definition of the closest earlier version, if any."""
        found = conn.execute(
            select(_competitions.c.version, _competitions.c.definition)
            .where(_competitions.c.competition_id == cid, _competitions.c.version < version)
            .order_by(_competitions.c.version.desc())
            .limit(1)
        ).first()
        if found is None:
            return None
        return {"version": found.version, "definition": json.loads(found.definition)}

    def _insert(
        self,
        conn: Connection,
        cid: str,
        version: int,
        status: str,
        document: dict[str, Any],
        at: datetime | None,
    ) -> bool:
        """False if the version exists already (another transaction stored it first)."""
        row = checked_row(
            _competitions,
            {
                "competition_id": cid,
                "version": version,
                "status": status,
                "definition": _to_json(document),
                "published_at": at,
            },
        )
        stmt = (
            self._store._insert(_competitions)
            .values(row)
            .on_conflict_do_nothing(index_elements=[_competitions.c.competition_id, _competitions.c.version])
            .returning(_competitions.c.version)
        )
        return conn.execute(stmt).first() is not None

    def _touch(
        self, conn: Connection, cid: str, version: int, actor: str, now: datetime, **more: Any
    ) -> None:
        where = (_authors.c.competition_id == cid) & (_authors.c.version == version)
        if conn.execute(select(_authors.c.version).where(where)).first() is None:
            # A version stored before authors were kept (or by an older tool): start its record now.
            self._new_authors(conn, cid, version, actor, now)
        conn.execute(update(_authors).where(where).values(updated_by=actor, updated_at=now, **more))

    def _new_authors(
        self, conn: Connection, cid: str, version: int, actor: str, now: datetime, **more: Any
    ) -> None:
        """A version's authors record, begun by `actor` (`more`: e.g. who published it)."""
        conn.execute(
            insert(_authors).values(
                competition_id=cid,
                version=version,
                created_by=actor,
                created_at=now,
                updated_by=actor,
                updated_at=now,
                **more,
            )
        )


class _Raced(Exception):
    """Another transaction stored this version between our read and our insert."""


def _identity(definition: dict[str, Any]) -> tuple[str, int]:
    cid, version = definition.get("id"), definition.get("version")
    if not isinstance(cid, str) or not isinstance(version, int) or isinstance(version, bool):
        raise StoreDataError("a definition needs its id and version")
    return cid, version


def _key(cid: str, version: int) -> Any:
    return (_competitions.c.competition_id == cid) & (_competitions.c.version == version)


def _rules_of(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "status"}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return _rules_of(a) == _rules_of(b)


def _change(version: int, previous: dict[str, Any] | None, document: dict[str, Any]) -> dict[str, Any]:
    """The audit diff of a new or newly published version: against the version before it."""
    if previous is None:
        return {"version": version, "against": None, "changes": diff(None, _rules_of(document))}
    return {
        "version": version,
        "against": previous["version"],
        "changes": diff(_rules_of(previous["definition"]), _rules_of(document)),
    }
