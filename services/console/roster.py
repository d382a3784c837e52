"""A CSV roster of the branch's people, turned into the org.changed events that make the org look
like it: pure, so it can be tested without Kafka.

Columns (English or Chinese headers, any order; extra columns are ignored):

    cm_id / 客户经理编号 / 工号          required
    cm_name / 客户经理姓名 / 姓名
    sub_branch_id / 支行编号            required
    sub_branch_name / 支行名称 / 支行
    team_id / 团队编号                  empty: in no team
    team_name / 团队名称 / 团队
    effective_from / 生效日期           YYYY-MM-DD (or YYYY/MM/DD); empty: the import's date

The roster is compared with the org as it stands on each row's date: a manager who moved
leaves the old unit and joins the new one; a manager new to the org joins; one whose name or
unit name changed is joined again to the same unit with the new names (a no-op for membership
that carries the names). A full roster (the default) also makes everyone the org places on the
import's date but the roster omits leave their units on that date. Event ids are derived from
the change itself, so importing the same roster twice yields the same ids and the pipeline's
deduplication drops the repeats.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from streams.core.org import Unit

MAX_ROWS = 20_000
_IDENT = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_HEADERS: dict[str, tuple[str, ...]] = {
    "cm_id": ("cm_id", "客户经理编号", "客户经理工号", "工号", "员工编号"),
    "cm_name": ("cm_name", "客户经理姓名", "客户经理", "姓名"),
    "sub_branch_id": ("sub_branch_id", "支行编号", "支行代码", "机构号"),
    "sub_branch_name": ("sub_branch_name", "支行名称", "支行", "机构名称"),
    "team_id": ("team_id", "团队编号", "团队代码"),
    "team_name": ("team_name", "团队名称", "团队"),
    "effective_from": ("effective_from", "生效日期", "生效日"),
}
_REQUIRED = ("cm_id", "sub_branch_id")


class RosterError(ValueError):
    """The roster cannot be read; `field` says where ("line 3.sub_branch_id"), `reason` why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class RosterRow:
    line: int
    cm_id: str
    cm_name: str | None
    sub_branch_id: str
    sub_branch_name: str | None
    team_id: str | None
    team_name: str | None
    effective_from: date


class CurrentOrg(Protocol):
    """What the comparison needs of the org as the API holds it (services.readmodel.OrgDirectory)."""

    def unit_of(self, cm_id: str, day: date) -> Unit: ...
    def name(self, cm_id: str) -> str | None: ...
    def unit_name(self, unit_id: str) -> str | None: ...
    def managers(self) -> list[str]: ...


def parse_roster(text: str, default_date: date) -> list[RosterRow]:
    """The roster's rows; RosterError for a missing column, a bad value, a manager listed twice or
    text that is not CSV at all."""
    try:
        return _parse(text, default_date)
    except csv.Error as exc:  # e.g. a stray carriage return inside a field
        raise RosterError("(roster)", f"not a CSV file: {exc}") from None


def _parse(text: str, default_date: date) -> list[RosterRow]:
    # newline="": the csv module handles \r\n itself (Excel's line ends; quoted line breaks).
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))  # Excel writes a BOM first
    try:
        header = next(reader)
    except StopIteration:
        raise RosterError("(roster)", "the file is empty") from None
    columns = _columns(header)
    rows: list[RosterRow] = []
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise RosterError("(roster)", f"more than {MAX_ROWS} rows")
        row = _row(line, cells, columns, default_date)
        if row.cm_id in seen:
            raise RosterError(
                f"line {line}.cm_id", f"{row.cm_id} is listed twice (also on line {seen[row.cm_id]})"
            )
        seen[row.cm_id] = line
        rows.append(row)
    if not rows:
        raise RosterError("(roster)", "no rows under the header")
    return rows


