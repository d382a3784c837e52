"""The push hub (ids, resume, bounded queues), the Chinese labels of ledger components, the
targets a competition's rules give, and the manager summary, without Kafka or HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from services.readmodel import Board
from services.readmodel.labels import LATE_NOTE, component_label
from services.readmodel.manager import manager_view
from services.readmodel.progress import progress_of, scorecard_of
from services.readmodel.push import Hub
from services.readmodel.scored import RecentScores
from streams.core.ledger import make_entry
from streams.core.standing import Standing
from streams.core.templates import load_template


def publish(hub: Hub, cid: str = "c1", sb: str | None = "sb-1") -> int:
    return hub.publish("scored", cid, sb, b"{}", b"{}").id


def test_ids_grow_by_one_and_a_reconnect_gets_what_it_missed() -> None:
    hub = Hub(capacity=10, keep=5, first_id=100)
    ids = [publish(hub, sb=sb) for sb in ("sb-1", "sb-2", "sb-1", "sb-1")]
    assert ids == [100, 101, 102, 103]

    _, missed = hub.subscribe("c1", "sb-1", last_event_id=100)
    assert [m.id for m in missed] == [102, 103]  # sb-2's message is not in this scope
    _, everything = hub.subscribe("c1", None, last_event_id=100)
    assert [m.id for m in everything] == [101, 102, 103]
    _, nothing = hub.subscribe("c1", None, last_event_id=103)
    assert nothing == []


def test_a_client_further_behind_than_the_ring_or_from_another_process_gets_none() -> None:
    hub = Hub(capacity=10, keep=3, first_id=100)
    for _ in range(6):
        publish(hub)  # 100..105; the ring keeps 103..105
    assert not hub.holds(101) and hub.holds(102) and hub.holds(105)
    assert hub.subscribe("c1", None, last_event_id=101)[1] == []
    assert [m.id for m in hub.subscribe("c1", None, last_event_id=102)[1]] == [103, 104, 105]
    assert hub.subscribe("c1", None, last_event_id=999)[1] == []  # an id this process never gave


def test_a_full_queue_is_emptied_and_marked_for_a_fresh_snapshot() -> None:
    hub = Hub(capacity=3, keep=100, first_id=1)
    slow, _ = hub.subscribe("c1", None)
    other, _ = hub.subscribe("c2", None)
    for _ in range(3):
        publish(hub)
    assert [m.id for m in slow.queue] == [1, 2, 3] and not slow.resync
    publish(hub)  # the fourth does not fit: no backlog, a snapshot instead
    assert list(slow.queue) == [] and slow.resync and hub.overflows == 1
    publish(hub)
    assert [m.id for m in slow.queue] == [5]
    assert list(other.queue) == []  # another competition's client saw none of it
    hub.unsubscribe(slow)
    publish(hub)
    assert [m.id for m in slow.queue] == [5] and len(hub) == 1


def test_component_labels() -> None:
    assert component_label("opening", "开立基本户 20（基础 10，非授信 2）") == "新开基本户"
    assert component_label("opening", "开立一般户 4") == "新开一般户"
    assert component_label("opening.clawback", "销户扣回 -20") == "销户扣回"
    assert component_label("opening.daily_cap") == "单日封顶"
    assert component_label("product", "销售信用卡 5") == "销售信用卡"
    assert component_label("visit", "上门拜访 2") == "上门拜访"
    assert component_label("payroll", "代发工资协议 P1 首笔入账 35") == "代发工资"
    assert component_label("deposit", "存款增量（日均）账户 A1 权重 1") == "存款增量"
    assert component_label("adjustment", "补录 +5") == "人工调整"
    assert component_label("something.new") == "something.new"


def test_component_labels_come_from_the_entry_label_not_its_reason() -> None:
    """The reason is text for people (a rule change rewrites it: "规则 v2 重算：…"); the label says
    what the entry counted. The reason is read only for entries older than labels."""
    basic = {"kind": "opening", "account_type": "basic", "segment": "non_credit"}
    assert component_label("opening", "规则 v2 重算：开立一般户 6", basic) == "新开基本户"
    assert component_label("opening", "规则 v2 重算：开户积分 +8.00", {"kind": "opening"}) == "新开账户"
    assert component_label("product", "", {"kind": "product", "product": "credit_card"}) == "销售信用卡"
    assert component_label("visit", "", {"kind": "visit", "channel": "on_site"}) == "上门拜访"
    assert (
        component_label("opening.contest_cap", "", {"kind": "contest_cap", "rule": "opening"}) == "活动封顶"
    )
    assert component_label("opening", "", {"kind": "opening", "account_type": "nonsense"}) == "新开账户"


def banker_standing(actual: dict[str, str], attainment: dict[str, str], penalised: bool) -> Standing:
    return Standing.from_dict(
        {
            "competition_id": "little-banker",
            "cm_id": "cm-a",
            "rule_version": 1,
            "points": "50.00",
            "components": {"scorecard": "50.00"},
            "units": [{"sub_branch_id": "sb-1", "team_id": None, "points": "50.00"}],
            "metrics": {},
            "scorecard": {
                "composite": "50.00",
                "penalised": penalised,
                "attainment": attainment,
                "actual": actual,
            },
        }
    )


def test_scorecard_targets_and_the_balance_warning() -> None:
    comp = load_template("little_banker")
    standing = banker_standing(
        {"credit_offline_customers": "20", "credit_online_customers": "12", "non_credit_customers": "50"},
        {"credit_offline_customers": "0.8", "credit_online_customers": "0.4", "non_credit_customers": "1"},
        penalised=True,
    )
    progress = {p.metric: (p.label, p.actual, p.targets, p.unit) for p in progress_of(comp, standing)}
    assert progress["credit_offline_customers"] == ("线下授信客户", Decimal(20), (Decimal(25),), "户")
    assert progress["credit_online_customers"][2] == (Decimal(30),)
    assert progress["non_credit_customers"][2] == (Decimal(50),)
    assert progress["deposit_increase"][3] == "元"
    card = scorecard_of(comp, standing)
    assert card is not None and card.penalised
    assert card.warning is not None and "线上授信客户" in card.warning and "×0.8" in card.warning
    assert "线下授信客户" not in card.warning


def test_contest_caps_and_minimum_totals_are_targets_too() -> None:
    comp = load_template("feb_account_opening")  # contest cap 600
    standing = Standing.from_dict(
        {
            "competition_id": comp.id,
            "cm_id": "cm-a",
            "rule_version": 1,
            "points": "570.00",
            "components": {"opening": "590.00", "opening.daily_cap": "-20.00"},
            "units": [],
            "metrics": {},
        }
    )
    (cap,) = progress_of(comp, standing)
    assert (cap.metric, cap.label, cap.actual, cap.targets) == (
        "opening_cap",
        "新开账户封顶",
        Decimal(570),
        (600,),
    )


def test_the_manager_summary_lists_ranks_components_and_recent_entries() -> None:
    board = Board(clock=lambda: datetime(2026, 2, 10, 2, 0, tzinfo=UTC))
    comp = load_template("feb_account_opening").model_copy(update={"status": "published"})
    board.set_competitions([comp])
    for cm, points in (("cm-a", "20.00"), ("cm-b", "40.00")):
        body = {"competition_id": comp.id, "cm_id": cm, "rule_version": 1, "points": points}
        body |= {"components": {"opening": points}, "units": [], "metrics": {}}
        board.put(f"{comp.id}|{cm}", json.dumps(body).encode())
    recent = RecentScores(per_manager=2)
    for i in range(3):
        entry = make_entry(
            competition_id=comp.id,
            rule_version=1,
            event_id=f"e{i}",
            cm_id="cm-a",
            sub_branch_id="sb-1",
            team_id=None,
            occurred_at=datetime(2026, 2, 3, 2, i, tzinfo=UTC),
            points=Decimal("10.00"),
            component="opening",
            reason="开立基本户 10",
        )
        recent.take(json.dumps(entry.to_dict()).encode(), board, None)

    view = manager_view(board, recent, "cm-a")
    assert view is not None
    (entered,) = view.competitions
    assert (entered.rank, entered.count, entered.standing and str(entered.standing.points)) == (2, 2, "20.00")
    assert [(s.entry.event_id, s.label) for s in view.recent] == [("e2", "新开基本户"), ("e1", "新开基本户")]
    assert manager_view(board, recent, "cm-nobody") is None


def test_a_scored_message_is_its_private_form_plus_reason_and_lateness() -> None:
    board = Board()
    hub = Hub(first_id=1)
    sub, _ = hub.subscribe("feb", None)
    entry = make_entry(
        competition_id="feb",
        rule_version=1,
        event_id="e1",
        cm_id="cm-a",
        sub_branch_id="sb-1",
        team_id=None,
        occurred_at=datetime(2026, 2, 3, 2, 0, tzinfo=UTC),
        points=Decimal("10.00"),
        component="opening",
        reason="开立基本户 10",
        late=True,
    )
    RecentScores().take(json.dumps(entry.to_dict()).encode(), board, hub)

    (m,) = sub.queue
    private = json.loads(m.private)
    assert list(private) == [
        "event_id", "competition_id", "cm_id", "name", "sub_branch_id", "sub_branch_name",
        "team_id", "team_name", "component", "label", "points", "occurred_at",
    ]  # fmt: skip
    assert (private["points"], private["occurred_at"], private["name"]) == (
        "10.00",
        "2026-02-03T02:00:00+00:00",
        "cm-a",
    )
    full = json.loads(m.data)
    assert list(full) == [*private, "reason", "late", "late_note"]
    assert full == private | {"reason": "开立基本户 10", "late": True, "late_note": LATE_NOTE}
    assert m.frame == b"id: 1\nevent: scored\ndata: " + m.data + b"\n\n"
    assert m.private_frame == b"id: 1\nevent: scored\ndata: " + m.private + b"\n\n"
