"""`python -m services.sink`: run the ledger sink until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from services.settings import ServiceSettings
from services.sink.runner import run
from services.store import Store
from streams import gc_tuning


async def _main() -> None:
    settings = ServiceSettings()
    store = Store.from_url(settings.database_url)
    store.create_schema()
    gc_tuning.tune()  # started: from here on the loop allocates per ledger entry
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await run(settings, store, stop)
    finally:
        store.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(_main())


if __name__ == "__main__":
    main()
