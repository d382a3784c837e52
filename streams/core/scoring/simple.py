"""Per-event items: 三小一卡 product sales (one item per sale_id) and customer visits (per event)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from schemas.envelope import Envelope
from schemas.events import CustomerVisited, ProductSold
from streams.core.calendar import day_of
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

    def __init__(self) -> None:
        super().__init__()
        self.sales: dict[str, ProductSold] = {}

    def observe(self, event: Envelope, ctx: Context | None) -> Touch:
        if not isinstance(event, ProductSold):
            return NO_TOUCH
        key = event.data.sale_id
        first = self.sales.get(key)
        if first is not None and (first.occurred_at, first.event_id) <= (event.occurred_at, event.event_id):
            return NO_TOUCH
        self.sales[key] = event
        return Touch(frozenset(self.place(key, day_of(event.occurred_at))), self.describe(key, ctx))

    def item_time(self, key: str) -> tuple[datetime, str | None]:
        return self.sales[key].occurred_at, None

    def score(self, key: str, version: Competition, rule: ProductSoldRule) -> Scored | None:
        product = self.sales[key].data.product
        points = rule.points.get(product, Decimal(0))
        if not points:
            return None
        return Scored(points, False, ("products",))

    def explain(self, key: str, version: Competition, rule: ProductSoldRule, scored: Scored) -> str:
        return f"销售{PRODUCT_ZH[self.sales[key].data.product.value]} {fmt(scored.points)}"


class VisitScorer(DailyScorer):
    kind = "visit"

    def __init__(self) -> None:
        super().__init__()
        self.visits: dict[str, CustomerVisited] = {}

    def observe(self, event: Envelope, ctx: Context | None) -> Touch:
        if not isinstance(event, CustomerVisited):
            return NO_TOUCH
        self.visits[event.event_id] = event
        return Touch(
            frozenset(self.place(event.event_id, day_of(event.occurred_at))),
            self.describe(event.event_id, ctx),
        )

    def item_time(self, key: str) -> tuple[datetime, str | None]:
        return self.visits[key].occurred_at, None

    def score(self, key: str, version: Competition, rule: VisitRule) -> Scored | None:
        channel = self.visits[key].data.channel
        points = rule.points.get(channel, Decimal(0))
        if not points:
            return None
        return Scored(points, False, ("visits",))

    def explain(self, key: str, version: Competition, rule: VisitRule, scored: Scored) -> str:
        return f"{VISIT_ZH[self.visits[key].data.channel.value]} {fmt(scored.points)}"
