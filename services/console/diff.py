"""A structural diff of two JSON documents (competition definitions), for the audit log.

    diff({"rules": [{"kind": "visit", "points": 1}]}, {"rules": [{"kind": "visit", "points": 2}]})
    == [{"path": "rules[0].points", "op": "changed", "from": 1, "to": 2}]

Paths use the notation of the core's RuleError (`rules[0].points.basic`), so the console can show
a change next to the field it belongs to. A list whose items are objects each with a distinct
"kind" (rules, modifiers) is matched by kind, not by position: moving a rule is no change, and
adding one in front does not show every later rule as changed. The path names the item's index
in the newer document (the older one's for a removal). Other lists are compared position by
position. Changes come in document order of the newer version, removals where they were.
"""

from __future__ import annotations

from typing import Any

Change = dict[str, Any]


def diff(before: Any, after: Any) -> list[Change]:
    """What changed from `before` to `after`; [] when they are equal. `before` None: everything is new."""
    if before is None:
        return [] if after is None else [{"path": "(competition)", "op": "added", "to": after}]
    out: list[Change] = []
    _walk(before, after, "", out)
    return out


def _walk(before: Any, after: Any, path: str, out: list[Change]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in after:
            sub = _key(path, key)
            if key in before:
                _walk(before[key], after[key], sub, out)
            else:
                out.append({"path": sub, "op": "added", "to": after[key]})
        for key in before:
            if key not in after:
                out.append({"path": _key(path, key), "op": "removed", "from": before[key]})
        return
    if isinstance(before, list) and isinstance(after, list):
        if _by_kind(before) and _by_kind(after):
            _walk_kinds(before, after, path, out)
            return
        for i, item in enumerate(after):
            if i < len(before):
                _walk(before[i], item, f"{path}[{i}]", out)
            else:
                out.append({"path": f"{path}[{i}]", "op": "added", "to": item})
        for i in range(len(after), len(before)):
            out.append({"path": f"{path}[{i}]", "op": "removed", "from": before[i]})
        return
    if before != after or type(before) is not type(after):
        out.append({"path": path or "(competition)", "op": "changed", "from": before, "to": after})


def _walk_kinds(
    before: list[dict[str, Any]], after: list[dict[str, Any]], path: str, out: list[Change]
) -> None:
    old = {item["kind"]: (i, item) for i, item in enumerate(before)}
    new_kinds = {item["kind"] for item in after}
    for i, item in enumerate(after):
        found = old.get(item["kind"])
        if found is None:
            out.append({"path": f"{path}[{i}]", "op": "added", "to": item})
        else:
            _walk(found[1], item, f"{path}[{i}]", out)
    for kind, (i, item) in old.items():
        if kind not in new_kinds:
            out.append({"path": f"{path}[{i}]", "op": "removed", "from": item})


def _by_kind(items: list[Any]) -> bool:
    """Every item an object with a "kind", no kind twice (an empty list qualifies)."""
    kinds = [item.get("kind") if isinstance(item, dict) else None for item in items]
    return None not in kinds and len(set(kinds)) == len(kinds)


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
