"""`python -m services.api`: serve the API on the configured loopback address."""

from __future__ import annotations

import uvicorn

from services.api.app import create_app
from services.settings import ServiceSettings


def main() -> None:
    settings = ServiceSettings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="info")


if __name__ == "__main__":
    main()
