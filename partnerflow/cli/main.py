"""The `partnerflow` command."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from partnerflow.cli.migration import migrate_app
from partnerflow.cli.recruitment import campaigns_app, prospects_app
from partnerflow.cli.webinars import webinars_app
from partnerflow.config import Settings

app = typer.Typer(help="Partnerflow: durable partner-program workflows.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
terms_app = typer.Typer(help="Versioned partner terms.", no_args_is_help=True)
app.add_typer(terms_app, name="terms")
app.add_typer(webinars_app, name="webinars")
app.add_typer(migrate_app, name="migrate")
app.add_typer(prospects_app, name="prospects")
app.add_typer(campaigns_app, name="campaigns")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where local state lives (default .partnerflow).")
]


def _settings(data_dir: Path | None = None) -> Settings:
    settings = Settings()
    if data_dir is not None:
        settings.data_dir = data_dir
    return settings


def _exit_without_finalizing() -> None:
    """Exit 0 after a clean stop, skipping interpreter finalization.

    The Temporal SDK's native threads can outlive the event loop and abort the interpreter
    while it finalizes ("PyGILState_Release ... finalizing", temporalio/sdk-python#300), turning
    a clean SIGTERM into exit code 134. Everything is stopped and flushed by now.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _logging(settings: Settings) -> None:
    """Text or JSON lines (PARTNERFLOW_LOG_FORMAT), with ids, secrets masked."""
    from partnerflow.observability.logs import configure_logging

    configure_logging(settings)


@app.command()
def dev(
    data_dir: DataDir = None,
    api_port: Annotated[int, typer.Option(help="API port.")] = 8000,
    temporal_port: Annotated[int, typer.Option(help="Temporal gRPC port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal web UI port.")] = 8233,
    demo: Annotated[
        bool, typer.Option(help="Create a demo program (terms, a resource, a webinar) if none is set up.")
    ] = True,
) -> None:
    """Run everything locally: Temporal dev server, worker and API, on embedded defaults."""
    from partnerflow.cli.dev import run_dev

    settings = _settings(data_dir)
    _logging(settings)
    asyncio.run(run_dev(settings, api_port, temporal_port, ui_port, demo))
    _exit_without_finalizing()


@app.command()
def worker() -> None:
    """Run a worker against the configured Temporal address and database (production)."""
    from partnerflow.observability import tracing
    from partnerflow.observability.runtime import worker_runtime
    from partnerflow.services.temporal import connect
    from partnerflow.store.db import make_engine
    from partnerflow.worker import run_worker

    settings = _settings()
    _logging(settings)
    provider = tracing.setup_tracing("partnerflow-worker")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        engine = make_engine(settings.effective_database_url)
        interceptors = tracing.temporal_interceptors(provider)
        try:
            client = await connect(settings, worker_runtime(settings), interceptors)
            await run_worker(client, settings, engine, stop)
        finally:
            engine.dispose()
            if provider:
                provider.shutdown()  # flush the last spans

    asyncio.run(main())
    _exit_without_finalizing()


@app.command()
def api(
    host: Annotated[str, typer.Option(help="Bind address.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Run the HTTP API against the configured Temporal address and database (production)."""
    from partnerflow.api.main import create_app
    from partnerflow.observability.tracing import setup_tracing

    settings = _settings()
    _logging(settings)
    app = create_app(settings, tracer_provider=setup_tracing("partnerflow-api"))
    # log_config=None: uvicorn's own and access logs go through our handler (format, ids, redaction).
    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_config=None)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, revision: str = "head") -> None:
    """Apply the Alembic migrations to the configured database."""
    from partnerflow.store.db import make_engine, upgrade

    settings = _settings(data_dir)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, revision)
    typer.echo(f"database at {settings.effective_database_url} is at {revision}")


def _with_services(work):  # type: ignore[no-untyped-def]
    """Run ``work(engine, client, settings)`` against the configured database and Temporal."""
    from partnerflow.services.temporal import connect
    from partnerflow.store.db import make_engine

    settings = _settings()

    async def main():  # type: ignore[no-untyped-def]
        engine = make_engine(settings.effective_database_url)
        try:
            return await work(engine, await connect(settings), settings)
        finally:
            engine.dispose()

    return asyncio.run(main())


@terms_app.command("publish")
def terms_publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Markdown file.")],
    program: Annotated[str, typer.Option(help="Program id.")] = "default",
    title: Annotated[str, typer.Option(help="Title shown to partners.")] = "Partner terms",
    by: Annotated[str, typer.Option(help="Who publishes (audit).")] = "cli",
) -> None:
    """Publish a new terms version; partners who accepted an older one are asked to re-accept."""
    from partnerflow.services import onboarding as operations

    body = file.read_text(encoding="utf-8")
    terms, told = _with_services(
        lambda engine, client, settings: operations.publish_terms(
            engine, client, settings, program, title, body, by
        )
    )
    typer.echo(f"published {program} terms version {terms.version}; {told} partner workflows told")


if __name__ == "__main__":
    app()
