"""三小一卡 sales and visits, with a double-points week and a minimum total."""

from __future__ import annotations

from decimal import Decimal

from streams.core import ParticipantState, apply, score_batch, standings
from tests.unit.core.core_builders import competitions_of, event, events_of, load_example

EXAMPLE = load_example("products_visits")

# products: bill discount 5, international settlement 5, cash management 5, credit card 2
# visits:   on site 2, phone 0.5; double points Aug 11-17 for products only; below 10 points -> 0
# cm-h  card Aug 5 (2), cash mgmt Aug 12 (5 +5), bill discount Aug 13 (5 +5), on-site Aug 12 (2),
#       phone Aug 20 (0.5)                        -> product 12, multiplier 10, visit 2.5 = 24.50
# cm-k  card Aug 14 (2 +2), on-site Aug 3 (2)    -> 6 < 10 -> threshold -6 = 0
EXPECTED = {
    "cm-h": {"product": "12.00", "product.multiplier": "10.00", "visit": "2.50"},
    "cm-k": {"product": "2.00", "product.multiplier": "2.00", "visit": "2.00", "threshold": "-6.00"},
}
TOTALS = {"cm-h": "24.50", "cm-k": "0.00"}


def test_components_and_totals() -> None:
    result = score_batch(events_of(EXAMPLE), competitions_of(EXAMPLE))
    for cm, components in EXPECTED.items():
        s = result[("aug-products-2025", cm)]
        assert {k: str(v) for k, v in s.components.items()} == components
        assert s.points == Decimal(TOTALS[cm])


def test_crossing_the_minimum_releases_the_threshold() -> None:
    comps = competitions_of(EXAMPLE)
    state = ParticipantState("cm-k")
    for e in events_of(EXAMPLE):
        if e.data.cm_id == "cm-k":  # type: ignore[attr-defined]
            apply(state, e, comps)
    sale = event(
        "product.sold",
        "s5",
        "2025-08-30 10:00",
        sale_id="S-s5",
        customer_id="C",
        cm_id="cm-k",
        product="international_settlement",
    )
    entries = {x.component: str(x.points) for x in apply(state, sale, comps)}
    assert entries == {"product": "5.00", "threshold": "6.00"}
    assert standings(state)[0].points == Decimal("11.00")
