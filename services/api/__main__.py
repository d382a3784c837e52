"""`python -m services.api`: serve the API on the configured loopback address."""

from __future__ import annotations

import uvicorn

from services.api.app import create_app
from services.api.log_redaction import log_config
from services.settings import ServiceSettings
from streams import gc_tuning

SHUTDOWN_GRACE_SECONDS = 3


def main() -> None:
    settings = ServiceSettings()
    app = create_app(settings)
    # Here, not in the app's lifespan: tests build many apps in one process, and a frozen heap
    # there would keep each one's garbage for good.
    gc_tuning.tune()
    # Open SSE streams never end by themselves: without a limit, SIGTERM waits for every wall
    # screen to hang up. After it, the streams are cancelled and the screens resume elsewhere.
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level="info",
        log_config=log_config(),  # tokens and keys cut out of the access log (log_redaction.py)
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


if __name__ == "__main__":
    main()
