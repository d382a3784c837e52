"""`python -m streams.layout show`: each topic's partition count, recorded and actual.
`python -m streams.layout grow --partitions N --to-prefix NEW`: copy into a new topic set with N
partitions (streams/layout/grow.py); the procedure around it is in docs/operations.md.

The source set, broker and replication come from the settings (CAMPAIGNS_TOPIC_PREFIX, ...)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from schemas.topics import Topics
from streams.admin import BrokerUnavailable
from streams.layout.grow import GrowRefused, grow
from streams.layout.guard import LayoutChanged, actual_layout, recorded_layout
from streams.settings import SharedSettings


async def show(settings: SharedSettings) -> int:
    topics = settings.topics
    recorded = await recorded_layout(settings.kafka_bootstrap, topics)
    actual = await actual_layout(settings.kafka_bootstrap, topics)
    differ = 0
    print(f"{'topic':<40} {'recorded':>8} {'actual':>8}")
    for name in topics.partitioned():
        was, now = recorded.get(name), actual.get(name)
        mark = "" if was is None or was == now else "  <- differs"
        differ += bool(mark)
        print(f"{name:<40} {was if was is not None else '-':>8} {now if now is not None else '-':>8}{mark}")
    return 1 if differ else 0


async def run_grow(settings: SharedSettings, partitions: int, to_prefix: str) -> int:
    target = Topics(to_prefix)
    grown = await grow(settings.kafka_bootstrap, settings.topics, target, partitions, settings.replication)
    print(
        f"copied into {target.validated} ({grown.partitions} partitions): {grown.events} events, "
        f"{grown.competitions} competition records, {grown.org} org records, "
        f"{grown.control_records} re-score orders on every partition.\n"
        f"Start the workers with CAMPAIGNS_TOPIC_PREFIX={to_prefix} and a new CAMPAIGNS_APP_ID."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streams.layout")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("show", help="each topic's partition count, recorded and actual")
    grow_cmd = commands.add_parser("grow", help="copy into a new topic set with more partitions")
    grow_cmd.add_argument("--partitions", type=int, required=True)
    grow_cmd.add_argument("--to-prefix", required=True, help="the new topic set's CAMPAIGNS_TOPIC_PREFIX")
    args = parser.parse_args(argv)
    settings = SharedSettings()
    try:
        if args.command == "show":
            return asyncio.run(show(settings))
        return asyncio.run(run_grow(settings, args.partitions, args.to_prefix))
    except (BrokerUnavailable, LayoutChanged, GrowRefused) as exc:
        print(f"layout: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
