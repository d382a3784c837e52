"""The worker's one faust task: it runs the pipeline (streams/worker.py) while faust runs the app."""

from streams.app import app, settings
from streams.worker import Worker

worker = Worker(settings)


@app.task  # type: ignore[untyped-decorator]
async def run_pipeline() -> None:
    await worker.run()


__all__ = ["app", "run_pipeline", "worker"]
