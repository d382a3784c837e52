"""Per-event items: 三小一卡 product sales (one item per sale_id) and customer visits (per event)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from schemas.envelope import Envelope
from schemas.events import CustomerVisited, ProductSold
from schemas.vocabulary import Product, VisitChannel
from streams.core.calendar import day_of
from streams.core.compact import micros, moment_of
from streams.core.points import fmt
from streams.core.rules import Competition
from streams.core.scoring.base import NO_TOUCH, Context, Touch
from streams.core.scoring.daily import DailyScorer, Scored
from streams.core.vocabulary import ProductSoldRule, VisitRule

PRODUCT_ZH = {
    "bill_discount": "票据贴现",
    "international_settlement": "国际结算",
    "cash_management": "现金管理",
    "credit_card": "信用卡",
    "corporate_wealth": "对公理财",
    "tax_collection": "代缴税",
    "utility_collection": "代扣水电费",
    "other": "其他产品",
}
VISIT_ZH = {"phone": "电话拜访", "on_site": "上门拜访", "sms": "短信拜访", "online": "线上拜访"}


class ProductScorer(DailyScorer):
    kind = "product_sold"
    types = frozenset({"product.sold"})

    def __init__(self, final: Competition | None = None) -> None:
        super().__init__(final)
        self.sales: dict[str, tuple[datetime, str, Product]] = {}  # sale_id -> earliest report

    def observe(self, event: Envelope, ctx: Context, explain: bool = True) -> Touch:
        if not isinstance(event, ProductSold):
            return NO_TOUCH
        key = event.data.sale_id
        first = self.sales.get(key)
        if first is not None and first[:2] <= (event.occurred_at, event.event_id):
            return NO_TOUCH
        self.sales[key] = (event.occurred_at, event.event_id, event.data.product)
        return Touch(
            frozenset(self.place(key, day_of(event.occurred_at))),
            self.describe(key, ctx, explain),
            self.detailed(key, explain),
        )

    def day_of_item(self, key: str) -> date | None:
        return day_of(self.sales[key][0])

    def detail(self, key: str) -> dict[str, str]:
        return {"product": self.sales[key][2].value}

    def item_keys(self) -> list[str]:
        return list(self.sales)

    def item_time(self, key: str) -> tuple[datetime, str | None]:
        return self.sales[key][0], None

    def score(self, key: str, version: Competition, rule: ProductSoldRule) -> Scored | None:
        points = rule.points.get(self.sales[key][2], Decimal(0))
        if not points:
            return None
        return Scored(points, False, ("products",))

    def explain(self, key: str, version: Competition, rule: ProductSoldRule, scored: Scored) -> str:
        return f"销售{PRODUCT_ZH[self.sales[key][2].value]} {fmt(scored.points)}"

    def dump(self) -> Any:
        return [[k, micros(at), eid, product.value] for k, (at, eid, product) in self.sales.items()]

    def load(self, raw: Any) -> None:
        self.sales = {k: (moment_of(at), eid, Product(product)) for k, at, eid, product in raw}
        self.reanchor()


class VisitScorer(DailyScorer):
    """Every visit event is an item of its own (keyed by its event id): there is no business key."""

    kind = "visit"
    types = frozenset({"customer.visited"})

    def __init__(self, final: Competition | None = None) -> None:
        super().__init__(final)
        self.visits: dict[str, tuple[datetime, VisitChannel]] = {}

    def observe(self, event: Envelope, ctx: Context, explain: bool = True) -> Touch:
        if not isinstance(event, CustomerVisited) or event.event_id in self.visits:
            return NO_TOUCH
        self.visits[event.event_id] = (event.occurred_at, event.data.channel)
        return Touch(
            frozenset(self.place(event.event_id, day_of(event.occurred_at))),
            self.describe(event.event_id, ctx, explain),
            self.detailed(event.event_id, explain),
        )

    def day_of_item(self, key: str) -> date | None:
        return day_of(self.visits[key][0])

    def detail(self, key: str) -> dict[str, str]:
        return {"channel": self.visits[key][1].value}

    def item_keys(self) -> list[str]:
        return list(self.visits)

    def item_time(self, key: str) -> tuple[datetime, str | None]:
        return self.visits[key][0], None

    def score(self, key: str, version: Competition, rule: VisitRule) -> Scored | None:
        points = rule.points.get(self.visits[key][1], Decimal(0))
        if not points:
            return None
        return Scored(points, False, ("visits",))

    def explain(self, key: str, version: Competition, rule: VisitRule, scored: Scored) -> str:
        return f"{VISIT_ZH[self.visits[key][1].value]} {fmt(scored.points)}"

    def dump(self) -> Any:
        return [[k, micros(at), channel.value] for k, (at, channel) in self.visits.items()]

    def load(self, raw: Any) -> None:
        self.visits = {k: (moment_of(at), VisitChannel(channel)) for k, at, channel in raw}
        self.reanchor()
