"""The worker's one faust task: it runs the pipeline (streams/worker.py) while faust runs the app."""

from streams import gc_tuning
from streams.app import app, settings
from streams.health import serve
from streams.worker import Worker

worker = Worker(settings)


@app.task  # type: ignore[untyped-decorator]
async def run_pipeline() -> None:
    gc_tuning.tune()  # the app is built: what exists now lives as long as the process
    runner = await serve(worker, settings.health_port, settings.health_host) if settings.health_port else None
    try:
        await worker.run()
    finally:
        if runner is not None:
            await runner.cleanup()


__all__ = ["app", "run_pipeline", "worker"]
