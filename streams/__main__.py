"""`python -m streams worker -l info`: creates the topics, then runs the faust worker."""

from __future__ import annotations

import asyncio
import sys

from streams.admin import BrokerUnavailable, ensure_topics
from streams.agents import app
from streams.app import settings, topics


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        try:
            asyncio.run(ensure_topics(settings.kafka_bootstrap, topics, settings.partitions))
        except BrokerUnavailable as exc:
            sys.exit(f"worker: {exc}")
        if not any(arg.startswith("--with") for arg in sys.argv):
            # faust's CLI turns its web server on by default, on 0.0.0.0:6066; several workers on
            # one machine would collide and nothing here serves pages from the worker.
            sys.argv.append("--without-web")
    app.main()


if __name__ == "__main__":
    main()
