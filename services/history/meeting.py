"""The 晨会 report as the API serves it: the two boards read from the ledger, the report made
(services/history/morning.py), then written as JSON or as an XLSX workbook."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]

from schemas import SHANGHAI
from services.history.boards import past_board, sub_branches
from services.history.moments import LedgerHistory
from services.history.morning import Morning, NewBadge, morning
from services.readmodel.board import Board

_CREATED = datetime(2026, 1, 1)  # a fixed creation time: the same report gives the same bytes


def close_of(day: date) -> datetime:
    """The last instant of a Shanghai day (entries at the next midnight belong to the next day)."""
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC) - timedelta(
        microseconds=1
    )


def build(
    history: LedgerHistory, board: Board, competition_id: str, sub_branch_id: str, day: date
) -> Morning:
    after = past_board(history, board, competition_id, "customer_manager", close_of(day))
    before = past_board(history, board, competition_id, "customer_manager", close_of(day - timedelta(days=1)))
    members = sub_branches(after)
    earned = [
        NewBadge(s.cm_id, b.name, b.kind, b.at) for s in board.standings(competition_id) for b in s.badges
    ]
    return morning(after.competition, sub_branch_id, day, before.places, after.places, members, earned)


def _money(value: Decimal) -> str:
    return str(value)


def to_json(report: Morning, board: Board) -> dict[str, Any]:
    def name(cm_id: str) -> str:
        return board.org.name(cm_id) or cm_id

    comp = board.competition(report.competition_id)
    return {
        "competition_id": report.competition_id,
        "competition_name": comp.name,
        "sub_branch_id": report.sub_branch_id,
        "sub_branch_name": board.unit_names().get(report.sub_branch_id, report.sub_branch_id),
        "day": report.day.isoformat(),
        "as_of": close_of(report.day).isoformat(),
        "board_size": report.board_size,
        "total": _money(report.total),
        "gained": _money(report.gained),
        "targets": [
            {"label": t.label, "points": _money(t.points), "met": report.met[t.label]} for t in report.targets
        ],
        "lines": [
            {
                "cm_id": line.cm_id,
                "name": name(line.cm_id),
                "rank": line.rank,
                "points": _money(line.points),
                "gained": _money(line.gained),
                "change": line.change,
                "reached": list(line.reached),
            }
            for line in report.lines
        ],
        "up": [_move(m, name(m.unit_id)) for m in report.up],
        "down": [_move(m, name(m.unit_id)) for m in report.down],
        "closest": [
            {
                "cm_id": c.unit_id,
                "name": name(c.unit_id),
                "rank": c.rank,
                "next_rank": c.next_rank,
                "gap": _money(c.gap),
                "ahead": name(c.ahead_id),
            }
            for c in report.closest
        ],
        "badges": [
            {"cm_id": b.cm_id, "name": name(b.cm_id), "badge": b.name, "kind": b.kind, "at": b.at.isoformat()}
            for b in report.badges
        ],
    }


def _move(m: Any, name: str) -> dict[str, Any]:
    return {"cm_id": m.unit_id, "name": name, "rank": m.rank, "change": m.change, "gained": _money(m.gained)}


def to_xlsx(shown: dict[str, Any]) -> bytes:
    """The JSON report as a workbook: 排名 (every manager), 进退 (movers), 冲刺 (closest), 徽章 (new
    badges)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    title = f"{shown['sub_branch_name']} 晨会 {shown['day']}"
    book.set_properties({"title": title, "created": _CREATED, "author": "campaigns"})
    bold = book.add_format({"bold": True})
    points = book.add_format({"num_format": "0.00"})

    def sheet(name: str, headers: list[str], rows: list[list[Any]]) -> None:
        ws = book.add_worksheet(name)
        ws.write_string(0, 0, shown["competition_name"], bold)
        ws.write_string(1, 0, f"{title}（截至 {shown['day']} 日终）")
        ws.write_row(3, 0, headers, bold)
        for r, row in enumerate(rows, start=4):
            for c, value in enumerate(row):
                if isinstance(value, Decimal):
                    ws.write_number(r, c, float(value), points)
                elif isinstance(value, int):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, "" if value is None else str(value))
        ws.set_column(0, len(headers) - 1, 14)

    sheet(
        "排名",
        ["排名", "客户经理", "积分", "昨日新增", "名次变化", "达成"],
        [
            [
                line["rank"],
                line["name"],
                Decimal(line["points"]),
                Decimal(line["gained"]),
                _change(line["change"]),
                "、".join(line["reached"]),
            ]
            for line in shown["lines"]
        ],
    )
    sheet(
        "进退",
        ["", "客户经理", "排名", "名次变化", "昨日新增"],
        [["上升", m["name"], m["rank"], _change(m["change"]), Decimal(m["gained"])] for m in shown["up"]]
        + [["下降", m["name"], m["rank"], _change(m["change"]), Decimal(m["gained"])] for m in shown["down"]],
    )
    sheet(
        "冲刺",
        ["客户经理", "排名", "目标名次", "还差积分", "前一名"],
        [[c["name"], c["rank"], c["next_rank"], Decimal(c["gap"]), c["ahead"]] for c in shown["closest"]],
    )
    sheet(
        "徽章", ["客户经理", "徽章", "获得时间"], [[b["name"], b["badge"], b["at"]] for b in shown["badges"]]
    )
    book.close()
    return buffer.getvalue()


def _change(change: int | None) -> str:
    if change is None:
        return "新上榜"
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "—"
