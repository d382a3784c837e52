"""The notifier's plain parts: the rate limit on an injected clock, digests, the retry delay, the
rank, badge and challenge news and their keys, a robot's settings and its masked URL."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from services.notify.config import ConfigError, checked, masked
from services.notify.digest import CONTENT_LIMIT, HEADER, RESENT, Item, pack, render, retry_delay, tag
from services.notify.limiter import SlidingWindow
from services.notify.messages import Reward, Standing, badge_notices, challenge_notices, rank_notices


def test_the_window_never_lets_more_than_the_limit_through_in_any_minute() -> None:
    limit = SlidingWindow(20, 60.0)
    rng = random.Random(3)
    now, sent = 0.0, []
    while now < 600:
        if limit.wait(now) == 0 and rng.random() < 0.8:
            limit.take(now)
            sent.append(now)
        now += rng.choice([0.1, 0.5, 1.0, 3.0])
    assert len(sent) > 150  # it does send: about 20 a minute for ten minutes
    for i, start in enumerate(sent):
        assert sum(1 for t in sent[i:] if t < start + 60.0) <= 20


def test_the_wait_is_until_the_oldest_post_of_the_minute_leaves_it() -> None:
    limit = SlidingWindow(3, 60.0)
    for at in (0.0, 10.0, 20.0):
        assert limit.wait(at) == 0
        limit.take(at)
    assert limit.wait(30.0) == 30.0
    with pytest.raises(RuntimeError):
        limit.take(30.0)
    assert limit.wait(60.0) == 0  # the POST at 0 is a minute old
    seeded = SlidingWindow(2, 60.0)
    seeded.seed([5.0, 1.0])  # a restarted notifier: its last minute's POSTs, from the outbox
    assert seeded.wait(30.0) == 31.0


def test_a_backlog_goes_out_as_few_digests_within_the_size_limit() -> None:
    items = [Item(f"k{i}", f"🏅 竞赛：**经理{i}** 升至第 **{i}** 名（{i}0.00 分）") for i in range(200)]
    digests = pack(items)
    assert 2 <= len(digests) <= 8
    assert [i for d in digests for i in d] == items  # all, in order, once
    for d in digests:
        assert len(render(d, resent=True).encode()) <= CONTENT_LIMIT
    single = pack([Item("k", "长" * 5000)])
    assert len(single) == 1 and len(render(single[0], resent=True).encode()) <= CONTENT_LIMIT
    body = render(items[:2], resent=True)
    assert body.startswith(HEADER + RESENT) and tag("k0") in body and tag("k1") in body
    assert tag("k0") != tag("k1") and len(tag("k0")) == 9


def test_retries_back_off_to_a_cap() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert retry_delay(30) == 300.0


def row(unit: str, rank: int, points: str, at: int) -> Standing:
    return Standing(unit, rank, Decimal(points), at)


def test_rank_news_is_a_rise_in_or_into_the_top_n_keyed_by_what_it_announces() -> None:
    top = [row("a", 1, "50.00", 9), row("b", 2, "40.00", 5), row("c", 3, "30.00", 7)]
    assert rank_notices("c1", "竞赛", None, top, 3) == []  # the first look is a baseline
    found = rank_notices("c1", "竞赛", {"b": 1, "a": 2, "d": 3}, top, 3, {"a": "张伟"})
    assert [n.key for n in found] == ["rank:c1:a:1:9", "rank:c1:c:3:7"]
    assert "**张伟** 从第 2 名升至第 **1** 名（50.00 分）" in found[0].text
    assert "**c** 进入前 3 名，现居第 **3** 名" in found[1].text
    # the same standings found again (a restart) give the same keys: the outbox keeps one
    assert [n.key for n in rank_notices("c1", "竞赛", {"b": 1, "a": 2, "d": 3}, top, 3)] == [
        n.key for n in found
    ]


def test_a_robot_setting_is_checked_and_its_url_never_shown_whole() -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"
    assert checked(url, 5, ["rank", "award", "rank"], True).kinds == ("rank", "award")
    shown = masked(url)
    assert shown == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a…5aaa"
    assert "7aoc" not in shown
    for bad, field in [
        (("ftp://x/y", 5, ["rank"]), "webhook_url"),
        (("http://example.com/hook", 5, ["rank"]), "webhook_url"),
        ((url, 0, ["rank"]), "top_n"),
        ((url, 5, ["rank", "fireworks"]), "kinds"),
        ((url, 5, []), "kinds"),
    ]:
        with pytest.raises(ConfigError) as refused:
            checked(*bad, True)  # type: ignore[arg-type]
        assert refused.value.field == field


def _reward(cm: str, n: int, at: int, *, award: bool = True, component: str = "challenge") -> Reward:
    return Reward(f"{cm}-{n}-{award}", cm, component, "week", "开门红周", award, n, at)


def test_badge_news_is_one_notice_per_award_and_a_revoke_is_not_news() -> None:
    rewards = [
        Reward("e1", "cm-a", "badge", "first", "本月首个基本户", True, 1, 10),
        Reward("e2", "cm-a", "badge", "first", "本月首个基本户", False, 1, 20),
    ]
    found = badge_notices("c1", "2月竞赛", rewards, {"cm-a": "张伟"})
    assert [(n.key, n.text) for n in found] == [
        ("badge:c1:e1", "🏅 2月竞赛：**张伟** 获得徽章「本月首个基本户」")
    ]


def test_challenge_winners_in_the_order_they_reached_the_goal_a_revoked_one_out() -> None:
    rewards = [
        _reward("cm-b", 1, 200),
        _reward("cm-a", 1, 200),  # the same moment as cm-b: the id decides
        _reward("cm-c", 1, 100),
        _reward("cm-c", 1, 300, award=False),  # cm-c's reason clawed back...
        _reward("cm-d", 1, 400),
        _reward("cm-e", 1, 500),
        _reward("cm-f", 1, 50),  # ...and cm-f's too, then earned again later
        _reward("cm-f", 1, 60, award=False),
        _reward("cm-f", 2, 600),
    ]
    found = challenge_notices("c1", "2月竞赛", list(reversed(rewards)), {"week": 3})
    assert [n.key for n in found] == [
        "challenge:c1:week:cm-a",
        "challenge:c1:week:cm-b",
        "challenge:c1:week:cm-d",
    ]
    assert found[0].text == "🏆 2月竞赛：**cm-a** 第 1 位达成挑战「开门红周」"