def roster_changes(
    rows: list[RosterRow], current: CurrentOrg, *, full: bool, leave_date: date
) -> list[dict[str, Any]]:
    """The changes that make the org match the roster, each {cm_id, cm_name, action, unit_kind,
    unit_id, unit_name, effective_from} (org.changed's data), in roster order then leavers."""
    out: list[dict[str, Any]] = []
    for row in rows:
        now = current.unit_of(row.cm_id, row.effective_from)
        name_changed = row.cm_name is not None and row.cm_name != current.name(row.cm_id)
        for kind, old, new, new_name in (
            ("sub_branch", now.sub_branch_id, row.sub_branch_id, row.sub_branch_name),
            ("team", now.team_id, row.team_id, row.team_name),
        ):
            if old is not None and old != new:
                out.append(_change(row.cm_id, row.cm_name, "leave", kind, old, None, row.effective_from))
            if new is None:
                continue
            renamed = new_name is not None and new_name != current.unit_name(new)
            if old != new or name_changed or renamed:
                out.append(_change(row.cm_id, row.cm_name, "join", kind, new, new_name, row.effective_from))
    if full:
        listed = {row.cm_id for row in rows}
        for cm_id in current.managers():
            if cm_id in listed:
                continue
            unit = current.unit_of(cm_id, leave_date)
            for kind, unit_id in (("sub_branch", unit.sub_branch_id), ("team", unit.team_id)):
                if unit_id is not None:
                    out.append(_change(cm_id, None, "leave", kind, unit_id, None, leave_date))
    return out


def org_events(
    changes: list[dict[str, Any]], occurred_at: datetime, source: str = "console"
) -> list[dict[str, Any]]:
    """The changes as org.changed events (the envelope of docs/events.md), ids derived from content."""
    return [
        {
            "event_id": "org-" + _digest(change),
            "type": "org.changed",
            "schema_version": 1,
            "occurred_at": occurred_at.isoformat(timespec="seconds"),
            "source": source,
            "data": {k: v for k, v in change.items() if v is not None},
        }
        for change in changes
    ]


def _change(
    cm_id: str, cm_name: str | None, action: str, kind: str, unit_id: str, unit_name: str | None, day: date
) -> dict[str, Any]:
    return {
        "cm_id": cm_id,
        "cm_name": cm_name,
        "action": action,
        "unit_kind": kind,
        "unit_id": unit_id,
        "unit_name": unit_name,
        "effective_from": day.isoformat(),
    }


def _digest(change: dict[str, Any]) -> str:
    text = "|".join(str(change[k] or "") for k in sorted(change))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _columns(header: list[str]) -> dict[str, int]:
    wanted = {alias.lower(): field for field, aliases in _HEADERS.items() for alias in aliases}
    columns: dict[str, int] = {}
    for i, cell in enumerate(header):
        field = wanted.get(cell.strip().lower())
        if field is not None and field not in columns:
            columns[field] = i
    for field in _REQUIRED:
        if field not in columns:
            raise RosterError(f"(header).{field}", f"no {field} column (or {'/'.join(_HEADERS[field][1:])})")
    return columns


def _row(line: int, cells: list[str], columns: dict[str, int], default_date: date) -> RosterRow:
    def cell(field: str) -> str | None:
        i = columns.get(field)
        value = cells[i].strip() if i is not None and i < len(cells) else ""
        return value or None

    def ident(field: str, required: bool) -> str | None:
        value = cell(field)
        if value is None:
            if required:
                raise RosterError(f"line {line}.{field}", "required")
            return None
        if not _IDENT.match(value):
            raise RosterError(f"line {line}.{field}", "1-64 letters, digits or _ . : -")
        return value

    def name(field: str) -> str | None:
        value = cell(field)
        if value is not None and len(value) > 64:
            raise RosterError(f"line {line}.{field}", "at most 64 characters")
        return value

    cm_id = ident("cm_id", True)
    sub_branch_id = ident("sub_branch_id", True)
    assert cm_id is not None and sub_branch_id is not None
    return RosterRow(
        line=line,
        cm_id=cm_id,
        cm_name=name("cm_name"),
        sub_branch_id=sub_branch_id,
        sub_branch_name=name("sub_branch_name"),
        team_id=ident("team_id", False),
        team_name=name("team_name"),
        effective_from=_day(line, cell("effective_from"), default_date),
    )


def _day(line: int, value: str | None, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise RosterError(f"line {line}.effective_from", f"{value!r} is not a date (YYYY-MM-DD)") from None
