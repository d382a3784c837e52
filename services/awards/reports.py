"""An award run as a report: CSV (UTF-8 with BOM, so Excel reads the Chinese) and XLSX (XlsxWriter).

Rendered from the run's stored result only, so the same result gives the same bytes: rows in the
result's order, no clock (the workbook's created date is a constant), no random ids.
Per sub-branch: only that sub-branch's managers (by their unit on the period's last day) and
its own unit lines.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]  # no stubs published

from services.awards.table import ADJUSTMENT_LABEL

PEOPLE_HEADERS = [
    "排名",
    "客户经理编号",
    "客户经理",
    "支行",
    "团队",
    "本期积分",
    ADJUSTMENT_LABEL,
    "积分合计",
    "奖项",
    "奖金（元）",
    "备注",
]
UNIT_HEADERS = [
    "排名",
    "排名方式",
    "单位编号",
    "单位",
    "人数",
    "积分",
    ADJUSTMENT_LABEL,
    "奖项",
    "奖金（元）",
    "备注",
]
RANKING_ZH = {"team": "团队总分", "sub_branch_total": "支行总分", "sub_branch_per_head": "支行人均"}
STATUS_ZH = {"draft": "草稿", "approved": "已审批"}
PERIOD_ZH = {"window": "整个竞赛期"}
# A constant creation date: XlsxWriter would stamp the current time and make every file differ.
_CREATED = datetime(2000, 1, 1)


def _awards(items: list[dict[str, str]]) -> str:
    return "、".join(f"{a['prize']}·{a['title']}" for a in items)


def _rows(run: dict[str, Any], sub_branch: str | None) -> tuple[list[list[Any]], list[list[Any]]]:
    result = run["result"]
    names: dict[str, str | None] = result.get("unit_names", {})
    people = []
    for p in result["people"]:
        if sub_branch and p["sub_branch_id"] != sub_branch:
            continue
        people.append(
            [
                p["rank"] if p["rank"] is not None else "",
                p["cm_id"],
                p["name"] or "",
                names.get(p["sub_branch_id"] or "") or p["sub_branch_id"] or "",
                names.get(p["team_id"] or "") or p["team_id"] or "",
                Decimal(p["points"]),
                Decimal(p["adjustment"]),
                Decimal(p["total"]),
                _awards(p["awards"]),
                Decimal(p["amount"]),
                "；".join(p["remarks"]),
            ]
        )
    units = []
    for u in result["units"]:
        if sub_branch and u["unit_id"] != sub_branch:
            continue
        units.append(
            [
                u["rank"] if u["rank"] is not None else "",
                RANKING_ZH.get(u["ranking"], u["ranking"]),
                u["unit_id"],
                u["name"] or "",
                u["headcount"] if u["headcount"] is not None else "",
                Decimal(u["points"]),
                Decimal(u["adjustment"]),
                _awards(u["awards"]),
                Decimal(u["amount"]),
                "；".join(u["remarks"]),
            ]
        )
    return people, units


def _heading(run: dict[str, Any], name: str, sub_branch: str | None) -> list[list[str]]:
    period = PERIOD_ZH.get(run["period"], run["period"])
    rows = [
        ["竞赛", f"{name}（{run['competition_id']}）"],
        ["期间", period],
        ["状态", STATUS_ZH.get(run["status"], run["status"])],
        ["结果校验和 (SHA-256)", run["checksum"]],
    ]
    if run.get("supersedes"):
        rows.append(["更正自运行", str(run["supersedes"])])
    if sub_branch:
        rows.append(["支行", sub_branch])
    return rows


def _text(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, Decimal) else str(value)


def csv_report(run: dict[str, Any], name: str, sub_branch: str | None = None) -> bytes:
    people, units = _rows(run, sub_branch)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(_heading(run, name, sub_branch))
    writer.writerow([])
    writer.writerow(PEOPLE_HEADERS)
    writer.writerows([[_text(v) for v in row] for row in people])
    if units:
        writer.writerow([])
        writer.writerow(UNIT_HEADERS)
        writer.writerows([[_text(v) for v in row] for row in units])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def xlsx_report(run: dict[str, Any], name: str, sub_branch: str | None = None) -> bytes:
    people, units = _rows(run, sub_branch)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties(
        {"title": f"{name} {run['period']} 获奖名单", "created": _CREATED, "author": "campaigns"}
    )
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "0.00"})

    def sheet(title: str, headers: list[str], rows: list[list[Any]]) -> None:
        ws = book.add_worksheet(title)
        r = 0
        for label, value in _heading(run, name, sub_branch):
            ws.write_string(r, 0, label, bold)
            ws.write_string(r, 1, value)
            r += 1
        r += 1
        ws.write_row(r, 0, headers, bold)
        for row in rows:
            r += 1
            for c, value in enumerate(row):
                if isinstance(value, Decimal):
                    ws.write_number(r, c, float(value), money)
                elif isinstance(value, int):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, value)
        ws.set_column(0, len(headers) - 1, 14)

    sheet("获奖名单", PEOPLE_HEADERS, people)
    if units:
        sheet("团队奖", UNIT_HEADERS, units)
    book.close()
    return buffer.getvalue()
