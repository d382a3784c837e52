"""A rejected row of any door is explained by its event id: the CSV row of campaigns-load (whose
bytes are no JSON), the HTTP batch's record and a message the validate stage refused each leave a
dead letter naming the id, the sink stores it with the id, and explain finds it there."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, cast

from schemas import SHANGHAI, Limits
from schemas.dead_letters import DeadLetter, event_id_of
from schemas.topics import Topics
from services.api.intake import take
from services.cli.load import load
from services.cli.rows import Format
from services.publisher import Publisher
from services.sink.records import dead_letter_row
from services.store import Store
from services.verify.explain import explain_event_id
from tests.support.events import opened, wire
from tests.support.kafka import BOOTSTRAP

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)  # the events below are from February
CSV = (
    "event_id,type,schema_version,occurred_at,source,data.account_id,data.customer_id,data.cm_id,"
    "data.account_type,data.segment\n"
    "evt-csv-ok,account.opened,1,2026-02-12T10:24:31+08:00,bank,a-1,c-1,cm-1,basic,non_credit\n"
    "evt-csv-bad,account.opened,1,2026-02-12T10:24:31+08:00,bank,a-2,c-2,,basic,non_credit\n"
)


class Letters:
    """What a door sends: the CLI's sink and the API's publisher, both only collecting."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def send(self, key: bytes, value: bytes) -> None:
        pass

    async def dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)

    async def dead_letters(self, letters: list[DeadLetter]) -> None:
        self.letters += letters

    async def raw(self, records: list[tuple[str, bytes]]) -> None:
        pass


async def test_a_rejected_row_from_every_door_is_explained_by_its_event_id(
    tmp_path: Path, topics: Topics
) -> None:
    doors = Letters()
    extract = tmp_path / "extract.csv"
    extract.write_text(CSV, encoding="utf-8")
    report = await load(extract, Format.CSV, doors, NOW)
    assert [r.event_id for r in report.rejected] == ["evt-csv-bad"]
    bad_http = {**opened("evt-http-bad"), "type": "loan.granted"}
    await take([(1, wire(bad_http))], cast(Publisher, doors), Limits())
    # The validate stage's letter for a message sent with kcat (streams/pipeline/validating.py).
    kcat_raw = wire({**opened("evt-kcat-bad"), "schema_version": 9})
    doors.letters.append(
        DeadLetter(
            "unknown_version", "no version 9", kcat_raw, topics.raw, 0, 7, event_id=event_id_of(kcat_raw)
        )
    )

    with Store.from_url(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        store.create_schema()
        for offset, letter in enumerate(doors.letters):
            row = dead_letter_row(
                topics.dead_letters, 0, offset, letter.value, dict(letter.headers()), 65_536
            )
            store.add_dead_letter(**row)

        found: dict[str, Any] = {}
        for event_id in ("evt-csv-bad", "evt-http-bad", "evt-kcat-bad"):
            found[event_id] = await explain_event_id(BOOTSTRAP, topics, store, event_id)
    assert {e: (f["status"], [d["reason"] for d in f["dead_letters"]]) for e, f in found.items()} == {
        "evt-csv-bad": ("dead_letter", ["missing_field"]),
        "evt-http-bad": ("dead_letter", ["unknown_type"]),
        "evt-kcat-bad": ("dead_letter", ["unknown_version"]),
    }
    assert "cli:extract.csv@-1:3" in found["evt-csv-bad"]["dead_letters"][0]["detail"]
    assert found["evt-csv-bad"]["dead_letters"][0]["received_at"].endswith("+08:00")
