"""What a ledger entry counted, as plain words a program reads (the entry's `label`).

A label is a flat map of strings. `kind` is always there: the rule's own points ("opening",
"payroll", "product", "visit", "deposit", "scorecard", "adjustment"), a badge or a challenge
reached ("badge", "challenge": 0 points, streams/core/badges.py), or what adjusted them
("clawback", "multiplier", "daily_cap", "contest_cap", "threshold"), with `rule` naming the
day-based rule a modifier belongs to. An event's own item adds what it was:

| kind       | extra keys                                     |
|------------|------------------------------------------------|
| opening    | account_type, segment, channel, new_firm       |
| product    | product                                        |
| visit      | channel                                        |
| deposit    | measure, category                              |
| adjustment | reason_code                                    |
| badge      | rule, badge, name, action (award / revoke)     |
| challenge  | rule, badge, name, action (award / revoke)     |

A label never carries an amount or a customer's or account's id (screens show it in privacy
mode); the entry's reason text may carry both and is for people only.
"""

from __future__ import annotations

from collections.abc import Mapping

MODIFIERS = frozenset({"clawback", "multiplier", "daily_cap", "contest_cap"})


def label_of(component: str, detail: Mapping[str, str] | None = None) -> dict[str, str]:
    """The label of an entry of this ledger component, with the item's details when known."""
    base, _, modifier = component.partition(".")
    label = {"kind": modifier, "rule": base} if modifier else {"kind": base}
    if detail:
        label.update(detail)
    return label
