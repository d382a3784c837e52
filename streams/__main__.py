"""`python -m streams worker -l info`: creates the topics, checks their partition layout
(streams/layout/guard.py), then runs the faust worker."""

from __future__ import annotations

import asyncio
import sys

from streams.admin import BrokerUnavailable, ensure_topics
from streams.agents import app
from streams.app import settings, topics
from streams.layout import LayoutChanged, guard, setting_ignored


async def _prepare() -> None:
    """Create missing topics, then refuse to run on topics whose partition count changed."""
    await ensure_topics(settings.kafka_bootstrap, topics, settings.partitions, settings.replication)
    layout = await guard(settings.kafka_bootstrap, topics)
    ignored = setting_ignored(settings.partitions, layout, topics.validated)
    if ignored:
        print(f"worker: {ignored}", file=sys.stderr, flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        try:
            asyncio.run(_prepare())
        except (BrokerUnavailable, LayoutChanged) as exc:
            sys.exit(f"worker: {exc}")
        if not any(arg.startswith("--with") for arg in sys.argv):
            # faust's CLI turns its web server on by default, on 0.0.0.0:6066; several workers on
            # one machine would collide and nothing here serves pages from the worker.
            sys.argv.append("--without-web")
    app.main()


if __name__ == "__main__":
    main()
