"""Everything the engine keeps for one customer manager: the org moves, one book per competition
(each with its scorers' compact indexes) and the ids of the last few events. No events: a rule
change rebuilds the state from the manager's history (engine.rebuild). JSON round-trips for a
faust table, and its size stays bounded however long the history grows."""

from __future__ import annotations

from typing import Any

from schemas.envelope import Envelope
from schemas.events import AccountClosed, CustomerTransferred, OrgChanged
from schemas.records import to_json
from streams.core.book import Book
from streams.core.errors import StateError
from streams.core.handovers import Handovers
from streams.core.org import OrgTimeline

FORMAT = 2
RECENT = 64  # ids remembered for an immediate redelivery; exactly-once dedup is the stream's job


class ParticipantState:
    def __init__(self, cm_id: str) -> None:
        self.cm_id = cm_id
        self.recent: dict[str, None] = {}  # the last RECENT event ids, oldest first
        self.org = OrgTimeline()
        self.books: dict[str, Book] = {}
        self.handovers = Handovers()  # closings to pass back to an account's opener (handovers.py)
        # (catalog, books, count, [(book, context)]) once every book is current for that catalog
        self.bound: tuple[Any, dict[str, Book], int, list[Any]] | None = None
        # cid -> (book, its JSON) as last encoded: a state is written per changed manager per
        # batch, and an event changes only the books that take it (engine._score drops theirs)
        self._encoded: dict[str, tuple[Book, bytes]] = {}

    def seen(self, event_id: str) -> bool:
        return event_id in self.recent

    def remember(self, event: Envelope) -> None:
        self.note(event.event_id)
        if isinstance(event, OrgChanged):
            self.org.add(event)
        elif isinstance(event, AccountClosed | CustomerTransferred):
            self.handovers.add(event, self.cm_id)

    def note(self, event_id: str) -> None:
        recent = self.recent
        recent[event_id] = None
        if len(recent) > RECENT:
            del recent[next(iter(recent))]

    def touch(self, cid: str) -> None:
        """This book is about to change in place: its JSON must be made again."""
        self._encoded.pop(cid, None)

    def to_json(self) -> bytes:
        """`to_json(self.to_dict())`, byte for byte, remaking only the books changed since the
        last call (or replaced: a cached JSON counts only for the very book it was made from)."""
        cache = self._encoded
        books = []
        for cid, book in sorted(self.books.items()):
            hit = cache.get(cid)
            if hit is None or hit[0] is not book:
                hit = cache[cid] = (book, to_json(book.to_dict()))
            books.append(to_json(cid) + b":" + hit[1])
        head = to_json(
            {"format": FORMAT, "cm_id": self.cm_id, "recent": list(self.recent), "org": self.org.to_list()}
        )
        tail = b',"handovers":' + to_json(self.handovers.to_list()) if self.handovers else b""
        return b"".join((head[:-1], b',"books":{', b",".join(books), b"}", tail, b"}"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "cm_id": self.cm_id,
            "recent": list(self.recent),
            "org": self.org.to_list(),
            "books": {cid: book.to_dict() for cid, book in sorted(self.books.items())},
            **({"handovers": self.handovers.to_list()} if self.handovers else {}),
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> ParticipantState:
        if obj.get("format") != FORMAT:
            raise StateError(
                f"unknown participant state format {obj.get('format')!r} (format 1 kept events: rebuild it)"
            )
        state = cls(str(obj["cm_id"]))
        try:
            state.recent = dict.fromkeys(str(e) for e in obj["recent"])
            state.org = OrgTimeline.from_list(obj["org"])
            state.books = {cid: Book.from_dict(cid, raw) for cid, raw in obj["books"].items()}
            state.handovers = Handovers.from_list(obj.get("handovers"))
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"corrupt participant state for {obj.get('cm_id')!r}: {exc!r}") from None
        return state
