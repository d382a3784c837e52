"""Why an event did or did not count, in each competition: the core's own answer, no I/O.

`explain_event(event, history, competitions)` scores the manager's history twice, with and without
the event, and reads the books: the difference is what the event is worth now that everything
else is known (per ledger component), and each rule that reads this type of event says what it
did with it: scored it (which version, how many points), or not and why (no version in force,
outside the window, not a participant that day, worth 0 for its type, an earlier event for the
same account or sale already counts, an agreement still waiting for its signing or first batch,
a balance replaced by a later one for the same day), and what cut it (clawback, daily cap,
contest cap, minimum total). Duplicates and dead letters never reach the core: the services
layer adds those.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from schemas.envelope import Envelope
from schemas.events import (
    AccountClosed,
    AccountOpened,
    CustomerAssigned,
    DepositBalance,
    OrgChanged,
    PayrollPaid,
    PayrollSigned,
    ProductSold,
)
from schemas.routing import participant_of, participants_of
from streams.core.book import THRESHOLD, Book, cap_bucket
from streams.core.calendar import day_of
from streams.core.catalog import Catalog, as_catalog
from streams.core.engine import rebuild
from streams.core.points import ZERO, fmt
from streams.core.rules import Competition
from streams.core.scoring.balances import POINT_IN_TIME
from streams.core.scoring.base import Context
from streams.core.scoring.daily import LABEL, DailyScorer
from streams.core.scoring.deposits import DepositScorer
from streams.core.scoring.opening import OpeningScorer
from streams.core.scoring.payroll import PayrollScorer
from streams.core.scoring.scorecard import ScorecardScorer
from streams.core.scoring.simple import ProductScorer, VisitScorer
from streams.core.state import ParticipantState

KIND_ZH = {**LABEL, "deposit_growth": "存款增量积分", "scorecard": "小小银行家综合得分"}


@dataclass(frozen=True)
class Finding:
    """One thing a rule did (or did not do) with the event. `code` for programs, `text` for people."""

    code: str
    text: str
    rule: str | None = None  # the rule kind, when a rule said it
    version: int | None = None  # the competition version that decided


@dataclass(frozen=True)
class Verdict:
    """The event in one competition."""

    competition_id: str
    name: str
    counted: bool  # the event moves this competition's score (given the manager's whole history)
    points: Decimal
    changes: dict[str, Decimal] = field(default_factory=dict)  # component -> points it moves
    findings: list[Finding] = field(default_factory=list)


def explain_event(
    event: Envelope, history: Iterable[Envelope], competitions: Catalog | Iterable[Competition]
) -> list[Verdict]:
    """One verdict per competition of the catalog, in competition order. `history`: the manager's
    other events (the event itself may be among them; repeated ids count once)."""
    catalog = as_catalog(competitions)
    cm_id = participant_of(event)
    others = [e for e in history if e.event_id != event.event_id and cm_id in participants_of(e)]
    with_it, _ = rebuild(cm_id, [*others, event], catalog, None, dated=False)
    without, _ = rebuild(cm_id, others, catalog, None, dated=False)
    out = []
    for cid in catalog.ids:
        book = with_it.books[cid]
        before = without.books[cid].totals
        changes: dict[str, Decimal] = {}
        for key in book.totals.keys() | before.keys():
            change = book.totals.get(key, ZERO) - before.get(key, ZERO)
            if change:
                changes[key[0]] = changes.get(key[0], ZERO) + change
        changes = {k: v for k, v in sorted(changes.items()) if v}
        points = sum(changes.values(), ZERO)
        findings = _findings(book, book.context(catalog, with_it.org, with_it.cm_id), event, others, with_it)
        out.append(Verdict(cid, catalog.final(cid).name, bool(changes), points, changes, findings))
    return out


# -- what each rule did -------------------------------------------------------------------------


def _findings(
    book: Book, ctx: Context, event: Envelope, others: list[Envelope], state: ParticipantState
) -> list[Finding]:
    out: list[Finding] = []
    if isinstance(event, OrgChanged):
        d = event.data
        out.append(
            Finding(
                "org_move",
                f"组织调整：自 {d.effective_from} 起{'加入' if d.action.value == 'join' else '离开'}"
                f" {d.unit_id}；此后各日的积分记在当日所属单位（已记的积分按日重新归属）",
            )
        )
        return out
    readers = [s for s in book.scorers.values() if event.type in s.types]
    if not readers:
        out.append(Finding("not_read", f"本活动的规则不读取 {event.type} 事件"))
        return out
    for scorer in readers:
        if isinstance(scorer, DailyScorer):
            out += _daily(book, scorer, ctx, event)
        elif isinstance(scorer, DepositScorer):
            out += _deposit(scorer, ctx, event, others)
        elif isinstance(scorer, ScorecardScorer):
            out += _scorecard(ctx, event, state)
    threshold = book.buckets.get(THRESHOLD)
    if threshold is not None and any(threshold.values.values()):
        minimum = ctx.minimum
        shown = fmt(minimum.points)[1:] if minimum else "?"
        out.append(Finding("minimum_total", f"总分未达门槛 {shown} 分：本活动计 0 分（达标后恢复）"))
    return out


def _item_key(scorer: DailyScorer, event: Envelope) -> str | None:
    if isinstance(event, AccountOpened):
        return event.data.account_id
    if isinstance(event, PayrollSigned | PayrollPaid):
        return event.data.agreement_id
    if isinstance(event, ProductSold):
        return event.data.sale_id
    if isinstance(scorer, VisitScorer):
        return event.event_id
    return None


def _winner(scorer: DailyScorer, key: str, event: Envelope) -> str | None:
    """The event id that stands for the item, when it is not this event (an earlier report)."""
    if isinstance(scorer, OpeningScorer):
        winner = scorer.openings[key].event_id
    elif isinstance(scorer, ProductScorer):
        winner = scorer.sales[key][1]
    else:
        return None
    return winner if winner != event.event_id else None


def _daily(book: Book, scorer: DailyScorer, ctx: Context, event: Envelope) -> list[Finding]:
    kind = scorer.kind
    if isinstance(event, AccountClosed) and isinstance(scorer, OpeningScorer):
        return _closing(scorer, ctx, event)
    key = _item_key(scorer, event)
    if key is None:
        return []
    winner = _winner(scorer, key, event)
    if winner is not None:
        what = "账户" if isinstance(scorer, OpeningScorer) else "销售"
        return [Finding("superseded", f"{what} {key} 已由更早的事件 {winner} 计分：同一{what}只计一次", kind)]
    if isinstance(scorer, PayrollScorer):
        waiting = _payroll_waiting(scorer, key, event)
        if waiting is not None:
            return [waiting]
    day = scorer.anchor.get(key)
    if day is None:
        return []
    hit = scorer.cached(key, ctx)
    version = hit.version
    if version is None:
        return [Finding("no_version", f"发生时（{hit.moment:%Y-%m-%d %H:%M}）本活动还没有生效的版本", kind)]
    rule = version.rule(kind)
    if rule is None:
        return [Finding("no_rule", f"v{version.version} 没有{KIND_ZH[kind]}规则", kind, version.version)]
    if day not in version.window:
        return [
            Finding(
                "outside_window",
                f"计分日 {day} 不在活动期 {version.window.start}–{version.window.end} 内",
                kind,
                version.version,
            )
        ]
    if hit.scored is None:
        if isinstance(scorer, PayrollScorer):
            signed = day_of(scorer.signed[key][0])
            return [
                Finding(
                    "signed_outside_window",
                    f"协议 {key} 签约于 {signed}，不在活动期 {version.window.start}–{version.window.end} 内",
                    kind,
                    version.version,
                )
            ]
        return [
            Finding("zero_points", f"v{version.version} 的规则对这一类不计分（0 分）", kind, version.version)
        ]
    agg = scorer.aggregate(day, ctx)
    unit = agg.unit if agg is not None else ctx.unit(day)
    if not version.takes_part(unit.sub_branch_id):
        return [
            Finding(
                "participants",
                f"{day} 当日所属支行 {unit.sub_branch_id or '（未知）'} 不在参赛名单"
                f"（{', '.join(version.participants)}）",
                kind,
                version.version,
            )
        ]
    out = [
        Finding(
            "scored",
            f"按 v{version.version} 计分：{scorer.explain(key, version, rule, hit.scored)}",
            kind,
            version.version,
        )
    ]
    if hit.scored.clawed:
        out.append(Finding("clawed_back", "开户后在扣回期内销户/挪户：积分扣回", kind, version.version))
    out += _day_cuts(book, scorer, day)
    return out


def _payroll_waiting(scorer: PayrollScorer, key: str, event: Envelope) -> Finding | None:
    if key not in scorer.signed:
        return Finding(
            "awaiting_signing", f"协议 {key} 还没有签约事件：签约到达后按首笔入账日计分", "payroll"
        )
    batches = scorer.batches.get(key)
    if not batches:
        return Finding("awaiting_payment", f"协议 {key} 已签约，首笔代发入账后计分", "payroll")
    if isinstance(event, PayrollSigned) and scorer.signed[key][1] != event.event_id:
        return Finding("superseded", f"协议 {key} 以更早的签约事件 {scorer.signed[key][1]} 为准", "payroll")
    if isinstance(event, PayrollPaid) and min(batches.values()).event_id != event.event_id:
        return Finding(
            "later_batch",
            f"协议 {key} 的后续批次：只在人数超过此前最大批次时补计人头分"
            f"（首笔 {min(batches.values()).event_id}）",
            "payroll",
        )
    return None


def _day_cuts(book: Book, scorer: DailyScorer, day: date) -> list[Finding]:
    out = []
    bucket = book.buckets.get(scorer.bucket_of(day))
    prefix = scorer.prefix
    if bucket is not None:
        for (component, _, _), points in bucket.values.items():
            if component == f"{prefix}.multiplier" and points:
                out.append(
                    Finding(
                        "multiplier",
                        f"{day} {bucket.labels.get(component, '倍数')}：{fmt(points)}",
                        scorer.kind,
                    )
                )
            if component == f"{prefix}.daily_cap" and points:
                out.append(
                    Finding(
                        "daily_cap",
                        f"{day} {bucket.labels.get(component, '单日封顶')}：扣减 {fmt(-points)[1:]}",
                        scorer.kind,
                    )
                )
    cap = book.buckets.get(cap_bucket(scorer.kind))
    if cap is not None:
        cut = sum(cap.values.values(), ZERO)
        if cut:
            label = cap.labels.get(f"{prefix}.contest_cap", "活动封顶")
            out.append(
                Finding(
                    "contest_cap",
                    f"{label}：超出部分共扣减 {fmt(-cut)[1:]}（按日期先后计满为止）",
                    scorer.kind,
                )
            )
    return out


def _closing(scorer: OpeningScorer, ctx: Context, event: AccountClosed) -> list[Finding]:
    account = event.data.account_id
    opening = scorer.openings.get(account)
    if opening is None:
        return [Finding("no_opening", f"没有账户 {account} 的开户事件：无可扣回", scorer.kind)]
    version = ctx.at(opening.occurred_at)
    rule = version.rule(scorer.kind) if version is not None else None
    if version is None or rule is None:
        return [Finding("opening_not_scored", f"账户 {account} 的开户在本活动不计分：无可扣回", scorer.kind)]
    if rule.clawback_days is None:
        return [Finding("no_clawback", f"v{version.version} 没有扣回规则", scorer.kind, version.version)]
    if event.data.kind not in rule.clawback_kinds:
        return [
            Finding(
                "kind_not_clawed", f"{event.data.kind.value} 不在扣回类型内", scorer.kind, version.version
            )
        ]
    opened, closed = day_of(opening.occurred_at), day_of(event.occurred_at)
    if event.occurred_at < opening.occurred_at:
        return [
            Finding(
                "closed_before_opening", f"销户时间早于开户（{opened}）：不扣回", scorer.kind, version.version
            )
        ]
    gap = (closed - opened).days
    if gap > rule.clawback_days:
        return [
            Finding(
                "beyond_clawback",
                f"开户 {opened}，销户 {closed}，相隔 {gap} 天，超过扣回期 {rule.clawback_days} 天：不扣回",
                scorer.kind,
                version.version,
            )
        ]
    return [
        Finding(
            "clawback",
            f"开户 {opened} 后 {gap} 天内销户/挪户（扣回期 {rule.clawback_days} 天）："
            f"扣回开户事件 {opening.event_id} 的积分",
            scorer.kind,
            version.version,
        )
    ]


def _deposit(scorer: DepositScorer, ctx: Context, event: Envelope, others: list[Envelope]) -> list[Finding]:
    if not isinstance(event, DepositBalance) or scorer.spec is None:
        return []
    kind, final, spec = scorer.kind, ctx.final, scorer.spec
    d = event.data
    as_of = d.as_of.toordinal()
    later = [
        e.event_id
        for e in others
        if isinstance(e, DepositBalance)
        and e.data.account_id == d.account_id
        and e.data.as_of == d.as_of
        and (e.occurred_at, e.event_id) > (event.occurred_at, event.event_id)
    ]
    if later:
        return [Finding("superseded", f"同一账户同一日期（{d.as_of}）的余额以更晚的 {later[-1]} 为准", kind)]
    if as_of > spec.last:
        return [
            Finding(
                "after_window", f"余额日期 {d.as_of} 在活动期末 {final.window.end} 之后：不影响增量", kind
            )
        ]
    rule = final.rule(kind)
    account = scorer.accounts.get(d.account_id)
    category = account.balance_on(spec.end)[1] if account is not None else None
    weight = rule.weights.get(category, ZERO) if rule is not None and category else ZERO
    if not weight:
        return [
            Finding(
                "zero_weight", f"账户 {d.account_id} 的存款类别（{category}）权重为 0", kind, final.version
            )
        ]
    if as_of <= spec.baseline:
        return [
            Finding(
                "baseline", f"余额日期 {d.as_of} 在基数日或之前：作为该账户的增量基数", kind, final.version
            )
        ]
    unit = ctx.org.unit_on(d.as_of)
    if not final.takes_part(unit.sub_branch_id):
        return [
            Finding(
                "participants",
                f"{d.as_of} 当日所属支行 {unit.sub_branch_id or '（未知）'} 不在参赛名单："
                "这一天的余额变动不计分（参赛资格按余额日逐日判断）",
                kind,
                final.version,
            )
        ]
    measure = "时点" if spec.measure == POINT_IN_TIME else "日均"
    return [
        Finding(
            "deposit", f"计入账户 {d.account_id} 的存款增量（{measure}，权重 {weight}）", kind, final.version
        )
    ]


def _scorecard(ctx: Context, event: Envelope, state: ParticipantState) -> list[Finding]:
    final = ctx.final
    rule = final.rule("scorecard")
    if rule is None:
        return []
    periods = [("本期", final.window.start, final.window.end)]
    if rule.previous_period is not None:
        periods.append(("上期", rule.previous_period.start, rule.previous_period.end))
    if isinstance(event, DepositBalance):
        day = event.data.as_of
        hit = [n for n, s, e in periods if s.toordinal() - 1 <= day.toordinal() <= e.toordinal()]
    else:
        day = day_of(event.occurred_at)
        hit = [n for n, s, e in periods if s <= day <= e]
    if isinstance(event, PayrollSigned):
        return [
            Finding(
                "scorecard_signing",
                "签约本身不限日期：协议在首笔代发入账日所在的考核期计数（签约在期前、首笔入账在期内也算）",
                "scorecard",
                final.version,
            )
        ]
    if not hit:
        spans = "；".join(f"{n} {s}–{e}" for n, s, e in periods)
        return [Finding("scorecard_outside", f"{day} 不在考核期内（{spans}）", "scorecard", final.version)]
    unit = ctx.unit(final.window.end)
    if not final.takes_part(unit.sub_branch_id):
        return [
            Finding(
                "participants",
                f"考核期末 {final.window.end} 所属支行 {unit.sub_branch_id or '（未知）'} 不在参赛名单",
                "scorecard",
                final.version,
            )
        ]
    dims = {
        CustomerAssigned: "管户数",
        DepositBalance: "存款增量",
        PayrollPaid: "代发工资协议（以首笔入账日为准）",
        ProductSold: "产品销售",
    }
    what = next((v for t, v in dims.items() if isinstance(event, t)), event.type)
    return [Finding("scorecard", f"计入{'、'.join(hit)}的{what}指标", "scorecard", final.version)]


__all__ = ["Finding", "Verdict", "explain_event"]
