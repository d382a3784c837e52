"""`python -m services.notify`: the 企业微信 notifier, until SIGTERM (docs/notifications.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from services.notify.sender import Notifier, http_post
from services.settings import ServiceSettings
from services.store import Store
from streams.pipeline import fault

log = logging.getLogger("services.notify")


async def _main() -> None:
    settings = ServiceSettings()
    store = Store.from_url(settings.database_url)
    store.create_schema()
    fault.arm(settings.fault)
    post, close = http_post(settings.notify_timeout_seconds)
    notifier = Notifier(store, post, per_minute=settings.notify_per_minute)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("notify: ready", flush=True)
    try:
        while not stop.is_set():
            try:
                await notifier.tick()
            except Exception:  # the database away, say: log it and try again next tick
                log.exception("notify: tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.notify_poll_seconds)
    finally:
        await close()
        store.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # httpx logs each request's URL at INFO: a robot's URL carries its key, a secret.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(_main())


if __name__ == "__main__":
    main()
